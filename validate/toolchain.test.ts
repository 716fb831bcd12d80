// The tier's detection and plumbing, without terraform: a fake terraform
// script and a fake mirror in temporary directories.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Diagnostic, cliConfig, formatDiagnostic, formatDiagnostics, parseInitDiagnostics, pinAwsToMirror } from "../lib/terraform";
import {
  compareVersions,
  describeDetection,
  detectToolchain,
  findOnPath,
  mirrorProviderVersions,
  optionsFromEnv,
  ProbeInterrupted,
  terraformEnv,
  terraformPlatform,
} from "../lib/toolchain";
import { requireToolchain, skipWarning } from "./lib/toolchain-preamble";

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "validate-toolchain-test-"));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A `terraform` that prints `version -json` output, in its own bin folder. */
function fakeTerraform(version: string, opts: { exitCode?: number } = {}): string {
  const bin = path.join(tmp, "bin");
  fs.mkdirSync(bin, { recursive: true });
  const file = path.join(bin, "terraform");
  const body = opts.exitCode ? `echo broken >&2; exit ${opts.exitCode}` : `echo '{"terraform_version":"${version}","platform":"linux_amd64"}'`;
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return bin;
}

/** An unpacked mirror entry: <mirror>/registry.terraform.io/hashicorp/aws/<version>/<platform>/terraform-provider-aws_v<version>_x5 */
function mirrorEntry(mirror: string, version: string, platform: string, withBinary = true): void {
  const dir = path.join(mirror, "registry.terraform.io", "hashicorp", "aws", version, platform);
  fs.mkdirSync(dir, { recursive: true });
  if (withBinary) fs.writeFileSync(path.join(dir, `terraform-provider-aws_v${version}_x5`), "", { mode: 0o755 });
}

describe("terraformPlatform", () => {
  it("maps Node's names to Terraform's", () => {
    expect(terraformPlatform("linux", "x64")).toBe("linux_amd64");
    expect(terraformPlatform("linux", "arm64")).toBe("linux_arm64");
    expect(terraformPlatform("darwin", "arm64")).toBe("darwin_arm64");
    expect(terraformPlatform("win32", "x64")).toBe("windows_amd64");
  });
});

describe("compareVersions", () => {
  it("compares numerically, a pre-release before its release", () => {
    expect(compareVersions("5.100.0", "5.99.1")).toBeGreaterThan(0);
    expect(compareVersions("6.17.0", "6.17.0")).toBe(0);
    expect(compareVersions("1.4.7", "1.5.0")).toBeLessThan(0);
    expect(compareVersions("1.11.0-beta1", "1.11.0")).toBeLessThan(0);
  });
});

describe("mirrorProviderVersions", () => {
  it("lists this platform's versions, unpacked and packed, highest first", () => {
    const mirror = path.join(tmp, "mirror");
    mirrorEntry(mirror, "5.99.0", "linux_amd64");
    mirrorEntry(mirror, "5.100.0", "linux_amd64");
    mirrorEntry(mirror, "7.0.0", "darwin_arm64"); // another platform
    mirrorEntry(mirror, "6.1.0", "linux_amd64", false); // empty platform folder
    fs.writeFileSync(path.join(mirror, "registry.terraform.io", "hashicorp", "aws", "terraform-provider-aws_6.0.0_linux_amd64.zip"), "");
    expect(mirrorProviderVersions(mirror, "linux_amd64")).toEqual(["6.0.0", "5.100.0", "5.99.0"]);
    expect(mirrorProviderVersions(mirror, "darwin_arm64")).toEqual(["7.0.0"]);
  });

  it("is empty for a missing mirror", () => {
    expect(mirrorProviderVersions(path.join(tmp, "nowhere"), "linux_amd64")).toEqual([]);
  });
});

