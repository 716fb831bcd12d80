import * as fs from "fs";
import * as os from "os";
import { Testing } from "cdktf";
import { EnvironmentConfig } from "../config/environment";
import { MlWorkerProps } from "../modules/ml-worker";
import { HCL_PRODUCTION } from "./fixtures/hcl-production";
import { ZivoHealthStack } from "../stacks/zivohealth-stack";
import { decodeTemplateJson as decodeJson } from "../policy/template";
import { tempDir } from "./tmp";

let appsOutdir: string | undefined;
const synthesized = new Map<string, { stack: ZivoHealthStack; text: string }>();
/** What identifies a synthesis: the stack's name and its configuration (undefined fields included). */
const synthKey = (config: EnvironmentConfig, name: string) =>
  JSON.stringify([name, config], (_k, v) => (v === undefined ? "\u0000undefined" : typeof v === "function" ? String(v) : v));

/**
 * The synthesized stack as text (for the cdktf matchers) and as parsed JSON; by default production as the HCL
 * root has it (frozen). A whole-stack synthesis costs 0.1 to 1 s, so each configuration is synthesized once
 * per test group (npm test) or file and its text reused; `json` is parsed anew on every call, so a test may change it freely. A configuration
 * that fails to synthesize is not remembered: it throws on every call. `stack` is shared: read it, never change it.
 */
export function synthStack(config: EnvironmentConfig = HCL_PRODUCTION, name = "production") {
  const key = synthKey(config, name);
  let done = synthesized.get(key);
  if (!done) {
    // Testing.synth writes nothing: the Apps share one output folder (setup.ts removes it after the file), not one each.
    if (appsOutdir === undefined || !fs.existsSync(appsOutdir)) appsOutdir = tempDir("zh-synth-stack-");
    const stack = new ZivoHealthStack(Testing.app({ outdir: appsOutdir }), name, config);
    done = { stack, text: Testing.synth(stack) };
    synthesized.set(key, done);
  }
  return { stack: done.stack, text: done.text, json: JSON.parse(done.text) as TerraformJson };
}

type Cli = typeof import("../lib/cli");

/**
 * lib/cli with its synthesizeFirst remembering each synthesis it made, for a test file whose commands synthesize
 * the same stack again and again (`jest.mock("../lib/cli", () => require("./helpers").rememberingSyntheses(jest.requireActual("../lib/cli")))`).
 * A synthesis is the same when everything it reads is: the stack's name, whether the catalog lists it as deployable or
 * review-only, its configuration (undefined fields included), the temporary folder it stages in and where it
 * resolves cdktf.out (the isolation check). Only a synthesis that succeeded (or that failSynth refused) is remembered:
 * bad input throws on every call. Each call gets its own copy of the result.
 */
export function rememberingSyntheses(cli: Cli): Cli {
  const made = new Map<string, ReturnType<Cli["synthesizeFirst"]>>();
  const synthesizeFirst: Cli["synthesizeFirst"] = (name, catalog = cli.CONFIGURED_STACKS) => {
    const config = catalog.environments[name] ?? catalog.reviewEnvironments[name];
    const key = JSON.stringify(
      [name, name in catalog.environments, name in catalog.reviewEnvironments, config, os.tmpdir(), process.cwd(), process.env.CDKTF_OUTDIR],
      (_k, v) => (v === undefined ? "\u0000undefined" : typeof v === "function" ? String(v) : v),
    );
    let fresh = config === undefined ? undefined : made.get(key);
    if (!fresh) {
      fresh = cli.synthesizeFirst(name, catalog);
      made.set(key, fresh);
    }
    return structuredClone(fresh);
  };
  return { ...cli, synthesizeFirst };
}

export interface TerraformJson {
  terraform: any;
  provider: Record<string, any[]>;
  variable: Record<string, any>;
  locals: Record<string, string>;
  data: Record<string, Record<string, any>>;
  resource: Record<string, Record<string, any>>;
  module: Record<string, any>;
  moved: { from: string; to: string }[];
  output: Record<string, { value: string; description?: string; sensitive?: boolean }>;
  import?: { to: string; id: string }[];
}

/** Decodes a JSON string attribute that holds Terraform interpolations (see policy/template.ts). */
export const decodeTemplateJson = (text: string): any => decodeJson(text);

export const ACCOUNT = "474221740916";

/** Literal MlWorker props like production's, for construct-level tests. */
export const ML_WORKER_PROPS: MlWorkerProps = {
  environment: "production",
  vpcId: "vpc-04d23036cd269f2a6",
  privateSubnetIds: ["subnet-0aaa", "subnet-0bbb"],
  ecrRepositoryUrl: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com`,
  executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/zivohealth-production-ecs-task-execution`,
  taskRoleArn: `arn:aws:iam::${ACCOUNT}:role/zivohealth-production-ecs-task`,
  apiRoleArn: `arn:aws:iam::${ACCOUNT}:role/zivohealth-production-ec2-role`,
  dbHost: "zivohealth-dev-postgres.cabauc2kk65l.us-east-1.rds.amazonaws.com",
  dbName: "zivohealth",
  workerMode: "sqs",
  minCapacity: 0,
  maxCapacity: 5,
  targetQueueDepth: 0.5,
};

/**
 * From now on, in order: each V8 flag this process sets (`flags <flags>`) and each WebAssembly module it
 * compiles (`instantiate`, `compile`). Installed at a test file's load, before it loads any WebAssembly; `restore`
 * puts the originals back (afterAll).
 */
export function recordWasmCompiles(): { events: string[]; restore: () => void } {
  type Compile = (...args: unknown[]) => unknown;
  // The project's lib (ES2022) declares no WebAssembly; the global is there in Node.
  const wasm = (globalThis as unknown as { WebAssembly: { instantiate: Compile; compile: Compile } }).WebAssembly;
  const v8 = require("v8") as typeof import("v8");
  const events: string[] = [];
  const { setFlagsFromString } = v8;
  const { instantiate, compile } = wasm;
  v8.setFlagsFromString = (flags: string) => {
    events.push(`flags ${flags}`);
    setFlagsFromString.call(v8, flags);
  };
  wasm.instantiate = (...args) => (events.push("instantiate"), instantiate.apply(wasm, args));
  wasm.compile = (...args) => (events.push("compile"), compile.apply(wasm, args));
  return {
    events,
    restore: () => {
      v8.setFlagsFromString = setFlagsFromString;
      Object.assign(wasm, { instantiate, compile });
    },
  };
}
