// migrate-state's CLI as commands/migrate-state/index.ts runs it (runAsProcess: its process
// I/O, SIGINT and SIGTERM aborting the run), with production as the HCL root
// has it on the S3 backend given as JSON in ZH_TEST_S3_BACKEND: the S3 tests
// need the command as a process of its own (to kill it), and the configured
// stacks keep their state in a local file.
import { runAsProcess } from "../../commands/migrate-state"; // first: it loads stacks/startup before the rest
import { HCL_PRODUCTION } from "../../__tests__/fixtures/hcl-production";
import { S3BackendConfig } from "../../config/environment";

const backend = JSON.parse(process.env.ZH_TEST_S3_BACKEND ?? "null") as S3BackendConfig | null;
if (backend?.type !== "s3") {
  process.stderr.write("ZH_TEST_S3_BACKEND: give the S3 backend as JSON ({\"type\":\"s3\",...})\n");
  process.exit(2);
}
runAsProcess({ environments: { production: { ...HCL_PRODUCTION, backend } } });
