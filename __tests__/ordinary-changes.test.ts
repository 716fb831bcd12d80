// The edits check:ordinary-changes makes to config/environments.ts (the check
// itself runs CI's commands on a copy, from .ci/run): each one exact, on the
// configuration as it is written now, and both together in one copy.
import * as fs from "fs";
import * as path from "path";
import { CHANGES, combined, failures } from "../scripts/ordinary-changes";

const text = fs.readFileSync(path.join(__dirname, "../config/environments.ts"), "utf8");
const changed = (before: string, after: string) => {
  const a = before.split("\n");
  const b = after.split("\n");
  return { removed: a.filter((l) => !b.includes(l)), added: b.filter((l) => !a.includes(l)) };
};
const change = (name: string) => CHANGES.find((c) => c.name === name)!;

describe("check:ordinary-changes' edits", () => {
  it("production-capacity changes production's maxCapacity, and only that line", () => {
    expect(changed(text, change("production-capacity").edit(text))).toEqual({
      removed: ["    maxCapacity: 5,"],
      added: ["    maxCapacity: 3,"],
    });
  });

  it("add-staging adds staging to environments as the README says, and only that", () => {
    const after = change("add-staging").edit(text);
    expect(changed(text, after)).toEqual({ removed: [], added: ["  staging,"] });
    expect(after).toContain("export const environments: Readonly<Record<string, EnvironmentConfig>> = {\n  production,\n  staging,\n};");
  });

  it("--together makes both edits in one text", () => {
    const both = combined(CHANGES);
    expect(both.name).toBe("production-capacity+add-staging");
    expect(changed(text, both.edit(text))).toEqual({ removed: ["    maxCapacity: 5,"], added: ["    maxCapacity: 3,", "  staging,"] });
  });

  it("refuses a configuration it cannot edit as written, naming what it looked for", () => {
    expect(() => change("add-staging").edit(change("add-staging").edit(text))).toThrow("config/environments.ts: staging is in environments already");
    expect(() => change("production-capacity").edit("export const other = {\n};")).toThrow("config/environments.ts has no 'export const production = {'");
  });

  it("names the failing tests from jest's output", () => {
    const out = "PASS a\nFAIL b\n  ● suite › a test that pinned 5\n\n  ● Console\n  ● suite › a test that pinned 5\n";
    expect(failures(out)).toEqual(["suite › a test that pinned 5"]);
  });
});
