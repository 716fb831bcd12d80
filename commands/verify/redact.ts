// What verify never prints: the value of a variable named like a secret, and a secret known by its shape
// (lib/secret-shapes.ts, synth-diff's own rules: a URL's password or token user, AWS key ids, tokens).
// The --json report and the task definition check's differences both print through these.
import { maskSecretShapes } from "../../lib/secret-shapes";
import { isSecretName } from "../../policy/secret-names";

/** What stands for a value verify does not print. */
export const REDACTED = "(redacted by verify)";

/** Environment variables whose value is not printed: the policy's secret-like names, and, printing being where a leak lands, any name ending in KEY (STRIPE_KEY). */
export const redactsName = (name: string): boolean => isSecretName(name) || /KEY$/i.test(name);

/** A text with every secret known by its shape redacted: `postgresql://user:pass@host` → `postgresql://user:(redacted by verify)@host`. */
export const redactShapes = (value: string): string => maskSecretShapes(value, REDACTED, true);

/** A variable's value as verify may print it. */
export const printableValue = (name: string, value: string): string => (redactsName(name) ? REDACTED : redactShapes(value));

/** `NAME=value` inside an argument (`sh -c "PASSWORD=x ..."`, `--token=x`): the value runs to whitespace or a quote. */
const ARGUMENT_ASSIGNMENT = /(^|[\s"';])(-{0,2})([A-Za-z_][A-Za-z0-9_.-]*)=([^\s"';]*)/g;
/** `--password`, `-api-key`: a flag whose name is a secret's, so the argument after it is one. */
const SECRET_FLAG = /^-{1,2}([A-Za-z_][A-Za-z0-9_.-]*)$/;

/**
 * A command's arguments as verify may print them (a running task's command override is set by hand, like its
 * environment): a secret-named `NAME=value` or `--flag value`, and a secret known by its shape, redacted.
 */
export function printableArguments(args: readonly unknown[]): unknown[] {
  return args.map((arg, i) => {
    if (typeof arg !== "string") return arg;
    const flag = i > 0 && typeof args[i - 1] === "string" ? SECRET_FLAG.exec(args[i - 1] as string) : null;
    if (flag && redactsName(flag[1])) return REDACTED;
    return redactShapes(arg).replace(ARGUMENT_ASSIGNMENT, (all, lead: string, dashes: string, name: string) =>
      redactsName(name) ? `${lead}${dashes}${name}=${REDACTED}` : all,
    );
  });
}
