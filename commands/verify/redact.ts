// What verify never prints: the value of a variable named like a secret, and a URL's password.
// The --json report and the task definition check's differences both print through these.
import { isSecretName } from "../../policy/secret-names";

/** What stands for a value verify does not print. */
export const REDACTED = "(redacted by verify)";

/** Environment variables whose value is not printed: the policy's secret-like names, and, printing being where a leak lands, any name ending in KEY (STRIPE_KEY). */
export const redactsName = (name: string): boolean => isSecretName(name) || /KEY$/i.test(name);

/** `postgresql://user:pass@host` → `postgresql://user:(redacted by verify)@host`. */
export const redactUrlPassword = (value: string): string => value.replace(/(:\/\/[^/:@\s]*:)[^/@\s]+@/g, `$1${REDACTED}@`);

/** A variable's value as verify may print it. */
export const printableValue = (name: string, value: string): string => (redactsName(name) ? REDACTED : redactUrlPassword(value));
