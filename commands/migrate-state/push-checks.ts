// migrate-state's checks of what the backend holds, around the push: before it
// (the state read in step 1, or the --state snapshot), and after it.
import { BackendIdentity, describeBackend } from "../../lib/backend";
import { RawState } from "../../lib/plan/workspace";
import { Refusal, parseStateText } from "./backend-ops";
import { canonical } from "./state-migrate";

/** How a refusal names the state the backend must hold: the one read in step 1, or the --state snapshot to push. */
export interface ReadState {
  /** `changed since step 1` */
  readonly changed: string;
  /** `step 1 read` */
  readonly read: string;
  /** `the one read in step 1` */
  readonly theOne: string;
}
export const STEP_1: ReadState = { changed: "changed since step 1", read: "step 1 read", theOne: "the one read in step 1" };
export const SNAPSHOT: ReadState = { changed: "is not at the --state snapshot", read: "the snapshot holds", theOne: "the --state snapshot's" };

/** The backend state must be the one read in step 1 (lineage, serial and content). */
export function refuseChangedBackend(current: RawState | undefined, read: RawState, identity: BackendIdentity, when: ReadState): void {
  const where = describeBackend(identity);
  if (!current) throw new Refusal(`${where} holds no state now; nothing was pushed`);
  if (current.lineage !== read.lineage) {
    throw new Refusal(
      `${where} holds a state of another lineage (${current.lineage}) than ${when.theOne} (${read.lineage}): ` + "it is not the same state; nothing was pushed",
    );
  }
  if (current.serial !== read.serial) {
    throw new Refusal(
      `${where} ${when.changed}: it holds serial ${current.serial}, ${when.read} serial ${read.serial}. ` +
        (when === STEP_1
          ? "Someone wrote the state in between; nothing was pushed. Run migrate-state again on the current state"
          : "Nothing was pushed. Give a snapshot of what the backend holds now (terraform state pull), or run without --state to read it there"),
    );
  }
  if (stateBody(current) !== stateBody(read)) {
    throw new Refusal(`${where} holds serial ${current.serial} with other content than ${when.read}: nothing was pushed`);
  }
}

/** What a state holds, whatever the Terraform that wrote it: resources, outputs, check results (keys sorted). */
export const stateBody = (s: RawState) => canonical({ resources: s.resources, outputs: s.outputs ?? {}, check_results: s.check_results ?? null });

export function pushedProblems(now: RawState, migrated: RawState): string[] {
  const problems: string[] = [];
  if (now.lineage !== migrated.lineage) problems.push(`lineage ${now.lineage}, pushed ${migrated.lineage}`);
  if ((now.serial ?? 0) < (migrated.serial ?? 0)) problems.push(`serial ${now.serial}, pushed ${migrated.serial}`);
  if (stateBody(now) !== stateBody(migrated)) problems.push("its resources or outputs differ from the migrated state");
  return problems;
}

/** What the backend holds after a push Terraform reported as failed (`pulled`: `terraform state pull`'s output, or its error). */
export function afterFailedPush(pulled: string | null | Error, read: RawState, migrated: RawState): { holds: "read" | "migrated" | "other"; what: string } {
  if (pulled instanceof Error) return { holds: "other", what: `terraform state pull failed: ${pulled.message.split("\n").slice(0, 3).join(" ").trim()}` };
  const now = pulled === null ? undefined : parseStateText(pulled);
  if (!now) return { holds: "other", what: pulled === null ? "it holds no state" : "what it holds is not a state of format 4" };
  const what = `serial ${now.serial}, lineage ${now.lineage}`;
  if (now.lineage === read.lineage && now.serial === read.serial && stateBody(now) === stateBody(read)) return { holds: "read", what };
  if (pushedProblems(now, migrated).length === 0) return { holds: "migrated", what };
  return { holds: "other", what };
}
