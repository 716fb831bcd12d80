// The edits check:ordinary-changes makes to config/environments.ts (the check
// itself runs CI's commands on a copy, from .ci/run). Exact, line by line, on a
// text FROZEN here in the shape config/environments.ts is written (production's
// block, a stack that inherits its mlWorker, the environments table): the check
// runs npm test in a copy whose configuration it has just changed, so a test
// pinning the live file's 5 and its missing staging would fail there. On the
// configuration as it is written now, the edits are judged against what the
// configuration says (production's capacity, whether staging is in environments).
import * as fs from "fs";
import * as path from "path";
import { environments, production } from "../config/environments";
import { CAPACITY_PLACE, CHANGES, capacityLiteral, combined, failures } from "../tools/ordinary-changes";

const FROZEN = [
  'import { EnvironmentConfig } from "./environment";',
  "",
  "export const production: EnvironmentConfig = {",
  '  environment: "production",',
  "  mlWorker: {",
  '    workerMode: "sqs",',
  "    minCapacity: 0,",
  "    maxCapacity: 5,",
  "    targetQueueDepth: 0.5,",
  "  },",
  "};",
  "",
  "export const productionFirstDeployment: EnvironmentConfig = {",
  "  ...production,",
  '  mlWorker: { ...production.mlWorker, workerMode: "aggregation", minCapacity: 1, maxCapacity: 1 },',
  "};",
  "",
  "export const staging: EnvironmentConfig = {",
  "  ...production,",
  '  environment: "staging",',
  "  mlWorker: { ...production.mlWorker, maxCapacity: 2 },",
  "};",
  "",
  "/** The stacks `main.ts` synthesizes, by stack name. Add `staging` here to deploy it. */",
  "export const environments: Readonly<Record<string, EnvironmentConfig>> = {",
  "  production,",
  "};",
  "",
].join("\n");

const live = fs.readFileSync(path.join(__dirname, "../config/environments.ts"), "utf8");
const changed = (before: string, after: string) => {
  const a = before.split("\n");
  const b = after.split("\n");
  return { removed: a.filter((l) => !b.includes(l)), added: b.filter((l) => !a.includes(l)) };
};
const change = (name: string) => CHANGES.find((c) => c.name === name)!;

