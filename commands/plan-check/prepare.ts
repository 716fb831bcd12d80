// The stack's working folder for plan-check, in its three modes: offline (data sources pinned, the state adapted
// to the mirror's provider), online against a snapshot (a local copy as the backend), online on the real backend.

import * as fs from "fs";
import * as path from "path";
import { EnvironmentConfig } from "../../config/environment";
import { backendLocation } from "../../stacks/isolation";
import { CliIo, InputError } from "../../lib/cli";
import { Terraform, Timings, init, pullState } from "../../lib/plan/run";
import { Json, PinSource, RawState, SchemaSummary, Unplannable, Workspace, adaptState, copyStackAssets, prepareHclWorkspace, prepareStackWorkspace } from "../../lib/plan/workspace";
import type { Options } from "./index";
import { checkStateFits, missingMessage } from "./inputs";
import { progress } from "./progress";
import { initOnce, schemaSummary } from "./terraform";

/** What the three ways of preparing the stack's working folder share. */
export interface Where {
  o: Options;
  io: CliIo;
  config: EnvironmentConfig;
  tf: Terraform;
  timings: Timings;
  p: ReturnType<typeof progress>;
  stackJson: Record<string, Json>;
  stackOut: string;
  outDirReal: string;
  modulesDir: string;
}

/** The stack's working folder, ready to plan, and the state it is planned against. */
export interface Prepared {
  stackDir: string;
  adaptations: string[];
  pins: Workspace["pins"];
  stateUsed: RawState | null;
  schema?: SchemaSummary;
  unplannable: Unplannable[];
  /** The HCL root's offline working folder, when --against-hcl. */
  hclWs?: Workspace;
}

/** What an offline run found: the toolchain, and the inputs the working folders pin values from. */
export interface Offline {
  awsVersion: string;
  platform: string;
  terraformVersion: string;
  /** A note for the report on how the provider was loaded, if any. */
  providerNote?: string;
  /** Where the provider schema is cached. */
  cacheDir: string;
  source: PinSource;
  snapshot: RawState | null;
  /** --data's values (or the environment's planCheck.data), and the file they came from. */
  data: Record<string, unknown>;
  dataFile?: string;
  hclRoot?: { dir: string };
  /** When the preparation began (timings.prepare is the time not spent in init or the schema). */
  started: number;
}

/**
 * Offline, before the output folder is opened (nothing written): every value to pin is recorded, each fits
 * what the configuration reads, every --data entry pins something, every module the stack calls is there.
 */
