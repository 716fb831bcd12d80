// What each ordinary change must do to the synthesized Terraform in the copy (after `npm run synth` there):
// an edit that lands where nothing reads it (a const main.ts no longer uses, a maxCapacity other than the
// ML worker's) leaves CI green by doing nothing, and must not pass as "keeps CI green".
import * as fs from "fs";
import * as path from "path";

/** The ML worker's autoscaling target, by its address in the synthesized stack. */
export const ML_WORKER_TARGET = "aws_appautoscaling_target.ml_worker_ml_worker";

function stackJson(repo: string, stack: string): Record<string, any> | undefined {
  const file = path.join(repo, "cdktf.out", "stacks", stack, "cdk.tf.json");
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, any>) : undefined;
}

/** Why production's synthesized ML worker does not have max_capacity `expected`; undefined when it does. */
export function capacityEffect(repo: string, expected: number): string | undefined {
  const doc = stackJson(repo, "production");
  if (!doc) return "npm run synth wrote no cdktf.out/stacks/production/cdk.tf.json";
  const [type, name] = ML_WORKER_TARGET.split(".");
  const actual = doc.resource?.[type]?.[name]?.max_capacity;
  if (actual === expected) return undefined;
  return `the edit did not reach the synthesis: production's ${ML_WORKER_TARGET} has max_capacity ${JSON.stringify(actual)}, not ${expected}`;
}

/** Why no staging stack was synthesized; undefined when it was. */
export function stagingEffect(repo: string): string | undefined {
  return stackJson(repo, "staging") ? undefined : "the edit did not reach the synthesis: npm run synth wrote no cdktf.out/stacks/staging/cdk.tf.json";
}
