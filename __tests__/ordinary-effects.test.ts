// check:ordinary-changes must prove its edit reached the synthesis: an edit that lands where nothing reads it
// leaves CI green about nothing. Its loop runs here on a real copy of this project, with one quick step standing
// for `npm run synth` (it writes the stack the edit should have made, or not).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { production } from "../config/environments";
import { Step, main } from "../tools/ordinary-changes";
import { ML_WORKER_TARGET, capacityEffect, stagingEffect } from "../tools/ordinary-effects";

const project = path.join(__dirname, "..");
const next = production.mlWorker.maxCapacity === 3 ? 4 : 3;

/** One step, named as the synth step, writing production's stack with this max_capacity. */
const synthWriting = (maxCapacity: number) => (): Step[] => [
  {
    name: "npm run synth",
    command: process.execPath,
    args: [
      "-e",
      `const fs = require("fs"); fs.mkdirSync("cdktf.out/stacks/production", { recursive: true });` +
        `fs.writeFileSync("cdktf.out/stacks/production/cdk.tf.json", JSON.stringify({ resource: { aws_appautoscaling_target: { ml_worker_ml_worker: { max_capacity: ${maxCapacity} } } } }));`,
    ],
  },
];

async function check(maxCapacity: number) {
  let said = "";
  const code = await main(["--only", "production-capacity", "--no-validate", "--project", project], (t) => (said += t), synthWriting(maxCapacity));
  return { code, said };
}

describe("check:ordinary-changes: the edit must be in the synthesis", () => {
  it("a synthesis without the edited capacity fails the change (exit 1), naming what it found", async () => {
    const { code, said } = await check(production.mlWorker.maxCapacity);
    expect(code).toBe(1);
    expect(said).toMatch(
      new RegExp(
        `\\n  FAIL  npm run synth \\(\\d+\\.\\d s\\): the edit did not reach the synthesis: production's ${ML_WORKER_TARGET.replace(/\./g, "\\.")} ` +
          `has max_capacity ${production.mlWorker.maxCapacity}, not ${next}\\n`,
      ),
    );
    expect(said).toContain("FAIL: 1 step(s) failed\n");
  });

  it("a synthesis with it passes (exit 0)", async () => {
    const { code, said } = await check(next);
    expect(code).toBe(0);
    expect(said).toMatch(/\n  PASS  npm run synth \(\d+\.\d s\)\n/);
    expect(said).toContain("OK: production-capacity keep CI green\n");
  });

  it("reads the stack files: no production stack, no staging stack", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ordinary-effects-"));
    try {
      expect(capacityEffect(dir, 3)).toBe("npm run synth wrote no cdktf.out/stacks/production/cdk.tf.json");
      expect(stagingEffect(dir)).toBe("the edit did not reach the synthesis: npm run synth wrote no cdktf.out/stacks/staging/cdk.tf.json");
      fs.mkdirSync(path.join(dir, "cdktf.out/stacks/staging"), { recursive: true });
      fs.writeFileSync(path.join(dir, "cdktf.out/stacks/staging/cdk.tf.json"), "{}");
      expect(stagingEffect(dir)).toBeUndefined();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
