// Never a stale cdktf.out: plan-check records which sources gave which cdk.tf.json (by content,
// not modification time) in its folder and synthesizes again unless the record says the output is fresh.
// The record itself is the product's (stacks/synthesis-record.ts), as npm run synth writes it.
// synthesisOf stages a new synthesis in a temporary folder: written (publish) only once the inputs are checked.
import * as path from "path";
import { EnvironmentConfig } from "../../config/environment";
import { CliIo, InputError, synthesisSources } from "../../lib/cli";
import type * as App from "../../stacks/app";
import { SYNTHESIS_RECORD, SynthesisRecord, SynthesisSources, synthesisFreshness, writeSynthesisRecord } from "../../stacks/synthesis-record";
import type { Deps, Options } from "./index";
import { progress } from "./progress";

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

/** The stack to plan, found fresh or synthesized in a temporary folder; `publish` writes what the run synthesized. */
export interface Synthesis {
  readonly stackText: string;
  readonly synthesisNote: string;
  /** Once the output folder is open: the synthesized stacks into cdktf.out, the record into the output folder. */
  publish(outDir: string): void;
  /** Removes the temporary folder (always, in a finally). */
  discard(): void;
}

/**
 * The synthesized stack. Never a stale cdktf.out: synthesize (every stack, as npm run synth writes them), unless
 * the record of the run that synthesized it says the same sources gave the same output (by content). Nothing is
 * written until `publish`: the input checks that need the stack come first.
 */
export function synthesisOf(
  o: Options,
  io: CliIo,
  deps: Deps,
  environments: Readonly<Record<string, EnvironmentConfig>>,
  stackOut: string,
  outDir: string,
  p: ReturnType<typeof progress>,
): Synthesis {
  const resolve = (f: string) => path.resolve(io.cwd, f);
  const synthesizedFile = path.join(stackOut, "cdk.tf.json");
  const sources = deps.environments ? undefined : synthesisSources();
  // Read only: the folder passed the output rules (ours from an earlier run, or not there yet).
  const fresh = sources && freshSynthesis(outDir, o.stack, synthesizedFile, sources);
  if (fresh) {
    p.say(`synthesis skipped: ${path.relative(io.cwd, synthesizedFile)} is what the sources give (their content matches ${SYNTHESIS_RECORD})`);
    return {
      stackText: fresh,
      synthesisNote:
        `${path.relative(io.cwd, synthesizedFile)} is what the sources synthesize (the sha256 of its ${sources.files.length} source files, of the file ` +
        `and of the templates beside it match the record of the run that synthesized it, ${SYNTHESIS_RECORD}): used as it is`,
      publish: () => undefined,
      discard: () => undefined,
    };
  }
  // Loaded here: cdktf and the provider bindings take ~0.3 s, not needed for fresh output.
  const { isUserError, stageSynthesis } = require("../../stacks/app") as typeof App;
  let staged: App.StagedSynthesis;
  try {
    staged = p.stepSync("synthesis (cdktf synth of every stack)", () => stageSynthesis(environments, { outdir: resolve("cdktf.out"), record: sources }));
  } catch (e) {
    if (isUserError(e)) throw new InputError(e.message);
    throw e;
  }
  return {
    stackText: staged.result.find((x) => x.name === o.stack)!.text,
    synthesisNote: "synthesized now from the sources",
    publish: (outDirReal) => {
      try {
        staged.publish();
      } catch (e) {
        if (isUserError(e)) throw new InputError(e.message);
        throw e;
      }
      if (sources) writeSynthesisRecord(outDirReal, o.stack, synthesizedFile, path.relative(io.cwd, synthesizedFile), sources);
    },
    discard: () => staged.discard(),
  };
}
