// Never a stale cdktf.out: plan-check records which sources gave which cdk.tf.json (by content,
// not modification time) in its folder and synthesizes again unless the record says the output is fresh.
// The record itself is the product's (stacks/synthesis-record.ts), as npm run synth writes it.
import { SynthesisRecord, SynthesisSources, synthesisFreshness } from "../../stacks/synthesis-record";

export { SYNTHESIS_RECORD, assetHashes, sha256, writeSynthesisRecord } from "../../stacks/synthesis-record";
export type { SynthesisRecord };

/**
 * The synthesized stack, if it is what the current sources give: the record
 * of the run that synthesized it names the same sources (by content, not
 * modification time) and the same output (by content).
 */
export function freshSynthesis(dir: string, stack: string, file: string, sources: SynthesisSources): string | undefined {
  const judged = synthesisFreshness(dir, stack, file, sources);
  return judged.fresh ? judged.text : undefined;
}
