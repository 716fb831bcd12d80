// The preamble of each file of this tier that runs Terraform: the toolchain found once (lib/toolchain.ts), and a
// first test titled with what was found. Without one, that test fails under VALIDATE_REQUIRE_TERRAFORM=1 (as in
// CI); otherwise it passes titled `SKIPPED: ...`, a warning says so, and the file's Terraform tests are skipped:
// a missing toolchain is a failure or a skip said out loud, never a silent pass.
import { Detection, ENV, describeDetection, detectToolchain } from "../../lib/toolchain";

export interface TierToolchain {
  readonly detection: Detection;
  /** `describe` with a toolchain, `describe.skip` without one. */
  readonly describeTier: jest.Describe;
  /** The toolchain's terraform, else `terraform` (for helpers that only run inside the skipped tests). */
  readonly terraform: string;
}

/** The toolchain test's verdict: throws, naming the variable and the reason, when a required toolchain is missing. */
export function requireToolchain(detection: Detection, env: NodeJS.ProcessEnv = process.env): string {
  if (!detection.ok && env[ENV.require] === "1") throw new Error(`${ENV.require}=1 but ${detection.reason}`);
  return describeDetection(detection);
}

/** The warning a file prints when it runs without a toolchain; undefined with one. */
export function skipWarning(detection: Detection, label: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (detection.ok) return undefined;
  return `${describeDetection(detection)} (${label}${env[ENV.require] === "1" ? "" : `; set ${ENV.require}=1 to fail instead`})`;
}

/**
 * Detects the toolchain and registers the test `<label> toolchain: <what was found>` at the top of the calling
 * file (call it at its top level, before its describe blocks).
 */
export function toolchainPreamble(label: string, detect: () => Detection = detectToolchain): TierToolchain {
  const detection = detect();
  const warning = skipWarning(detection, label);
  if (warning) console.warn(warning);
  test(`${label} toolchain: ${describeDetection(detection)}`, () => {
    expect(requireToolchain(detection)).toMatch(detection.ok ? /^terraform / : /^SKIPPED: /);
  });
  return {
    detection,
    describeTier: detection.ok ? describe : describe.skip,
    terraform: detection.ok ? detection.toolchain.terraform : "terraform",
  };
}
