// The Terraform validation tier: each configuration of stackCases() is
// synthesized, written to a temporary directory as cdk.tf.json with
// hashicorp/aws pinned to the mirror's version, and checked with
// `terraform init -backend=false` + `terraform validate -json`.
// Without terraform or the provider mirror the tier is skipped, and says why.
import * as fs from "fs";
import { stackCases } from "./lib/stacks";
import { ValidationResult, formatDiagnostics, formatResult, validateConfig } from "../lib/terraform";
import { ENV, describeDetection } from "../lib/toolchain";
import { toolchainPreamble } from "./lib/toolchain-preamble";

const { detection, describeTier } = toolchainPreamble("terraform");
const keepDirs = process.env[ENV.keepDirs] === "1";

describeTier("terraform validate", () => {
  const results: ValidationResult[] = [];
  const started = Date.now();

  afterAll(() => {
    if (results.length === 0) return;
    const width = Math.max(...results.map((r) => r.name.length));
    const rows = results.map(
      (r) =>
        `  ${r.name.padEnd(width)}  init ${(r.initMs / 1000).toFixed(1)} s, validate ${(r.validateMs / 1000).toFixed(1)} s` +
        `${r.warnings.length ? `, ${r.warnings.length} warning(s)` : ""}${r.valid ? "" : " FAILED"}`,
    );
    const head = detection.ok ? describeDetection(detection) : "";
    console.log(`${head}\n${rows.join("\n")}\n  wall time ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  test.concurrent.each(stackCases().map((c) => [c.name, c] as const))("%s", async (_name, stackCase) => {
    if (!detection.ok) throw new Error("unreachable: the tier is skipped without a toolchain");
    const { config, files } = stackCase.config();
    const result = await validateConfig(stackCase.name, config, detection.toolchain, { files });
    results.push(result);
    if (result.warnings.length > 0) {
      console.warn(`${stackCase.name}: ${result.warnings.length} warning(s)\n\n${formatDiagnostics(result.warnings)}`);
    }
    try {
      const ok = result.valid && result.errors.length === 0 && !result.failure;
      if (!ok) throw new Error(formatResult(result));
      expect(result.stage).toBe("validate");
    } finally {
      // A failed stack's folder too: the failure above says what Terraform said (VALIDATE_KEEP_DIRS=1 keeps them all).
      if (!keepDirs) fs.rmSync(result.dir, { recursive: true, force: true });
    }
  });
});
