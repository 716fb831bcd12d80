// verify: after a deploy, is the ML worker running? Read-only calls against
// live AWS with the caller's credentials; every name comes from the stack,
// synthesized in memory from the current sources (logic in the parts beside this file).
//   npm run verify -- [--stack <name>] [--json] [--wait <seconds>] [--logs <n>]
// Exit codes: 0 every check passes, 1 a check fails, 2 bad input or no credentials.
import "../../stacks/startup"; // first: the compile cache and deferred requires apply to what loads after it
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { ConfiguredRetryStrategy } from "@smithy/core/retry";
import type { HttpHandler } from "@smithy/core/protocols";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import { CONFIGURED_STACKS, CliIo, FreshStack, InputError, StackCatalog, describeStacks, parseFlags, parseOrAnswer, processIo, synthesizeFirst } from "../../lib/cli";
import { Calls, Clients, destroyClients, makeClients } from "./aws";
import { Facts, Row, describeError, duration, gather } from "./checks";
import { judge } from "./verdicts";
import { VerifyReport, renderJson, renderMarkdown } from "./report";
import { VerifyTarget, verifyTarget } from "./target";

export const DEFAULT_STACK = "production";
/** Seconds between polls with --wait. */
export const POLL_SECONDS = 15;
/** The environment variable that points every client at another endpoint: for tests, never for real use. */
export const ENDPOINT_VARIABLE = "VERIFY_AWS_ENDPOINT";

export const USAGE =
  "usage: verify [--stack <name>] [--json] [--wait <seconds>] [--logs <n>]\n" +
  `  --stack  the deployed stack to check (default ${DEFAULT_STACK}); names come from it, synthesized from the current sources\n` +
  "  --json   print every check and every fact read as JSON instead of a table\n" +
  `  --wait   poll every ${POLL_SECONDS} s until every check passes or the seconds run out (progress on stderr);\n` +
  "           stops early when a failing check cannot pass by waiting (a wrong image path, a missing parameter)\n" +
  "  --logs   also print the last <n> lines of the worker's log group (the last 60 min), like aws logs tail\n" +
  "read-only: Describe*, List*, Get* and FilterLogEvents calls with the caller's credentials (the SDK's default chain)\n" +
  "exit codes: 0 every check passes, 1 a check fails, 2 bad input or no credentials\n";

interface Options {
  stack: string;
  json: boolean;
  wait: number;
  logs?: number;
  help: boolean;
}