describe("check:ordinary-changes' edits (on a frozen text)", () => {
  it("production-capacity changes production's maxCapacity 5 -> 3, and only that line", () => {
    expect(changed(FROZEN, change("production-capacity").edit(FROZEN))).toEqual({
      removed: ["    maxCapacity: 5,"],
      added: ["    maxCapacity: 3,"],
    });
  });

  it("production-capacity changes a capacity of 3 to 4 (a change, whatever the capacity)", () => {
    const three = FROZEN.replace("    maxCapacity: 5,", "    maxCapacity: 3,");
    expect(changed(three, change("production-capacity").edit(three))).toEqual({ removed: ["    maxCapacity: 3,"], added: ["    maxCapacity: 4,"] });
  });

  it("add-staging adds staging to environments as the README says, and only that", () => {
    const after = change("add-staging").edit(FROZEN);
    expect(changed(FROZEN, after)).toEqual({ removed: [], added: ["  staging,"] });
    expect(after).toContain("export const environments: Readonly<Record<string, EnvironmentConfig>> = {\n  production,\n  staging,\n};");
  });

  it("--together makes both edits in one text", () => {
    const both = combined(CHANGES);
    expect(both.name).toBe("production-capacity+add-staging");
    expect(changed(FROZEN, both.edit(FROZEN))).toEqual({ removed: ["    maxCapacity: 5,"], added: ["    maxCapacity: 3,", "  staging,"] });
  });

  it("refuses a configuration it cannot edit as written, naming what it looked for", () => {
    expect(() => change("add-staging").edit(change("add-staging").edit(FROZEN))).toThrow("config/environments.ts: staging is in environments already");
    const capacity = (text: string) => () => change("production-capacity").edit(text);
    const refusal = (why: string) => `config/environments.ts: ${why}; looked for ${CAPACITY_PLACE}`;
    expect(CAPACITY_PLACE).toBe("production's ML worker capacity: the number in 'export const production = { mlWorker: { maxCapacity: <number> } }'");
    expect(capacity("export const other = {\n};")).toThrow(refusal("there is no 'export const production'"));
    expect(capacity("export const production = base;")).toThrow(refusal("production's value is not an object literal '{ ... }'"));
    expect(capacity("export const production = {\n  mlWorker: {},\n};")).toThrow(refusal("production's mlWorker has no 'maxCapacity:'"));
    expect(capacity("export const production = {\n  maxCapacity: 5,\n};")).toThrow(refusal("production has no 'mlWorker:'"));
    expect(capacity("export const production = {\n  mlWorker,\n};")).toThrow(refusal("production's 'mlWorker' is not written 'mlWorker: <value>'"));
    expect(capacity("export const production = {\n  mlWorker: workerDefaults,\n};")).toThrow(refusal("production's mlWorker is not an object literal '{ ... }'"));
    expect(capacity("export const production = {\n  mlWorker: { maxCapacity: LIMIT },\n};")).toThrow(
      refusal("production's mlWorker.maxCapacity is 'LIMIT', not a number literal"),
    );
  });

  it("refuses a place where the capacity that counts is ambiguous: written twice, or a spread after it", () => {
    const capacity = (text: string) => () => change("production-capacity").edit(text);
    const refusal = (why: string) => `config/environments.ts: ${why}; looked for ${CAPACITY_PLACE}`;
    expect(capacity("export const production = {\n  mlWorker: { maxCapacity: 5, maxCapacity: 4 },\n};")).toThrow(
      refusal("production's mlWorker has 'maxCapacity' 2 times"),
    );
    expect(capacity("export const production = {\n  mlWorker: { maxCapacity: 5 },\n  mlWorker: { maxCapacity: 4 },\n};")).toThrow(
      refusal("production has 'mlWorker' 2 times"),
    );
    expect(capacity("export const production = {\n  mlWorker: { maxCapacity: 5, ...sized },\n};")).toThrow(
      refusal("production's mlWorker has a spread ('...') after 'maxCapacity:', which may replace it"),
    );
    expect(capacity("export const production = {\n  mlWorker: { maxCapacity: 5 },\n  ...base,\n};")).toThrow(
      refusal("production has a spread ('...') after 'mlWorker:', which may replace it"),
    );
  });

  it("production-capacity edits the ML worker's maxCapacity, not another maxCapacity written before it in production's block", () => {
    // An API autoscaling block (and a comment) with a maxCapacity of its own, before mlWorker.
    const first = FROZEN.replace(
      '  environment: "production",\n',
      '  environment: "production",\n  // maxCapacity: 9, the old limit\n  apiAutoscaling: {\n    maxCapacity: 4,\n  },\n',
    );
    expect(first).toContain("    maxCapacity: 4,\n  },\n  mlWorker: {");
    expect(changed(first, change("production-capacity").edit(first))).toEqual({ removed: ["    maxCapacity: 5,"], added: ["    maxCapacity: 3,"] });
    expect(capacityLiteral(change("production-capacity").edit(first)).value).toBe(3);
  });

  it("production-capacity edits a mlWorker written on one line, changing only its maxCapacity", () => {
    const inline = FROZEN.replace(
      '  mlWorker: {\n    workerMode: "sqs",\n    minCapacity: 0,\n    maxCapacity: 5,\n    targetQueueDepth: 0.5,\n  },\n',
      '  mlWorker: { workerMode: "sqs", minCapacity: 0, maxCapacity: 5, targetQueueDepth: 0.5 },\n',
    );
    expect(changed(inline, change("production-capacity").edit(inline))).toEqual({
      removed: ['  mlWorker: { workerMode: "sqs", minCapacity: 0, maxCapacity: 5, targetQueueDepth: 0.5 },'],
      added: ['  mlWorker: { workerMode: "sqs", minCapacity: 0, maxCapacity: 3, targetQueueDepth: 0.5 },'],
    });
  });

  it("names the failing tests from jest's output", () => {
    const out = "PASS a\nFAIL b\n  ● suite › a test that pinned 5\n\n  ● Console\n  ● suite › a test that pinned 5\n";
    expect(failures(out)).toEqual(["suite › a test that pinned 5"]);
  });
});

describe("check:ordinary-changes' edits on config/environments.ts as it is written now", () => {
  const capacity = production.mlWorker.maxCapacity;
  const next = capacity === 3 ? 4 : 3;

  it(`production-capacity changes only production's maxCapacity line (the configuration's ${capacity} -> ${next})`, () => {
    const { removed, added } = changed(live, change("production-capacity").edit(live));
    expect(removed).toHaveLength(1);
    expect(removed[0]).toMatch(new RegExp(`^\\s*maxCapacity: ${capacity},$`));
    expect(added).toEqual([removed[0].replace(`maxCapacity: ${capacity},`, `maxCapacity: ${next},`)]);
  });

  if ("staging" in environments) {
    it("add-staging refuses: staging is in environments already (the configuration has it)", () => {
      expect(() => change("add-staging").edit(live)).toThrow("config/environments.ts: staging is in environments already");
    });
  } else {
    it("add-staging adds one line, staging, to environments (the configuration has no staging in it)", () => {
      expect(changed(live, change("add-staging").edit(live))).toEqual({ removed: [], added: ["  staging,"] });
    });
  }
});
