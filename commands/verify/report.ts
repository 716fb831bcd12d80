// verify's report: a Markdown table (default) or JSON with every fact.
import { LogLine, Missing, RequestRecord } from "./aws";
import { Facts, LOG_WINDOW_MINUTES, Row, describeError, iso } from "./checks";
import { printableArguments, printableValue } from "./redact";
import { VerifyTarget } from "./target";

export interface VerifyReport {
  readonly target: VerifyTarget;
  readonly account?: string;
  readonly caller?: string;
  readonly checkedAt: Date;
  /** How many times the checks ran (--wait polls). */
  readonly polls: number;
  readonly waitedSeconds: number;
  readonly rows: readonly Row[];
  readonly facts: Facts;
  /** Every request of the last poll (and the caller identity), with its attempts. */
  readonly requests: readonly RequestRecord[];
  /** `--logs n`: the last lines, oldest first. */
  readonly logs?: readonly LogLine[];
}

const cell = (s: string) => s.replace(/\r?\n/g, " ").replace(/\|/g, "\\|");

export function headline(r: VerifyReport): string {
  const passed = r.rows.filter((x) => x.pass).length;
  const who = r.account ? `account ${r.account}${r.caller ? `, as ${r.caller}` : ""}` : "account not read";
  const waited = r.polls > 1 ? `; ${r.polls} polls over ${r.waitedSeconds} s` : "";
  return `verify ${r.target.stack}: ${passed} of ${r.rows.length} checks pass (${r.target.region}, ${who}; read-only; ${iso(r.checkedAt)}${waited})`;
}

export function logLine(l: LogLine): string {
  return `${new Date(l.timestamp).toISOString()} ${l.stream} ${l.message}`;
}

/** What precedes the --logs lines: lines not read are not "no lines". */
function logsHeading(r: VerifyReport): string {
  const name = r.target.logGroup.name;
  const events = r.facts.logEvents;
  const group = r.facts.logGroup;
  if (events?.ok === false) return `Log lines of ${name} not read: ${describeError(events.error)}`;
  if (!events) return `Log lines of ${name} not read: ${group?.ok === false ? describeError(group.error) : "the log group does not exist"}`;
  if (!r.logs || r.logs.length === 0) return `No log lines in ${name} in the last ${LOG_WINDOW_MINUTES} min.`;
  return `Last ${r.logs.length} line(s) of ${name} (the last ${LOG_WINDOW_MINUTES} min):`;
}

export function renderMarkdown(r: VerifyReport): string {
  const lines = [headline(r), "", "| check | result | seen | what to do |", "| --- | --- | --- | --- |"];
  for (const row of r.rows) lines.push(`| ${row.check} | ${row.pass ? "PASS" : "FAIL"} | ${cell(row.seen)} | ${cell(row.todo)} |`);
  if (r.logs) {
    lines.push("");
    lines.push(logsHeading(r));
    for (const l of r.logs) lines.push(logLine(l));
  }
  return `${lines.join("\n")}\n`;
}

/**
 * A container's `environment` as JSON: the live task definition (or a task's overrides) may hold what the
 * stack keeps in `secrets`, set by hand; a value named like a secret, and a URL's password, are never printed.
 */
function environment(list: unknown[]): unknown[] {
  return list.map((e) => {
    if (!e || typeof e !== "object" || typeof (e as { value?: unknown }).value !== "string") return plain(e);
    const { name, value } = e as { name?: string; value: string };
    return { ...(plain(e) as object), value: printableValue(name ?? "", value) };
  });
}

/** Facts as JSON: call errors and "not there" answers spelled out, the SDK's response metadata left out, no secret value (environment values, command arguments). */
function plain(value: unknown): unknown {
  if (value instanceof Missing) return { missing: value.code };
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k, v]) => k !== "$metadata" && v !== undefined)
        .map(([k, v]) => [k, k === "environment" && Array.isArray(v) ? environment(v) : k === "command" && Array.isArray(v) ? printableArguments(v) : plain(v)]),
    );
  }
  return value;
}

export function renderJson(r: VerifyReport): string {
  const passed = r.rows.filter((x) => x.pass).length;
  return `${JSON.stringify(
    {
      stack: r.target.stack,
      region: r.target.region,
      account: r.account,
      caller: r.caller,
      checkedAt: iso(r.checkedAt),
      pass: passed === r.rows.length,
      counts: { pass: passed, fail: r.rows.length - passed },
      polls: r.polls,
      waitedSeconds: r.waitedSeconds,
      target: plain(r.target),
      checks: r.rows.map((x) => ({ check: x.check, result: x.pass ? "PASS" : "FAIL", seen: x.seen, todo: x.todo, settles: x.settles, requests: x.requests })),
      facts: plain(r.facts),
      requests: r.requests,
      ...(r.logs ? { logs: r.logs.map((l) => ({ timestamp: new Date(l.timestamp).toISOString(), stream: l.stream, message: l.message })) } : {}),
    },
    null,
    2,
  )}\n`;
}
