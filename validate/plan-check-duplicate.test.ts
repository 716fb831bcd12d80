// plan-check with Terraform on a stack that declares the DLQ alarm a second time, at a new address, with the
// same alarm_name: Terraform plans a create beside the alarm the post-fix state holds, and the gate fails,
// naming both addresses and the attribute. A file of its own: the alarm's construct is replaced for the
// whole file (jest.mock), which the other plan-check tests must not see.
import * as fs from "fs";
import * as path from "path";
import { HCL_PRODUCTION as production } from "../__tests__/fixtures/hcl-production";
import { tempDir } from "../__tests__/tmp";
import { main } from "../commands/plan-check";
import { PlanCheckReport } from "../lib/plan/report";
import { toolchainPreamble } from "./lib/toolchain-preamble";

// The ML worker's alarms, and one more: the DLQ alarm again at aws_cloudwatch_metric_alarm.ml_worker_dlq_messages_copy.
jest.mock("../modules/ml-worker/alarms", () => {
  const actual = jest.requireActual("../modules/ml-worker/alarms") as typeof import("../modules/ml-worker/alarms");
  const { CloudwatchMetricAlarm } = jest.requireActual("@cdktf/provider-aws/lib/cloudwatch-metric-alarm");
  class Twice extends actual.MlWorkerAlarms {
    constructor(scope: any, id: string, props: any) {
      super(scope, id, props);
      new CloudwatchMetricAlarm(this, "dlq_messages_copy", {
        alarmName: `${props.environment}-ml-worker-dlq-messages`,
        comparisonOperator: "GreaterThanThreshold",
        evaluationPeriods: 1,
        metricName: "ApproximateNumberOfMessagesVisible",
        namespace: "AWS/SQS",
        period: 300,
        statistic: "Sum",
        threshold: 1,
        dimensions: { QueueName: props.deadLetterQueueName },
      }).overrideLogicalId("ml_worker_dlq_messages_copy");
    }
  }
  return { ...actual, MlWorkerAlarms: Twice };
});

const { describeTier } = toolchainPreamble("plan-check duplicate");

const SHARED = path.join(__dirname, "../../shared/fixtures");
const MODULES = path.join(SHARED, "existing-hcl/terraform/modules");
const POST_FIX = path.join(SHARED, "post-fix-production.tfstate");
const DATA = path.join(__dirname, "../__tests__/fixtures/plan-check/production-data.json");

describeTier("plan-check: an object declared twice (offline, Terraform's own plan)", () => {
  test("the DLQ alarm at a second address, named as the one the state holds: FAIL, both addresses and alarm_name named", async () => {
    let stdout = "";
    let stderr = "";
    const cwd = tempDir("plan-check-duplicate-");
    const code = await main(
      ["--offline", "--state", POST_FIX, "--modules", MODULES, "--data", DATA, "--json", "--quiet"],
      { cwd, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) },
      { environments: { production }, env: { ...process.env, TF_VAR_db_password_plain: "REDACTED" } },
    );
    if (!stdout) throw new Error(`plan-check wrote no report (exit ${code}):\n${stderr}`);
    const report = JSON.parse(stdout) as PlanCheckReport & { failureTexts: string[] };
    const copy = "aws_cloudwatch_metric_alarm.ml_worker_dlq_messages_copy";
    // Terraform's plan: the copy created, the alarm the state holds moved and kept.
    const plan = JSON.parse(fs.readFileSync(path.join(report.outDir, "stack", "plan.json"), "utf8"));
    const actions = (address: string) => plan.resource_changes.find((c: { address: string }) => c.address === address)?.change.actions;
    expect(actions(copy)).toEqual(["create"]);
    expect(actions("aws_cloudwatch_metric_alarm.ml_worker_dlq_messages")).toEqual(["no-op"]);
    expect(code).toBe(1);
    expect(report.failures).toEqual([
      {
        kind: "duplicate",
        address: copy,
        existing: "aws_cloudwatch_metric_alarm.ml_worker_dlq_messages",
        type: "aws_cloudwatch_metric_alarm",
        attribute: "alarm_name",
        name: "production-ml-worker-dlq-messages",
      },
    ]);
    expect(report.failureTexts).toEqual([
      "`aws_cloudwatch_metric_alarm.ml_worker_dlq_messages_copy`: create of `alarm_name` `production-ml-worker-dlq-messages`, as `aws_cloudwatch_metric_alarm.ml_worker_dlq_messages`, " +
        "which the state holds and this plan keeps: applying would make a second one (or fail on the name). Move the existing one to this address (a moved block, stacks/moves.ts) instead",
    ]);
  });
});
