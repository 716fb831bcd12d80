// The gate's verdict on the plan against the migrated copy. The two plans agreeing proves the moves changed
// nothing else, not that the result is safe: a wrong entry of stacks/moves.ts plans the same replace or delete
// before and after, and once pushed, the moved blocks no longer show it. So the copy's plan must pass the
// same judge plan-check uses (lib/plan/judge.ts), with the stack's allowDestroy, allowReplacement and
// keepUnplannable (config/environments.ts; plan-check takes them from there, not from flags).
import { Failure } from "../../lib/plan/judge";
import { failureText } from "../../lib/plan/report";

/** What the gate refuses in the copy's plan, one line each (plan-check's own words: the address and the action); none when it passes. */
export function gateFailures(report: { readonly pass: boolean; readonly failures: readonly Failure[] }): string[] {
  if (report.pass) return [];
  return report.failures.length ? report.failures.map(failureText) : ["the gate fails, and its report names no failure"];
}

/** The refusal's text: each failure, then why nothing was written. */
export function gateRefusal(failures: readonly string[]): string {
  return (
    `the plan against the copy fails the gate (plan-check's judge, with the stack's allowDestroy, allowReplacement and keepUnplannable):\n` +
    failures.map((f) => `  - ${f}`).join("\n") +
    "\nApplying the migrated state would do this, and once it is pushed the moved blocks no longer show the moves. " +
    "Check stacks/moves.ts (a move to the wrong address plans a replace or a delete), or run plan-check on the state to see the plan"
  );
}
