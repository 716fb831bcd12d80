// Pinning what an offline plan cannot read: data sources that call AWS and resources of
// providers not installed become values (the snapshot's, or --data's) in a local the
// configuration reads; and the check that what it reads of them fits (see ./index.ts).
import * as fs from "fs";
import * as path from "path";
import { InputError } from "../../cli";
import { BlockHeader, dropRequiredProvider, removeBlocks, replaceReference, requiredProviderNames, topLevelBlocks } from "../../hcl-text";
import { Json, LOCAL_DATA_SOURCES, PINNED_FILE, PINNED_LOCAL, Pin, PinSource, RawResource, RawState, Workspace, full, providerOf } from "./model";

// ---------------------------------------------------------------- values

export function stateResource(state: RawState | null, address: string): RawResource | undefined {
  if (!state) return undefined;
  const m = /^((?:module\.[^.[\]]+(?:\[[^\]]+\])?\.)*)(data\.)?([^.]+)\.([^.[]+)$/.exec(address);
  if (!m) return undefined;
  const module = m[1].replace(/\.$/, "");
  const mode = m[2] ? "data" : "managed";
  return state.resources.find(
    (r) => (r.module ?? "") === module && r.mode === mode && r.type === m[3] && r.name === m[4],
  );
}

/** The value a reference to the resource evaluates to: an object, or a list (count) or map (for_each) of them. */
export function valueOf(resource: RawResource): Json | undefined {
  const current = resource.instances.filter((i) => !i.deposed);
  if (current.length === 0) return undefined;
  if (current.length === 1 && current[0].index_key === undefined) return current[0].attributes ?? {};
  if (current.every((i) => typeof i.index_key === "number")) {
    return [...current].sort((x, y) => (x.index_key as number) - (y.index_key as number)).map((i) => i.attributes ?? {});
  }
  return Object.fromEntries(current.map((i) => [String(i.index_key), i.attributes ?? {}]));
}

/** --data first (what the snapshot lacks, or holds redacted), then the snapshot. */
export function lookup(source: PinSource, address: string): { value: Json; from: Pin["from"]; recordedAs: string } | undefined {
  const addresses = [address, source.alias(address)].filter((a): a is string => a !== undefined);
  for (const a of addresses) {
    if (Object.prototype.hasOwnProperty.call(source.data, a)) return { value: source.data[a], from: "--data", recordedAs: a };
  }
  for (const a of addresses) {
    const r = stateResource(source.snapshot, a);
    const v = r && valueOf(r);
    if (v !== undefined) return { value: v, from: "snapshot", recordedAs: a };
  }
  return undefined;
}

// ---------------------------------------------------------------- what the configuration reads of a pinned value

const kindOf = (v: Json | undefined) => (v === null ? "null" : Array.isArray(v) ? "a list" : typeof v === "object" ? "an object" : `a ${typeof v}`);

/**
 * Checks each reference to a pinned value in `text` (`local.plan_check_pinned["data.aws_vpc.existing"].cidr_block`)
 * against the value: an attribute it lacks, or a value of another shape, would
 * be Terraform's error pointing into the copied configuration, naming neither
 * the entry nor its source. Literal steps only (`.name`, `[0]`, `["key"]`).
 */
export function pinnedReferenceProblems(text: string, values: Readonly<Record<string, Json>>, pins: readonly Pin[], where: string): string[] {
  const problems = new Set<string>();
  const ref = /local\.plan_check_pinned\["([^"]+)"\]((?:\.[A-Za-z_][\w-]*|\[\d+\]|\["[^"]*"\])*)/g;
  for (const m of text.matchAll(ref)) {
    const local = m[1];
    if (!Object.prototype.hasOwnProperty.call(values, local)) continue;
    const pin = pins.find((p) => p.address === local || p.address.endsWith(`.${local}`));
    const entry = pin?.from === "--data" ? `--data entry '${pin.recordedAs}'` : `the snapshot's value of '${pin?.recordedAs ?? local}'`;
    let v: Json | undefined = values[local];
    let read = local;
    for (const step of m[2].match(/\.[A-Za-z_][\w-]*|\[\d+\]|\["[^"]*"\]/g) ?? []) {
      const at = read === local ? "" : ` at ${read}`;
      if (step.startsWith("[") && !step.startsWith('["')) {
        if (!Array.isArray(v)) {
          problems.add(`${entry} is ${kindOf(v)}${at}, but ${where} reads ${read}${step}: give a list (one object per count index)`);
          break;
        }
        const n = Number(step.slice(1, -1));
        if (n >= v.length) {
          problems.add(`${entry} has ${v.length} item(s)${at}, but ${where} reads ${read}${step}`);
          break;
        }
        v = v[n];
      } else {
        const attribute = step.startsWith(".") ? step.slice(1) : step.slice(2, -2);
        if (v === null || typeof v !== "object" || Array.isArray(v)) {
          problems.add(`${entry} is ${kindOf(v)}${at}, but ${where} reads ${read}${step}: give the attributes as an object`);
          break;
        }
        if (!Object.prototype.hasOwnProperty.call(v, attribute)) {
          problems.add(`${entry} has no attribute '${attribute}'${at}, which ${where} reads (${read}${step})`);
          break;
        }
        v = v[attribute];
      }
      read += step;
    }
  }
  return [...problems];
}

/** Every string in a JSON value (the synthesized configuration's expressions). */
export function strings(v: Json): string[] {
  if (typeof v === "string") return [v];
  if (Array.isArray(v)) return v.flatMap(strings);
  if (v && typeof v === "object") return Object.values(v).flatMap(strings);
  return [];
}

export const pinnedRef = (local: string) => `local.${PINNED_LOCAL}[${JSON.stringify(local)}]`;

