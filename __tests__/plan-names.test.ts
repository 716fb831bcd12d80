// The duplicate check's table (lib/plan/names.ts): what names an object of each type, in which scope, and
// that a value Terraform marks sensitive is never compared nor printed. The real plan of an alarm declared
// twice is in validate/plan-check.test.ts.
import * as fs from "fs";
import * as path from "path";
import { PlanJson, ResourceChange, judge } from "../lib/plan/judge";
import { NAMING, NOT_NAMED } from "../lib/plan/names";
import { failureText } from "../lib/plan/report";
import { verdictInput } from "../lib/plan/verdict";
import * as configured from "../config/environments";
import { HCL_PRODUCTION as production, onHclProduction } from "./fixtures/hcl-production";
import { synthStack } from "./helpers";

const SHARED = path.join(__dirname, "../../shared/fixtures");

type Values = Record<string, unknown>;

/** A plan (as Terraform 1.11.4's `show -json` has it) that creates `after` at `address` against a prior state of `prior`. */
function planOf(type: string, prior: Values, after: Values, marks: { afterSensitive?: Values; afterUnknown?: Values; priorSensitive?: Values } = {}): PlanJson {
  const create: ResourceChange = {
    address: `${type}.copy`,
    mode: "managed",
    type,
    change: { actions: ["create"], before: null, after: after as never, after_unknown: (marks.afterUnknown ?? {}) as never, after_sensitive: (marks.afterSensitive ?? {}) as never },
  };
  const existing = { address: `${type}.existing`, mode: "managed", type, values: prior, sensitive_values: marks.priorSensitive ?? {} };
  return { format_version: "1.2", resource_changes: [create], prior_state: { values: { root_module: { resources: [existing] } } } } as unknown as PlanJson;
}

const verdict = (plan: PlanJson) =>
  judge(verdictInput({}, { rows: [], errors: [], moved: [], stateAddresses: new Set<string>(), notJudged: new Set<string>(), plan }));

const SERVICE = "service/production-ml-worker-cluster/production-ml-worker";
const TARGET = { service_namespace: "ecs", resource_id: SERVICE, scalable_dimension: "ecs:service:DesiredCount" };

