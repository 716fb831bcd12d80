// Environments are isolated: two stacks of one app never share a state, nor
// an object that both would create under the same fixed name, nor a VPC (its
// endpoints are one per VPC). Checked before the App exists, so a refusal
// writes nothing.
import * as path from "path";
import { BackendConfig, EnvironmentConfig } from "../config/environment";

/** The App's output folder, as cdktf's App resolves it. */
export const resolveOutdir = (outdir?: string): string => path.resolve(outdir ?? process.env.CDKTF_OUTDIR ?? "cdktf.out");

/**
 * Where a stack's state lives: the absolute path of a local state file
 * (relative paths are relative to `<outdir>/stacks/<stack>`, where cdktf runs
 * Terraform), or `s3://bucket/key`.
 */
export function backendLocation(outdir: string, stack: string, backend: BackendConfig): string {
  return backend.type === "local"
    ? path.resolve(outdir, "stacks", stack, backend.path)
    : `s3://${backend.bucket}/${backend.key}`;
}

/** Why two stacks cannot share a claim, unless said otherwise. */
const SAME_OBJECTS = "both would manage the same objects";

/**
 * Each stack's vpc_endpoints module creates the VPC's interface endpoints with private DNS (ecr.api,
 * ecr.dkr, ssm, logs, sqs) and its S3 gateway route: AWS takes one of each per VPC (per route table).
 */
const ONE_PER_VPC =
  "the vpc_endpoints module of each creates interface endpoints with private DNS (ecr.api, ecr.dkr, ssm, logs, sqs) " +
  "and the S3 gateway endpoint's route in it, which AWS allows once per VPC, so the second stack's apply fails";

/** What each stack claims alone: [what, which field to change, value, why two cannot share it]. */
function claims(outdir: string, stack: string, c: EnvironmentConfig): [what: string, field: string, value: string, why: string][] {
  const b = c.backend;
  const out: [string, string, string, string][] = [
    ["the backend", b?.type === "local" ? "backend.path" : "backend.key", b?.type ? backendLocation(outdir, stack, b) : "", "a plan of either would run against the other's objects"],
    // The environment names the queues, cluster, log group, roles and SSM parameters.
    ["the environment name", "environment", c.environment, SAME_OBJECTS],
    // `<project>-<environment>-` starts the IAM roles', the instance profile's and the backend repository's names:
    // project 'zivohealth-eu' with environment 'prod' names them as 'zivohealth' with 'eu-prod' does.
    ["the name prefix", "environment", typeof c.project === "string" && typeof c.environment === "string" ? `${c.project}-${c.environment}` : "", SAME_OBJECTS],
    ["the storage bucket", "storageBucketName", c.storageBucketName, SAME_OBJECTS],
    ["the DNS zone", "zoneName", c.zoneName, SAME_OBJECTS],
    ["the VPC", "existingVpcId", c.existingVpcId, ONE_PER_VPC],
  ];
  // Ecr's default name: the one repository both would import and manage.
  if (c.hardening?.adoptMlWorkerRepository) {
    out.push(["the adopted ML worker repository", "hardening.adoptMlWorkerRepository", "zivohealth-production-ml-worker", SAME_OBJECTS]);
  }
  return out;
}

/** Every pair of stacks that shares something, named. Reads invalid configurations too, defensively. */
export function checkIsolation(environments: Readonly<Record<string, EnvironmentConfig>>, outdir: string): string[] {
  return isolationProblems(environments, outdir).map((p) => p.problem);
}

/** `deployed` entries that name one object (those recording a name): `<address> '<name>'`. */
const deployedObjects = (c: EnvironmentConfig): string[] =>
  c && typeof c.deployed === "object" && c.deployed !== null
    ? Object.entries(c.deployed).flatMap(([address, identity]) =>
        identity && typeof identity === "object" && typeof identity.name === "string" ? [`${address} '${identity.name}'`] : [],
      )
    : [];

/**
 * checkIsolation's problems, each with the stack told to change (the later of the two). Two stacks
 * whose `deployed` record the same named objects: one was copied from the other, which for a new
 * environment is wrong (it has nothing deployed), and which the replacement guard would otherwise
 * report as renames of each.
 */
export function isolationProblems(environments: Readonly<Record<string, EnvironmentConfig>>, outdir: string): { stack: string; problem: string }[] {
  const first = new Map<string, string>();
  const problems: { stack: string; problem: string }[] = [];
  for (const [stack, config] of Object.entries(environments)) {
    for (const [what, field, value, why] of claims(outdir, stack, config)) {
      if (typeof value !== "string" || value === "") continue; // invalid: validateEnvironment reports it
      const key = `${what}\0${value}`;
      const other = first.get(key);
      if (other === undefined) first.set(key, stack);
      // One environment name in one project: said once, as the environment name.
      else if (what === "the name prefix" && environments[other].environment === config.environment) continue;
      else
        problems.push({
          stack,
          problem: `stacks '${other}' and '${stack}' share ${what} '${value}': ${why}; give '${stack}' its own ${field}`,
        });
    }
  }
  const recordedBy = new Map<string, string>();
  for (const [stack, config] of Object.entries(environments)) {
    const objects = deployedObjects(config);
    const shared = new Map<string, string[]>();
    for (const object of objects) {
      const other = recordedBy.get(object);
      if (other === undefined) recordedBy.set(object, stack);
      else shared.set(other, [...(shared.get(other) ?? []), object]);
    }
    for (const [other, same] of shared) {
      problems.push({
        stack,
        problem:
          `stacks '${other}' and '${stack}' record the same deployed objects (${same.join(", ")}): the deployed list of '${stack}' is a copy ` +
          `of the one of '${other}', and an object is deployed by one stack only. If '${stack}' is a new environment, nothing of it is deployed ` +
          `yet: set its deployed to {} and newEnvironment to true (docs/configuration.md, "Adding an environment")`,
      });
    }
  }
  return problems;
}
