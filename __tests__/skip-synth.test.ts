// `npm run cdktf -- deploy production --skip-synth`: cdktf applies cdktf.out as it is. The wrapper lets it through
// only when that output is what the sources synthesize now (its synthesis.json record), like --stack-json elsewhere.
import * as fs from "fs";
import * as path from "path";
import { main } from "../commands/cdktf";
import { skipsSynth } from "../commands/cdktf/skip-synth";
import { synthesisSources, writeSynthesisRecord } from "../stacks/synthesis-record";
import { HCL_PRODUCTION as production } from "./fixtures/hcl-production";
import { tempDir } from "./tmp";

const PRODUCTION_STATE = path.resolve(__dirname, "../../shared/fixtures/existing-production.tfstate");

/** The README's layout (<repo>/infra/terraform with the state, <repo>/infra/cdktf) with a synthesized production stack. */
function layout(record: boolean) {
  const repo = tempDir("zh-skip-synth-");
  const root = path.join(repo, "infra", "terraform");
  const project = path.join(repo, "infra", "cdktf");
  const stackDir = path.join(project, "cdktf.out", "stacks", "production");
  fs.mkdirSync(root, { recursive: true });
  fs.mkdirSync(stackDir, { recursive: true });
  fs.copyFileSync(PRODUCTION_STATE, path.join(root, "terraform.tfstate"));
  fs.writeFileSync(path.join(stackDir, "cdk.tf.json"), JSON.stringify({ resource: {} }));
  if (record) writeSynthesisRecord(stackDir, "production", path.join(stackDir, "cdk.tf.json"), "cdktf.out/stacks/production/cdk.tf.json", synthesisSources());
  return { project, file: path.join(stackDir, "cdk.tf.json") };
}

function run(argv: string[], cwd: string) {
  let stderr = "";
  const calls: string[][] = [];
  const code = main(argv, { stdout: () => undefined, stderr: (t) => (stderr += t), cwd }, { cdktf: (a) => (calls.push([...a]), 0) }, { production }, {
    readS3: () => {
      throw new Error("no S3 in this test");
    },
  });
  return { code, stderr, calls };
}

describe("cdktf deploy --skip-synth", () => {
  it.each([["deploy", "production", "--skip-synth", "--auto-approve"], ["diff", "production", "--skipSynth=true"]])(
    "refuses an output without a record of its sources (exit 2, cdktf not run): %s",
    (...argv) => {
      const { project, file } = layout(false);
      const r = run(argv, project);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        `error: refusing --skip-synth for stack 'production': ${file} may not be what the sources synthesize now ` +
          "(no record of the sources that made it (synthesis.json beside it, which npm run synth writes)), and cdktf would apply it as it is. " +
          "Leave out --skip-synth (cdktf synthesizes first), or run npm run synth first.\n",
      );
      expect(r.calls).toEqual([]);
    },
  );

  it("lets through an output the sources give now, and a deploy without --skip-synth", () => {
    const { project } = layout(true);
    expect(run(["deploy", "production", "--skip-synth", "--no-verify"], project)).toEqual({ code: 0, stderr: "", calls: [["deploy", "production", "--skip-synth"]] });
    const stale = layout(false);
    expect(run(["deploy", "production", "--no-verify"], stale.project)).toEqual({ code: 0, stderr: "", calls: [["deploy", "production"]] });
  });

  it("reads the flag as yargs does", () => {
    expect([["--skip-synth"], ["--skipSynth"], ["--skip-synth=true"], ["--skip-synth=false"], ["--skip-synth", "--no-skip-synth"], []].map(skipsSynth)).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
  });
});