function count(flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new InputError(`${flag} takes a whole number from ${min} to ${max}; got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

function parseArgs(argv: readonly string[]): Options {
  const { values, flags, help } = parseFlags(argv, ["--stack", "--wait", "--logs"], ["--json"]);
  const stack = values["--stack"] ?? DEFAULT_STACK;
  if (!/^[A-Za-z0-9_-]+$/.test(stack)) throw new InputError(`--stack takes a stack name (letters, digits, _ and -); got ${JSON.stringify(stack)}`);
  return {
    stack,
    json: flags.has("--json"),
    wait: count("--wait", values["--wait"], 0, 7200) ?? 0,
    logs: count("--logs", values["--logs"], 1, 10000),
    help,
  };
}

/** What tests change; each default is the real thing. */
export interface VerifyDeps {
  /** The stacks. @default config/environments.ts */
  readonly catalog?: StackCatalog;
  /**
   * The delay between the SDK's retry attempts, in ms, through the SDK's own
   * ConfiguredRetryStrategy (3 attempts). Tests set 0 so throttling retries
   * do not sleep. @default - the SDK's standard retry mode and backoff
   */
  readonly retryDelayMs?: number;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** Waits between --wait polls. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Where the endpoint override is read. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * What carries every client's requests (tests: recorded answers in process, without a socket).
   * @default the SDK's NodeHttpHandler, 5 s to connect and 30 s a request
   */
  readonly requestHandler?: HttpHandler;
}

const synthesized = new WeakMap<StackCatalog, Map<string, { readonly stack: FreshStack; target?: VerifyTarget }>>();

/** The stack synthesized once per process (a --wait loop or a test file reuses it), with its target once read. */
function synthesizeOnce(name: string, catalog: StackCatalog): { readonly stack: FreshStack; target?: VerifyTarget } {
  let byName = synthesized.get(catalog);
  if (!byName) synthesized.set(catalog, (byName = new Map()));
  let entry = byName.get(name);
  if (!entry) byName.set(name, (entry = { stack: synthesizeFirst(name, catalog) }));
  return entry;
}

/** Refuses a stack that is not deployable, without synthesizing anything. */
function checkStackName(name: string, catalog: StackCatalog): void {
  if (name in catalog.environments) return;
  if (name in catalog.reviewEnvironments) {
    throw new InputError(`'${name}' is review only and never deployed: verify checks a deployed stack (${describeStacks(catalog)})`);
  }
  throw new InputError(`no stack named '${name}' (${describeStacks(catalog)})`);
}

/** The endpoint every client is sent to instead of AWS (an emulator or recordings), if set: an http(s) URL. */
function endpointOf(env: NodeJS.ProcessEnv): string | undefined {
  const value = env[ENDPOINT_VARIABLE];
  if (!value) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    // reported below
  }
  if (url?.protocol !== "http:" && url?.protocol !== "https:") {
    throw new InputError(`${ENDPOINT_VARIABLE} must be an http:// or https:// URL (an endpoint that answers for AWS, e.g. http://127.0.0.1:4566); got ${JSON.stringify(value)}`);
  }
  return value;
}

/** The synthesized text of a deployable stack, as verify reads it (synthesized once per catalog). */
export function stackTextOf(name: string, catalog: StackCatalog): string {
  checkStackName(name, catalog);
  const { stack } = synthesizeOnce(name, catalog);
  if (stack.refused) throw new InputError(`the stack '${name}' does not synthesize: ${stack.refused}`);
  return stack.text;
}

/** The target of a deployable stack, synthesized and read once per catalog (a VerifyTarget is read-only). */
export function targetOf(name: string, catalog: StackCatalog): VerifyTarget {
  const text = stackTextOf(name, catalog);
  const entry = synthesizeOnce(name, catalog);
  return (entry.target ??= verifyTarget(name, text));
}

/** Runs the verification; returns the exit code. */
export async function main(argv: readonly string[], io: CliIo, deps: VerifyDeps = {}): Promise<number> {
  const options = parseOrAnswer(argv, io, USAGE, parseArgs);
  if (typeof options === "number") return options;
  const catalog = deps.catalog ?? CONFIGURED_STACKS;
  const refuse = (e: unknown): number => {
    if (!(e instanceof InputError)) throw e;
    io.stderr(`error: ${e.message}\n`);
    return 2;
  };
  let endpoint: string | undefined;
  try {
    checkStackName(options.stack, catalog);
    endpoint = endpointOf(deps.env ?? process.env);
  } catch (e) {
    return refuse(e);
  }

  // Credentials first: without them, nothing else is done and no call is made.
  const credentials: AwsCredentialIdentityProvider = defaultProvider();
  try {
    await credentials();
  } catch (e) {
    io.stderr(
      "error: no AWS credentials: the SDK's default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE and ~/.aws files, SSO, " +
        `web identity, the container or instance role) found none (${(e as Error).message}). ` +
        "verify reads live AWS with your credentials; it made no call.\n",
    );
    return 2;
  }
  let target: VerifyTarget;
  try {
    target = targetOf(options.stack, catalog);
  } catch (e) {
    return refuse(e);
  }
  const clients = makeClients({
    region: target.region,
    credentials,
    endpoint,
    retryStrategy: deps.retryDelayMs === undefined ? undefined : new ConfiguredRetryStrategy(3, deps.retryDelayMs),
    requestHandler: deps.requestHandler,
  });
  try {
    return await verify(target, options, clients, io, deps);
  } finally {
    destroyClients(clients);
  }
}