describe("findOnPath", () => {
  it("finds an executable file, not a folder or a plain file", () => {
    const bin = fakeTerraform("1.11.4");
    const plain = path.join(tmp, "plain");
    fs.mkdirSync(path.join(plain, "terraform"), { recursive: true }); // a folder named terraform
    expect(findOnPath("terraform", [plain, bin].join(path.delimiter))).toBe(path.join(bin, "terraform"));
    fs.chmodSync(path.join(bin, "terraform"), 0o644);
    expect(findOnPath("terraform", bin)).toBeUndefined();
  });
});

describe("detectToolchain", () => {
  const platform = "linux_amd64";

  it("skips without terraform on the PATH, naming the PATH searched", () => {
    const d = detectToolchain({ pathEnv: path.join(tmp, "empty"), mirrorDir: tmp, platform });
    expect(d).toEqual({ ok: false, reason: `no terraform on the PATH (searched: ${path.join(tmp, "empty")})` });
    expect(describeDetection(d)).toMatch(/^SKIPPED: terraform validate tier not run: no terraform on the PATH/);
  });

  it("skips when VALIDATE_TERRAFORM is not an executable", () => {
    const d = detectToolchain({ terraformBin: path.join(tmp, "missing"), mirrorDir: tmp, platform });
    expect(d.ok).toBe(false);
    expect(!d.ok && d.reason).toMatch(/VALIDATE_TERRAFORM=.*missing is not an executable file/);
  });

  it("skips when terraform does not answer version -json", () => {
    const d = detectToolchain({ pathEnv: fakeTerraform("", { exitCode: 3 }), mirrorDir: tmp, platform });
    expect(!d.ok && d.reason).toMatch(/terraform version -json failed/);
  });

  it("a probe stopped by an interrupt (Ctrl-C reaches the child too) throws ProbeInterrupted, not a toolchain reason", () => {
    const bin = path.join(tmp, "interrupted");
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, "terraform"), "#!/bin/sh\nkill -INT $$\nsleep 5\n", { mode: 0o755 });
    let thrown: unknown;
    try {
      detectToolchain({ pathEnv: bin, mirrorDir: tmp, platform });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ProbeInterrupted);
    expect(thrown).toMatchObject({ signal: "SIGINT", message: `${path.join(bin, "terraform")} version -json was interrupted (SIGINT)` });
    // Killed otherwise (not an interrupt): a failed probe, said as such.
    fs.writeFileSync(path.join(bin, "terraform"), "#!/bin/sh\nkill -KILL $$\n", { mode: 0o755 });
    const d = detectToolchain({ pathEnv: bin, mirrorDir: tmp, platform });
    expect(!d.ok && d.reason).toBe(`${path.join(bin, "terraform")} version -json failed: Command failed: ${path.join(bin, "terraform")} version -json`);
  });

  it("skips a terraform older than 1.5.0", () => {
    const d = detectToolchain({ pathEnv: fakeTerraform("1.4.7"), mirrorDir: tmp, platform });
    expect(!d.ok && d.reason).toMatch(/is Terraform 1\.4\.7; the tier needs >= 1\.5\.0$/);
  });

  it("skips without the mirror", () => {
    const mirror = path.join(tmp, "no-mirror");
    const d = detectToolchain({ pathEnv: fakeTerraform("1.11.4"), mirrorDir: mirror, platform });
    expect(d).toEqual({ ok: false, reason: `no provider mirror at ${mirror}` });
  });

  it("skips when the mirror has no hashicorp/aws for this platform", () => {
    const mirror = path.join(tmp, "mirror");
    mirrorEntry(mirror, "5.100.0", "darwin_arm64");
    const d = detectToolchain({ pathEnv: fakeTerraform("1.11.4"), mirrorDir: mirror, platform });
    expect(d).toEqual({
      ok: false,
      reason: `the provider mirror ${mirror} has no registry.terraform.io/hashicorp/aws for linux_amd64`,
    });
  });

  it("finds terraform and the mirror's highest aws version", () => {
    const mirror = path.join(tmp, "mirror");
    mirrorEntry(mirror, "5.99.0", platform);
    mirrorEntry(mirror, "5.100.0", platform);
    const bin = fakeTerraform("1.11.4");
    const d = detectToolchain({ pathEnv: bin, mirrorDir: mirror, platform });
    expect(d).toEqual({
      ok: true,
      toolchain: { terraform: path.join(bin, "terraform"), terraformVersion: "1.11.4", mirrorDir: mirror, platform, awsVersion: "5.100.0" },
    });
    expect(describeDetection(d)).toBe(
      `terraform 1.11.4 (${path.join(bin, "terraform")}), hashicorp/aws 5.100.0 from the mirror ${mirror} (linux_amd64)`,
    );
  });

  it("reads VALIDATE_TERRAFORM and VALIDATE_PLUGIN_MIRROR, defaulting to PATH and /opt/tf-plugins", () => {
    expect(optionsFromEnv({ PATH: "/a:/b" })).toEqual({ pathEnv: "/a:/b", terraformBin: undefined, mirrorDir: "/opt/tf-plugins" });
    expect(optionsFromEnv({ PATH: "", VALIDATE_TERRAFORM: "/x/terraform", VALIDATE_PLUGIN_MIRROR: "/m" })).toEqual({
      pathEnv: "",
      terraformBin: "/x/terraform",
      mirrorDir: "/m",
    });
  });
});