export interface UnitPins {
  /** Local address (`data.aws_ami.ubuntu`) → value. */
  readonly values: Record<string, Json>;
}

export function pin(source: PinSource, ws: Workspace, unit: UnitPins, modulePath: string, local: string, kind: Pin["kind"]): void {
  const address = full(modulePath, local);
  const found = lookup(source, address);
  if (!found) {
    ws.missing.push(address);
    return;
  }
  unit.values[local] = found.value;
  ws.pins.push({ address, kind, from: found.from, recordedAs: found.recordedAs });
}

export function needsPin(kind: "data" | "resource", type: string, installed: ReadonlySet<string>): boolean {
  if (!installed.has(providerOf(type))) return true;
  return kind === "data" && !LOCAL_DATA_SOURCES.has(type);
}

// ---------------------------------------------------------------- HCL directories

const isLocalSource = (s: string) => s.startsWith("./") || s.startsWith("../");

export function copyDir(from: string, to: string): void {
  fs.cpSync(from, to, {
    mode: fs.constants.COPYFILE_FICLONE,
    recursive: true,
    filter: (src) => {
      const base = path.basename(src);
      return base !== ".terraform" && !base.endsWith(".tfstate") && !base.endsWith(".tfstate.backup") && base !== ".terraform.lock.hcl";
    },
  });
  // The copy is edited and later removed: owner-writable, whatever the source's modes.
  const writable = (p: string) => {
    const st = fs.statSync(p);
    fs.chmodSync(p, st.mode | 0o200);
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) writable(path.join(p, e));
  };
  writable(to);
}

/**
 * Pins the data sources and uninstalled-provider resources of the HCL
 * module in `dir` (already a copy), and of the local modules it calls.
 * With `write` false, `dir` is read in place and nothing is written: only
 * the pins, what is missing and what does not fit are recorded in `ws`.
 */
export function pinHclDir(dir: string, modulePath: string, source: PinSource, ws: Workspace, root: string, write = true): void {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".tf") && !f.startsWith("plan_check_"));
  if (fs.readdirSync(dir).some((f) => f.endsWith(".tf.json"))) {
    throw new InputError(`${dir}: .tf.json files in an HCL module are not supported by plan-check's offline mode`);
  }
  const unit: UnitPins = { values: {} };
  const texts = new Map<string, string>();
  const calls: { name: string; source: string }[] = [];
  const uninstalled = new Set<string>();
  for (const f of files) {
    const text = fs.readFileSync(path.join(dir, f), "utf8");
    const remove: BlockHeader[] = [];
    for (const b of topLevelBlocks(text)) {
      const [type, name] = b.labels;
      if (b.kind === "data" && needsPin("data", type, source.installed)) {
        pin(source, ws, unit, modulePath, `data.${type}.${name}`, "data source");
        remove.push(b);
      } else if (b.kind === "resource" && needsPin("resource", type, source.installed)) {
        pin(source, ws, unit, modulePath, `${type}.${name}`, "resource");
        uninstalled.add(providerOf(type));
        remove.push(b);
      } else if (b.kind === "provider" && !source.installed.has(type)) {
        uninstalled.add(type);
        remove.push(b);
      } else if (b.kind === "module") {
        const m = /\n[ \t]*source[ \t]*=[ \t]*"([^"]+)"/.exec(text.slice(b.start, b.end));
        if (m) calls.push({ name: type, source: m[1] });
        ws.initInputs.push(`${modulePath || "root"}: ${text.slice(b.start, b.end)}`);
      } else if (b.kind === "terraform") {
        ws.initInputs.push(`${modulePath || "root"}: ${text.slice(b.start, b.end)}`);
      }
    }
    let next = removeBlocks(text, remove, "pinned to a recorded value");
    for (const p of requiredProviderNames(next)) {
      if (source.installed.has(p)) continue;
      next = dropRequiredProvider(next, p);
      uninstalled.add(p);
    }
    texts.set(f, next);
  }
  const unitPins = ws.pins.filter((p) => Object.keys(unit.values).some((local) => p.address === full(modulePath, local)));
  for (const [f, text] of texts) {
    let next = text;
    for (const local of Object.keys(unit.values)) next = replaceReference(next, local, pinnedRef(local));
    ws.problems.push(...pinnedReferenceProblems(next, unit.values, unitPins, `${modulePath || "the HCL root"} (${f})`));
    if (write && next !== fs.readFileSync(path.join(dir, f), "utf8")) fs.writeFileSync(path.join(dir, f), next);
  }
  if (write && Object.keys(unit.values).length > 0) {
    fs.writeFileSync(path.join(dir, PINNED_FILE), JSON.stringify(unit.values, null, 1));
    fs.writeFileSync(
      path.join(dir, "plan_check_pinned.tf"),
      `# plan-check: values recorded in the snapshot (or --data), in place of data sources and uninstalled providers\n` +
        `locals {\n  ${PINNED_LOCAL} = jsondecode(file("\${path.module}/${PINNED_FILE}"))\n}\n`,
    );
  }
  for (const u of uninstalled) ws.adaptations.push(`${modulePath || "root"}: provider ${u} removed (not installed; its resources are pinned)`);
  for (const call of calls) {
    if (!isLocalSource(call.source)) throw new InputError(`${modulePath || "root"}: module ${call.name} has a non-local source (${call.source}); offline mode needs local modules`);
    const child = path.resolve(dir, call.source);
    if (!child.startsWith(root + path.sep)) {
      throw new InputError(`${modulePath || "root"}: module ${call.name}'s source ${call.source} leaves the copied directory`);
    }
    pinHclDir(child, full(modulePath, `module.${call.name}`), source, ws, root, write);
  }
}