describe("the duplicate check names each type by its own attribute, in its scope (lib/plan/names.ts)", () => {
  it.each<[string, string, string, Values]>([
    ["aws_cloudwatch_metric_alarm", "alarm_name", "production-ml-worker-dlq-messages", { alarm_name: "production-ml-worker-dlq-messages", threshold: 1 }],
    ["aws_ecs_task_definition", "family", "production-ml-worker", { family: "production-ml-worker" }],
    ["aws_iam_role", "name", "production-ml-worker-task-role", { name: "production-ml-worker-task-role" }],
    ["aws_cloudwatch_log_group", "name", "/ecs/production-ml-worker", { name: "/ecs/production-ml-worker" }],
    ["aws_ecr_repository", "name", "zivohealth-production-backend", { name: "zivohealth-production-backend" }],
    ["aws_ssm_parameter", "name", "/zivohealth/production/deploy/image_tag", { name: "/zivohealth/production/deploy/image_tag" }],
    ["aws_iam_instance_profile", "name", "zivohealth-production-ec2-profile", { name: "zivohealth-production-ec2-profile" }],
    ["aws_key_pair", "key_name", "ec2-dbeaver", { key_name: "ec2-dbeaver" }],
    ["aws_db_instance", "identifier", "zivohealth-dev-postgres", { identifier: "zivohealth-dev-postgres" }],
    ["aws_security_group", "name", "production-ml-worker-sg", { name: "production-ml-worker-sg", vpc_id: "vpc-1" }],
    ["aws_appautoscaling_target", "resource_id", SERVICE, TARGET],
    ["aws_appautoscaling_policy", "name", "production-ml-worker-scale", { name: "production-ml-worker-scale", ...TARGET }],
    ["aws_appautoscaling_scheduled_action", "name", "production-ml-worker-night", { name: "production-ml-worker-night", ...TARGET }],
    ["aws_route53_record", "name", "api.zivohealth.ai", { name: "api.zivohealth.ai", type: "A", zone_id: "Z1", set_identifier: null }],
  ])("%s: by %s", (type, attribute, name, values) => {
    expect(verdict(planOf(type, values, values))).toEqual([{ kind: "duplicate", address: `${type}.copy`, existing: `${type}.existing`, type, attribute, name }]);
  });

  it("says the attribute, the scope and, where AWS accepts a second one, why it is still a fault", () => {
    const alarm = { alarm_name: "production-ml-worker-dlq-messages" };
    expect(verdict(planOf("aws_cloudwatch_metric_alarm", alarm, alarm)).map(failureText)).toEqual([
      "`aws_cloudwatch_metric_alarm.copy`: create of `alarm_name` `production-ml-worker-dlq-messages`, as `aws_cloudwatch_metric_alarm.existing`, which the state holds and this plan keeps: " +
        "applying would make a second one (or fail on the name). Move the existing one to this address (a moved block, stacks/moves.ts) instead",
    ]);
    const family = { family: "production-ml-worker" };
    expect(verdict(planOf("aws_ecs_task_definition", family, family)).map(failureText)).toEqual([
      "`aws_ecs_task_definition.copy`: create of `family` `production-ml-worker`, as `aws_ecs_task_definition.existing`, which the state holds and this plan keeps: " +
        "AWS accepts it, but two resources would then register revisions of one family, each taking its latest revision from the other. " +
        "Move the existing one to this address (a moved block, stacks/moves.ts) instead",
    ]);
    const policy = { name: "production-ml-worker-scale", ...TARGET };
    expect(verdict(planOf("aws_appautoscaling_policy", policy, policy)).map(failureText)).toEqual([
      "`aws_appautoscaling_policy.copy`: create of `name` `production-ml-worker-scale`, in the same `service_namespace`, `resource_id` and `scalable_dimension`, " +
        "as `aws_appautoscaling_policy.existing`, which the state holds and this plan keeps: applying would make a second one (or fail on the name). " +
        "Move the existing one to this address (a moved block, stacks/moves.ts) instead",
    ]);
  });

  it("another scope is another object: a security group in another VPC, a policy of another scalable target, a record of another type", () => {
    expect(verdict(planOf("aws_security_group", { name: "sg", vpc_id: "vpc-1" }, { name: "sg", vpc_id: "vpc-2" }))).toEqual([]);
    const policy = { name: "scale", ...TARGET };
    expect(verdict(planOf("aws_appautoscaling_policy", policy, { ...policy, resource_id: "service/other-cluster/other" }))).toEqual([]);
    expect(verdict(planOf("aws_route53_record", { name: "api.zivohealth.ai", type: "A", zone_id: "Z1" }, { name: "api.zivohealth.ai", type: "AAAA", zone_id: "Z1" }))).toEqual([]);
    // `name` names nothing of a type the table does not list (a VPC endpoint's is not unique): not judged.
    expect(verdict(planOf("aws_vpc_endpoint", { service_name: "com.amazonaws.us-east-1.s3", vpc_id: "vpc-1" }, { service_name: "com.amazonaws.us-east-1.s3", vpc_id: "vpc-1" }))).toEqual([]);
  });

  it("never compares, so never prints, a value Terraform marks sensitive: the name or its scope, in the plan or in the prior state", () => {
    const secret = "production-hunter2-alarm";
    const alarm = { alarm_name: secret };
    const cases = [
      planOf("aws_cloudwatch_metric_alarm", alarm, alarm, { afterSensitive: { alarm_name: true } }),
      planOf("aws_cloudwatch_metric_alarm", alarm, alarm, { priorSensitive: { alarm_name: true } }),
      planOf("aws_instance", { tags: { Name: secret } }, { tags: { Name: secret } }, { afterSensitive: { tags: true } }),
      planOf("aws_instance", { tags: { Name: secret } }, { tags: { Name: secret } }, { priorSensitive: { tags: { Name: true } } }),
      planOf("aws_security_group", { name: secret, vpc_id: "vpc-1" }, { name: secret, vpc_id: "vpc-1" }, { afterSensitive: { vpc_id: true } }),
    ];
    for (const p of cases) expect(verdict(p)).toEqual([]);
    // Not marked: compared and named. Known only at apply: not compared.
    expect(verdict(planOf("aws_cloudwatch_metric_alarm", alarm, alarm)).map(failureText)[0]).toContain(secret);
    expect(verdict(planOf("aws_cloudwatch_metric_alarm", alarm, {}, { afterUnknown: { alarm_name: true } }))).toEqual([]);
    expect(verdict(planOf("aws_security_group", { name: "sg", vpc_id: "vpc-1" }, { name: "sg" }, { afterUnknown: { vpc_id: true } }))).toEqual([]);
  });

  it("every resource type of the stacks and of the HCL modules' states is in NAMING or NOT_NAMED, never both", () => {
    const hardened = onHclProduction(configured.productionHardened, configured.production);
    const stackTypes = [production, hardened].flatMap((c) => Object.keys(synthStack(c).json.resource ?? {}));
    const stateTypes = ["post-fix-production.tfstate", "existing-production.tfstate"].flatMap((f) =>
      (JSON.parse(fs.readFileSync(path.join(SHARED, f), "utf8")).resources as { mode: string; type: string }[]).filter((r) => r.mode === "managed").map((r) => r.type),
    );
    const types = [...new Set([...stackTypes, ...stateTypes])].sort();
    expect(types.filter((t) => !(t in NAMING) && !(t in NOT_NAMED))).toEqual([]);
    expect(Object.keys(NAMING).filter((t) => t in NOT_NAMED)).toEqual([]);
  });
});