describe("terraformEnv", () => {
  it("drops the caller's TF_* variables and sets the tier's", () => {
    const env = terraformEnv(
      { TF_CLI_CONFIG_FILE: "/tmp/x/cli.tfrc" },
      {
        PATH: "/usr/bin",
        HOME: "/root",
        TF_CLI_CONFIG_FILE: "/root/.terraformrc",
        TF_PLUGIN_CACHE_DIR: "/cache",
        TF_CLI_ARGS_init: "-upgrade",
        TF_DATA_DIR: "/elsewhere",
      },
    );
    expect(env).toEqual({
      PATH: "/usr/bin",
      HOME: "/root",
      CHECKPOINT_DISABLE: "1",
      TF_IN_AUTOMATION: "1",
      TF_CLI_CONFIG_FILE: "/tmp/x/cli.tfrc",
    });
  });
});

describe("cliConfig", () => {
  it("installs hashicorp/aws from the mirror only", () => {
    expect(cliConfig("/opt/tf-plugins")).toBe(
      [
        "provider_installation {",
        "  filesystem_mirror {",
        '    path    = "/opt/tf-plugins"',
        '    include = ["registry.terraform.io/hashicorp/aws"]',
        "  }",
        "}",
        "",
      ].join("\n"),
    );
  });
});

describe("pinAwsToMirror", () => {
  it("pins hashicorp/aws to the mirror's version, leaving the input alone", () => {
    const config = { terraform: { required_providers: { aws: { source: "aws", version: "6.17.0" } }, required_version: ">= 1.5.0" } };
    const { config: pinned, pinned: was } = pinAwsToMirror(config, "5.100.0");
    expect(was).toBe("6.17.0");
    expect(pinned.terraform).toEqual({
      required_providers: { aws: { source: "hashicorp/aws", version: "5.100.0" } },
      required_version: ">= 1.5.0",
    });
    expect(config.terraform.required_providers.aws.version).toBe("6.17.0");
  });

  it("refuses a provider the mirror does not have", () => {
    const config = { terraform: { required_providers: { aws: { version: "6.17.0" }, random: { version: "3.7.2" } } } };
    expect(() => pinAwsToMirror(config, "5.100.0")).toThrow(/also requires: random/);
  });
});

