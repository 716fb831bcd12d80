// The environment's lists wired into the judge, for every command that judges a plan: plan-check when
// it plans, deploy --plan when it judges the saved plan again before applying it.
import { EnvironmentConfig, replacementAddress } from "../../config/environment";
import { counterpart } from "../../stacks/moves";
import { JudgeInput } from "./judge";

/** The facts the verdict is drawn from, and the environment's lists: what `judge` gets. */
export function verdictInput(
  config: Pick<EnvironmentConfig, "allowDestroy" | "allowReplacement" | "keepUnplannable" | "deployed">,
  facts: Omit<JudgeInput, "allow" | "allowReplace" | "keep" | "deployed">,
): JudgeInput {
  return {
    ...facts,
    // What the environment records as deployed, with its HCL address from the one table (stacks/moves.ts).
    deployed: Object.keys(config.deployed ?? {}).map((address) => ({ address, formerly: counterpart(address) })),
    allow: config.allowDestroy ?? [],
    // allowReplacement allows replaces only (the synth guard has judged them), never a delete.
    allowReplace: new Set((config.allowReplacement ?? []).map(replacementAddress)),
    keep: config.keepUnplannable ?? [],
  };
}
