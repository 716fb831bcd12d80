// `cdktf deploy --skip-synth` applies whatever cdktf.out holds, without synthesizing: a folder left by
// another branch, or by sources edited since, would be applied as production. It is let through only
// when each stack's cdk.tf.json is what the sources give now (its synthesis.json record, by content).
import * as path from "path";
import { synthesisFreshness, synthesisSources } from "../../stacks/synthesis-record";

/** Whether the arguments ask cdktf to skip synthesis (yargs: --skip-synth, --skipSynth, =true; not =false). */
export function skipsSynth(argv: readonly string[]): boolean {
  let skip = false;
  for (const arg of argv) {
    const m = /^--(?:skip-synth|skipSynth)(?:=(.*))?$/.exec(arg);
    if (m) skip = m[1] === undefined || m[1] !== "false";
    else if (arg === "--no-skip-synth" || arg === "--no-skipSynth") skip = false;
  }
  return skip;
}

/** Why `stack`'s synthesized file in `outdir` may not be applied without synthesis; undefined when it is fresh. */
export function staleRefusal(stack: string, outdir: string): string | undefined {
  const dir = path.join(outdir, "stacks", stack);
  const file = path.join(dir, "cdk.tf.json");
  const judged = synthesisFreshness(dir, stack, file, synthesisSources());
  if (judged.fresh) return undefined;
  return (
    `refusing --skip-synth for stack '${stack}': ${file} may not be what the sources synthesize now (${judged.why}), ` +
    "and cdktf would apply it as it is. Leave out --skip-synth (cdktf synthesizes first), or run npm run synth first."
  );
}