describe("diagnostics", () => {
  const diagnostic: Diagnostic = {
    severity: "error",
    summary: "Invalid expression",
    detail: "A single static variable reference is required.",
    range: { filename: "cdk.tf.json", start: { line: 12, column: 11 } },
    snippet: { context: "resource.aws_sqs_queue.q.depends_on", code: '          "${module.vpc_endpoints}"' },
  };

  it("reads init -json's diagnostic lines", () => {
    const stdout = [
      JSON.stringify({ "@level": "info", type: "version", terraform: "1.11.4" }),
      JSON.stringify({ "@level": "error", type: "diagnostic", diagnostic }),
      "not json",
    ].join("\n");
    expect(parseInitDiagnostics(stdout)).toEqual([diagnostic]);
  });

  it("formats a diagnostic with where, the code and the detail", () => {
    expect(formatDiagnostic(diagnostic)).toBe(
      [
        "error: Invalid expression",
        "  in cdk.tf.json:12:11 (resource.aws_sqs_queue.q.depends_on)",
        '  | "${module.vpc_endpoints}"',
        "  A single static variable reference is required.",
      ].join("\n"),
    );
  });

  it("groups the same diagnostic in several places", () => {
    const other: Diagnostic = { ...diagnostic, range: { filename: "cdk.tf.json", start: { line: 40, column: 11 } }, snippet: { context: "resource.aws_sqs_queue.r.depends_on", code: '"${module.vpc_endpoints}"' } };
    const warning: Diagnostic = { severity: "warning", summary: "Deprecated attribute" };
    expect(formatDiagnostics([diagnostic, other, warning])).toBe(
      [
        "error: Invalid expression (2 places)",
        "  A single static variable reference is required.",
        '  in cdk.tf.json:12:11 (resource.aws_sqs_queue.q.depends_on): "${module.vpc_endpoints}"',
        '  in cdk.tf.json:40:11 (resource.aws_sqs_queue.r.depends_on): "${module.vpc_endpoints}"',
        "",
        "warning: Deprecated attribute",
      ].join("\n"),
    );
  });
});

describe("the preamble of the tier's Terraform files (validate/lib/toolchain-preamble.ts)", () => {
  const missing = { ok: false as const, reason: "terraform was not found on the PATH" };
  const found = { ok: true as const, toolchain: { terraform: "/usr/bin/terraform", terraformVersion: "1.11.4", mirrorDir: "/opt/tf-plugins", platform: "linux_amd64", awsVersion: "5.100.0" } };

  it("a missing toolchain fails the toolchain test under VALIDATE_REQUIRE_TERRAFORM=1, naming the variable and the reason", () => {
    expect(() => requireToolchain(missing, { VALIDATE_REQUIRE_TERRAFORM: "1" })).toThrow(
      new Error("VALIDATE_REQUIRE_TERRAFORM=1 but terraform was not found on the PATH"),
    );
  });

  it("without it, the test passes only as SKIPPED, and a warning says so and how to fail instead", () => {
    expect(requireToolchain(missing, {})).toBe("SKIPPED: terraform validate tier not run: terraform was not found on the PATH");
    expect(requireToolchain(missing, { VALIDATE_REQUIRE_TERRAFORM: "0" })).toBe("SKIPPED: terraform validate tier not run: terraform was not found on the PATH");
    expect(skipWarning(missing, "plan-check", {})).toBe(
      "SKIPPED: terraform validate tier not run: terraform was not found on the PATH (plan-check; set VALIDATE_REQUIRE_TERRAFORM=1 to fail instead)",
    );
    expect(skipWarning(missing, "plan-check", { VALIDATE_REQUIRE_TERRAFORM: "1" })).toBe(
      "SKIPPED: terraform validate tier not run: terraform was not found on the PATH (plan-check)",
    );
  });

  it("a toolchain found: the test is titled with it, no warning", () => {
    const said = "terraform 1.11.4 (/usr/bin/terraform), hashicorp/aws 5.100.0 from the mirror /opt/tf-plugins (linux_amd64)";
    expect(requireToolchain(found, { VALIDATE_REQUIRE_TERRAFORM: "1" })).toBe(said);
    expect(skipWarning(found, "plan-check", {})).toBeUndefined();
  });
});
