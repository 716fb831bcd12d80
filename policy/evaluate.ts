// Running the policy over a synthesized Terraform JSON document (as
// `cdktf.out/stacks/<stack>/cdk.tf.json`, `Testing.synth` or `TerraformStack.toTerraform()`
// give it): every check, then the configuration's exemptions and blocking severities.
import { DEFAULT_POLICY_CONFIG, PolicyConfig, PolicyExemption, SEVERITIES, Severity } from "./config";
import {
  checkAlarms,
  checkEcr,
  checkEcsServices,
  checkLogGroups,
  checkSecurityGroups,
  checkSqsEncryption,
  checkTaskDefinitions,
} from "./checks";
import { checkIamPolicies, checkTrustPolicies } from "./iam";
import { checkResourcePolicies } from "./resource-policy";
import { isObject } from "./document";
import { ExemptedFinding, Finding, PolicyResult, RULES, sortFindings } from "./rules";
import { scanSecrets } from "./secrets";

/** Every finding on the document, sorted; exemptions are not applied. */
export function checkTerraform(doc: unknown, config: Pick<PolicyConfig, "logRetentionFloorDays"> = DEFAULT_POLICY_CONFIG): Finding[] {
  const d = isObject(doc) ? doc : {};
  const findings = [
    ...checkSqsEncryption(d),
    ...checkResourcePolicies(d),
    ...checkEcr(d),
    ...checkLogGroups(d, config.logRetentionFloorDays),
    ...checkTaskDefinitions(d),
    ...checkEcsServices(d),
    ...checkSecurityGroups(d),
    ...checkIamPolicies(d),
    ...checkTrustPolicies(d),
    ...checkAlarms(d),
    ...scanSecrets(d),
  ];
  // One finding once (a data source's statement is read as a permission policy and as a trust policy).
  const seen = new Set<string>();
  return sortFindings(findings.filter((f) => !seen.has(JSON.stringify(f)) && seen.add(JSON.stringify(f)) !== undefined));
}

/** Findings, exempted findings and blocking findings under a configuration. */
export function evaluatePolicy(doc: unknown, config: PolicyConfig = DEFAULT_POLICY_CONFIG): PolicyResult {
  const all = checkTerraform(doc, config);
  const exemptions = config.exemptions ?? [];
  const findings: Finding[] = [];
  const exempted: ExemptedFinding[] = [];
  for (const f of all) {
    const e = exemptions.find((x: PolicyExemption) => x.id === f.id && x.address === f.address);
    if (e) exempted.push({ ...f, reason: e.reason });
    else findings.push(f);
  }
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, findings.filter((f) => f.severity === s).length])) as Record<Severity, number>;
  const blocking = findings.filter((f) => config.blockingSeverities.includes(f.severity));
  const unmatchedExemptions = exemptions
    .map((exemption, index) => ({ index, exemption }))
    .filter(({ exemption: e }) => !all.some((f) => f.id === e.id && f.address === e.address));
  return { findings, exempted, blocking, counts, unmatchedExemptions };
}

/**
 * What is wrong with each exemption that matched nothing, naming it by
 * `<field>[index]` (`field`, e.g. `policy.config.exemptions`): an unknown rule
 * id, a finding that is gone, or an address the rule does not report.
 */
export function unmatchedExemptionProblems(result: PolicyResult, field = "exemptions"): string[] {
  const all: Finding[] = [...result.findings, ...result.exempted];
  return result.unmatchedExemptions.map(({ index, exemption: e }) => {
    const name = `${field}[${index}] (${e.id} at ${e.address})`;
    if (!(e.id in RULES)) return `${name} matches no finding: ${e.id} is not a rule id (rules: ${Object.keys(RULES).join(", ")})`;
    const sameRule = [...new Set(all.filter((f) => f.id === e.id).map((f) => f.address))];
    if (sameRule.length === 0) return `${name} matches no finding: the stack has no ${e.id} finding any more; remove the exemption`;
    return `${name} matches no finding: ${e.id} is reported at ${sameRule.join(", ")}; correct the address or remove the exemption`;
  });
}
