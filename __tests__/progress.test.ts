// Progress lines: plan-check's (commands/plan-check/progress.ts) and the slow test
// tiers' (validate/lib/progress-reporter.js), each line exact, on a fake clock.
import { progress, seconds } from "../commands/plan-check/progress";
// eslint-disable-next-line @typescript-eslint/no-var-requires
const ProgressReporter = require("../validate/lib/progress-reporter.js");

/** A clock that moves only when told. */
function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe("progress", () => {
  it("a line when a step starts, one with its time when it ends; a failing step says so and throws on", async () => {
    const c = clock();
    let text = "";
    const p = progress("plan-check", (t) => (text += t), c.now);
    const plan = await p.step("terraform plan (stack)", async () => {
      c.advance(8_449);
      return 42;
    });
    expect(plan).toBe(42);
    const end = p.start("terraform plan -json (HCL root)");
    c.advance(31_200);
    expect(end("exit 1")).toBe(31_200);
    expect(() =>
      p.stepSync("synthesis", () => {
        c.advance(600);
        throw new Error("boom");
      }),
    ).toThrow("boom");
    p.say("PASS in 40.2 s");
    expect(text.split("\n")).toEqual([
      "plan-check: terraform plan (stack) …",
      "plan-check: terraform plan (stack) 8.4 s",
      "plan-check: terraform plan -json (HCL root) …",
      "plan-check: terraform plan -json (HCL root) 31.2 s (exit 1)",
      "plan-check: synthesis …",
      "plan-check: synthesis failed after 0.6 s",
      "plan-check: PASS in 40.2 s",
      "",
    ]);
  });

  it("quiet: no line at all, the steps still run and are timed", async () => {
    const c = clock();
    const p = progress("plan-check", undefined, c.now);
    const end = p.start("terraform init (stack)");
    c.advance(3_300);
    expect(end()).toBe(3_300);
    expect(await p.step("x", async () => "done")).toBe("done");
  });

  it("seconds: one decimal, always seconds", () => {
    expect([0, 49, 950, 8_449, 75_250].map(seconds)).toEqual(["0.0 s", "0.0 s", "0.9 s", "8.4 s", "75.3 s"]);
  });
});

describe("the slow tiers' reporter", () => {
  it("says as they happen which file and test starts, and how each ends, with its time", () => {
    const c = clock();
    const lines: string[] = [];
    const r = new ProgressReporter({ rootDir: "/p" }, { write: (t: string) => lines.push(t), now: c.now }, { reporterContext: "jest passes a third argument" });
    const test = { path: "/p/validate/plan-check.test.ts" };
    r.onTestFileStart(test);
    c.advance(2_000);
    r.onTestCaseStart(test, { fullName: "plan-check pre-fix state" });
    c.advance(63_400);
    r.onTestCaseResult(test, { fullName: "plan-check pre-fix state", status: "passed", duration: 63_400 });
    r.onTestCaseStart(test, { fullName: "plan-check empty state" });
    c.advance(5_000);
    r.onTestCaseResult(test, { fullName: "plan-check empty state", status: "failed", duration: null });
    r.onTestFileResult(test, { numPassingTests: 1, numFailingTests: 1, numPendingTests: 0 });
    expect(lines).toEqual([
      "[tier 0:00] validate/plan-check.test.ts: starting\n",
      "[tier 0:02] validate/plan-check.test.ts: started: plan-check pre-fix state\n",
      "[tier 1:05] validate/plan-check.test.ts: passed in 63.4 s: plan-check pre-fix state\n",
      "[tier 1:05] validate/plan-check.test.ts: started: plan-check empty state\n",
      "[tier 1:10] validate/plan-check.test.ts: failed in 5.0 s: plan-check empty state\n",
      "[tier 1:10] validate/plan-check.test.ts: done: 1 passed, 1 failed, 0 skipped\n",
    ]);
  });

  it("is the validate tier's reporter, beside jest's own", () => {
    expect(require("../jest.validate.config.js").reporters).toEqual(["default", "<rootDir>/validate/lib/progress-reporter.js"]);
  });
});
