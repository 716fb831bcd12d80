import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { production, staging } from "../config/environments";
import { buildApp } from "../stacks/app";
import { ZivoHealthStack } from "../stacks/zivohealth-stack";

const tmpOut = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), "zh-app-")), "cdktf.out");

describe("buildApp", () => {
  afterEach(() => jest.restoreAllMocks());

  it("builds one stack per environment and runs every stack's validations itself", () => {
    const validations = jest.spyOn(ZivoHealthStack.prototype, "runAllValidations");
    const outdir = tmpOut();
    buildApp({ production, staging }, { outdir }).synth();
    expect(validations).toHaveBeenCalledTimes(2);
    expect(fs.readdirSync(path.join(outdir, "stacks")).sort()).toEqual(["production", "staging"]);
  });

  it("synthesizes without a terraform binary on PATH (no `terraform version` check)", () => {
    const outdir = tmpOut();
    const saved = process.env.PATH;
    process.env.PATH = "/nonexistent";
    try {
      buildApp({ production }, { outdir }).synth();
    } finally {
      process.env.PATH = saved;
    }
    const json = JSON.parse(fs.readFileSync(path.join(outdir, "stacks/production/cdk.tf.json"), "utf8"));
    expect(json.moved).toHaveLength(28);
    expect(json.terraform.required_version).toBe(">= 1.5.0");
  });
});
