// npm run bench's options: bench/latest.* are tracked files, written only when asked.
import { USAGE, UsageError, parseArgs } from "../bench";
import * as fs from "fs";
import * as path from "path";
import { templateFileAction, withoutStartup } from "../bench/template-variant";

describe("npm run bench options", () => {
  it("prints only by default: no tracked file is overwritten", () => {
    expect(parseArgs([])).toEqual({
      runs: 5,
      warmup: 1,
      quick: false,
      skipTemplate: false,
      skipPlanCheck: false,
      sampleMs: 20,
      timeoutS: 600,
      out: null,
      strict: false,
      help: false,
    });
    expect(parseArgs(["--quick"])).toMatchObject({ quick: true, runs: 3, warmup: 1, out: null });
    expect(parseArgs(["--skip-plan-check"]).skipPlanCheck).toBe(true);
  });

  it("--write records the results in bench/; --out elsewhere", () => {
    expect(parseArgs(["--write"]).out).toBe("bench");
    expect(parseArgs(["--out", "/tmp/bench-results"]).out).toBe("/tmp/bench-results");
    expect(parseArgs(["--out", "/tmp/x", "--write"]).out).toBe("/tmp/x");
  });

  it("the usage says so, and --quick is an option; --help does not exit the process", () => {
    expect(USAGE).toContain("(without --write or --out the results are printed only)");
    expect(USAGE).toContain("--quick");
    expect(parseArgs(["--help"]).help).toBe(true);
  });

  it("refuses what it does not know, --no-write included (printing only is the default now)", () => {
    expect(() => parseArgs(["--no-write"])).toThrow(new UsageError("unknown option: --no-write"));
    expect(() => parseArgs(["--runs", "0"])).toThrow(new UsageError("--runs needs a number >= 1"));
    expect(() => parseArgs(["--runs", "3", "--runs", "5"])).toThrow(new UsageError("--runs is given twice: it takes one value"));
    expect(() => parseArgs(["--out", "a", "--out", "b"])).toThrow(new UsageError("--out is given twice: it takes one value"));
  });
});

describe("the template variant's copy of the project", () => {
  it("copies the files the app reads besides its sources (the compute templates), rewrites the sources, skips the rest", () => {
    expect(templateFileAction("modules/compute/user_data_minimal.sh.tpl")).toBe("copy");
    expect(templateFileAction("modules/compute/docker-compose.yml.tpl")).toBe("copy");
    expect(templateFileAction("tsconfig.json")).toBe("copy");
    expect(templateFileAction("types/cdktf-jest.d.ts")).toBe("copy");
    expect(templateFileAction("modules/compute.ts")).toBe("rewrite");
    expect(templateFileAction("main.ts")).toBe("rewrite");
    expect(templateFileAction("bench/index.ts")).toBe("skip");
    expect(templateFileAction("node_modules")).toBe("skip");
    expect(templateFileAction("compat/cdktn/node_modules/cdktn/package.json")).toBe("skip");
    expect(templateFileAction(".git")).toBe("skip");
  });
});

describe("the template variant", () => {
  it("runs main.ts without the startup (the template's app has none); a main.ts without it is an error, not a silent copy", () => {
    const main = fs.readFileSync(path.join(__dirname, "..", "main.ts"), "utf8");
    const template = withoutStartup(main);
    expect(main.split("\n").filter((l) => !template.split("\n").includes(l))).toEqual(['import "./stacks/startup";']);
    expect(() => withoutStartup(template)).toThrow('main.ts no longer imports "./stacks/startup": bench/template-variant.ts removes that line');
  });
});