/** Codes that say the credentials themselves are refused, not a permission. */
const REFUSED = /InvalidClientTokenId|ExpiredToken|SignatureDoesNotMatch|UnrecognizedClient|InvalidAccessKeyId|IncompleteSignature|AuthFailure|InvalidToken/;

async function verify(target: VerifyTarget, o: Options, clients: Clients, io: CliIo, deps: VerifyDeps): Promise<number> {
  const now = deps.now ?? (() => new Date());
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const first = new Calls(clients);
  const identity = await first.callerIdentity();
  if (!identity.ok && REFUSED.test(identity.error.code)) {
    io.stderr(`error: AWS refused the credentials (${identity.error.code}: ${identity.error.message}); verify made no other call.\n`);
    return 2;
  }
  if (!identity.ok && identity.error.unreachable) {
    io.stderr(`error: AWS could not be reached (${describeError(identity.error)}); verify made no other call.\n`);
    return 2;
  }
  let account = identity.ok ? identity.value.Account : undefined;
  let caller = identity.ok ? identity.value.Arn : undefined;

  const started = now().getTime();
  const deadline = started + o.wait * 1000;
  let polls = 0;
  let calls = first;
  for (;;) {
    polls++;
    const checkedAt = now();
    const facts: Facts = await gather(target, calls, account, { now: checkedAt, logLines: o.logs ?? 0 });
    const made = new Set(calls.records.map((r) => r.operation));
    const rows = judge(facts, { target, account, now: checkedAt, made });
    const failing = rows.filter((r) => !r.pass);
    const report = (): VerifyReport => ({
      target,
      account,
      caller,
      checkedAt,
      polls,
      waitedSeconds: Math.round((checkedAt.getTime() - started) / 1000),
      rows,
      facts,
      requests: calls === first || calls.records[0]?.operation === "sts:GetCallerIdentity" ? calls.records : [...first.records.slice(0, 1), ...calls.records],
      logs: o.logs !== undefined ? (facts.logEvents?.ok ? facts.logEvents.value.lines : []) : undefined,
    });
    const finish = () => {
      io.stdout(o.json ? renderJson(report()) : renderMarkdown(report()));
      return failing.length === 0 ? 0 : 1;
    };
    if (failing.length === 0 || o.wait === 0) return finish();
    const stuck = failing.filter((r) => !r.settles);
    if (stuck.length > 0) {
      io.stderr(`verify: stopped waiting: ${names(stuck)} cannot pass by waiting\n`);
      return finish();
    }
    const left = deadline - now().getTime();
    if (left <= 0) {
      io.stderr(`verify: ${o.wait} s are up: ${names(failing)} still fail\n`);
      return finish();
    }
    const next = Math.min(POLL_SECONDS * 1000, left);
    io.stderr(
      `verify: poll ${polls}: ${rows.length - failing.length} of ${rows.length} pass; waiting on ${progress(failing)}; ` +
        `next poll in ${duration(next)}, ${duration(left)} left\n`,
    );
    await sleep(next);
    calls = new Calls(clients);
    if (!account) {
      // Throttled the first time: ask again, so the checks that need the account can run.
      const again = await calls.callerIdentity();
      if (again.ok) [account, caller] = [again.value.Account, again.value.Arn];
    }
  }
}

const names = (rows: readonly Row[]) => rows.map((r) => r.check).join(", ");
const progress = (rows: readonly Row[]) => rows.map((r) => `${r.check} (${r.seen.length > 80 ? `${r.seen.slice(0, 79)}…` : r.seen})`).join(", ");

if (require.main === module) {
  // The SDK warns that its releases after January 2027 need Node 22; the pinned release runs on Node 20.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  main(process.argv.slice(2), processIo()).then(
    (code) => (process.exitCode = code),
    (e) => {
      process.stderr.write(`${(e as Error).stack ?? e}\n`);
      process.exitCode = 3;
    },
  );
}