export function checkPins(
  w: Pick<Where, "o" | "io" | "stackJson" | "modulesDir">,
  r: Pick<Offline, "awsVersion" | "source" | "data" | "dataFile" | "hclRoot">,
): void {
  const { o, io, stackJson, modulesDir } = w;
  const { awsVersion, source, data, dataFile, hclRoot } = r;
  const ws = prepareStackWorkspace({ config: stackJson, modulesDir, awsVersion, source });
  const hclWs = hclRoot ? prepareHclWorkspace({ hclDir: hclRoot.dir, awsVersion, source }) : undefined;
  const missing = [...new Set([...ws.missing, ...(hclWs?.missing ?? [])])];
  if (missing.length) throw new InputError(missingMessage(missing, o));
  const problems = [...new Set([...ws.problems, ...(hclWs?.problems ?? [])])];
  if (problems.length === 1) throw new InputError(`${problems[0]}: the value does not fit what the configuration reads`);
  if (problems.length) throw new InputError(`the pinned values do not fit what the configuration reads:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  const used = new Set([...ws.pins, ...(hclWs?.pins ?? [])].filter((p) => p.from === "--data").map((p) => p.recordedAs));
  const unused = Object.keys(data).filter((k) => !used.has(k));
  if (unused.length) {
    throw new InputError(
      `${o.data ? `--data ${o.data}` : `planCheck.data of stack '${o.stack}' (${path.relative(io.cwd, dataFile!) || dataFile})`}: ${unused.length} entr${unused.length > 1 ? "ies match" : "y matches"} nothing this run pins: ${unused.join(", ")} ` +
        `(pinned here: ${[...new Set([...ws.pins, ...(hclWs?.pins ?? [])].map((p) => p.recordedAs))].sort().join(", ") || "nothing"}); remove ${unused.length > 1 ? "them" : "it"} or correct the address`,
    );
  }
}

/** Online against a snapshot, before anything is written: every module the stack calls is in the modules folder. */
export function checkModules(stackJson: Record<string, Json>, modulesDir: string): void {
  for (const [name, block] of Object.entries((stackJson.module ?? {}) as Record<string, { source?: string }>)) {
    const from = path.join(modulesDir, path.basename(block.source ?? name));
    if (!fs.existsSync(from)) throw new InputError(`module ${name}: no HCL module at ${from} (see --modules)`);
  }
}

/** Offline: both working folders (their values checked by checkPins before the folder opened), then init, the schema, the adapted state. */
export async function prepareOffline(w: Where, r: Offline): Promise<Prepared> {
  const { tf, timings, p, stackJson, stackOut, outDirReal, modulesDir } = w;
  const { awsVersion, platform, terraformVersion, providerNote, cacheDir, snapshot, hclRoot } = r;
  const ws = p.stepSync("offline working folder of the stack (data sources pinned)", () =>
    prepareStackWorkspace({ config: stackJson, modulesDir, dir: path.join(outDirReal, "stack"), awsVersion, source: r.source, stackDir: stackOut }),
  );
  const hclWs = hclRoot
    ? p.stepSync("offline working folder of the HCL root (data sources pinned)", () =>
        prepareHclWorkspace({ hclDir: hclRoot.dir, dir: path.join(outDirReal, "hcl"), awsVersion, source: r.source }),
      )
    : undefined;
  const stackDir = ws.dir;
  await initOnce(tf, ws, terraformVersion, timings, p);
  const schema = await schemaSummary(tf, stackDir, cacheDir, awsVersion, platform, timings);
  const adapted = adaptState(snapshot, ws.pins, r.source.installed, schema, terraformVersion);
  fs.writeFileSync(path.join(stackDir, "terraform.tfstate"), JSON.stringify(adapted.state, null, 1), { mode: 0o600 });
  timings.prepare = Date.now() - r.started - (timings.init ?? 0) - (timings.schema ?? 0);
  return {
    stackDir,
    adaptations: [...ws.adaptations, ...(providerNote ? [providerNote] : []), ...adapted.adaptations],
    pins: ws.pins,
    stateUsed: adapted.state,
    schema,
    unplannable: adapted.unplannable,
    hclWs,
  };
}

/** Online against a snapshot: the synthesized stack with the HCL modules where they are, its backend a local copy of the snapshot. */
export async function prepareFromSnapshot(w: Where, snapshot: RawState): Promise<Prepared> {
  const { tf, timings, stackJson, stackOut, outDirReal, modulesDir } = w;
  const stackDir = path.join(outDirReal, "stack");
  fs.mkdirSync(stackDir, { recursive: true, mode: 0o700 });
  const copy = structuredClone(stackJson) as any;
  delete copy.terraform.backend;
  for (const [name, block] of Object.entries<any>(copy.module ?? {})) block.source = path.join(modulesDir, path.basename(block.source ?? name));
  fs.writeFileSync(path.join(stackDir, "cdk.tf.json"), JSON.stringify(copy, null, 2));
  copyStackAssets(copy, stackOut, stackDir);
  fs.writeFileSync(path.join(stackDir, "terraform.tfstate"), JSON.stringify(snapshot), { mode: 0o600 });
  await init(tf, stackDir, timings);
  return { stackDir, adaptations: ["backend replaced by a local copy of the snapshot"], pins: [], stateUsed: snapshot, unplannable: [] };
}

/** Online against the real backend, as cdktf diff uses it (plan -lock=false, never apply); its state read to see which moved blocks must show as moves. */
export async function prepareOnBackend(w: Where): Promise<Prepared> {
  const { o, io, config, tf, timings, stackOut } = w;
  await init(tf, stackOut, timings);
  const stateUsed = await pullState(tf, stackOut, timings); // read-only
  const where = backendLocation(path.resolve(io.cwd, "cdktf.out"), o.stack, config.backend);
  checkStateFits(o.stack, config, stateUsed, stateUsed ? `the backend's state ${where}` : `the backend's state ${where}, which does not exist`);
  return { stackDir: stackOut, adaptations: [], pins: [], stateUsed, unplannable: [] };
}
