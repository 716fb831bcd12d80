// Environments are isolated: two stacks of one app never share a state, nor
// an object that both would create under the same fixed name. Checked before
// the App exists, so a refusal writes nothing.
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

/** What each stack claims alone: [what, which field to change, value]. */
function claims(outdir: string, stack: string, c: EnvironmentConfig): [what: string, field: string, value: string][] {
  const b = c.backend;
  const out: [string, string, string][] = [
    ["the backend", b?.type === "local" ? "backend.path" : "backend.key", b?.type ? backendLocation(outdir, stack, b) : ""],
    // The environment names the queues, cluster, log group, roles and SSM parameters.
    ["the environment name", "environment", c.environment],
    ["the storage bucket", "storageBucketName", c.storageBucketName],
    ["the DNS zone", "zoneName", c.zoneName],
  ];
  // Ecr's default name: the one repository both would import and manage.
  if (c.hardening?.adoptMlWorkerRepository) out.push(["the adopted ML worker repository", "hardening.adoptMlWorkerRepository", "zivohealth-production-ml-worker"]);
  return out;
}

/** Every pair of stacks that shares something, named. Reads invalid configurations too, defensively. */
export function checkIsolation(environments: Readonly<Record<string, EnvironmentConfig>>, outdir: string): string[] {
  const first = new Map<string, string>();
  const problems: string[] = [];
  for (const [stack, config] of Object.entries(environments)) {
    for (const [what, field, value] of claims(outdir, stack, config)) {
      if (typeof value !== "string" || value === "") continue; // invalid: validateEnvironment reports it
      const key = `${what}\0${value}`;
      const other = first.get(key);
      if (other === undefined) first.set(key, stack);
      else
        problems.push(
          `stacks '${other}' and '${stack}' share ${what} '${value}': ` +
            (what === "the backend"
              ? "a plan of either would run against the other's objects"
              : "both would manage the same objects") +
            `; give '${stack}' its own ${field}`,
        );
    }
  }
  return problems;
}
