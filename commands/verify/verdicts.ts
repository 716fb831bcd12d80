// Long: every check's verdict, side by side, so that what a row needs and what it says when a read failed are judged the same way.
// verify's verdicts: from what was read (./verify-checks.ts, gather), one row per check,
// in CHECKS order. Each row says PASS or FAIL, the value seen and what to do; a check
// that could not run is a FAIL that says why.
import type { ContainerDefinition, Deployment, Service, Task } from "@aws-sdk/client-ecs";
import type { Instance } from "@aws-sdk/client-ec2";
import { CallError, Missing, Operation, TASK_PAGES } from "./aws";
import { CheckName, Facts, LOG_CLOCK_SKEW_MS, LOG_WINDOW_MINUTES, NOT_IN_ANSWER, QueueFacts, REQUESTS, Row, UndescribedTask, describeError, duration, iso, liveContainer, parseEcrImage, parseQueueArn, parseQueueUrl, placeDifferences, stopCause } from "./checks";
import { VerifyTarget } from "./target";
import { taskDefinitionVerdict } from "./task-definition";

/** What to do about a request that failed. */
function errorTodo(e: CallError): string {
  if (e.throttled) return `AWS throttled ${e.operation} (the SDK retried it ${e.attempts - 1} time(s)): run verify again in a minute, or with --wait`;
  if (e.denied) return `the caller may not call ${e.operation}: grant it the read permissions docs/verify.md lists ("Permissions")`;
  if (e.unreachable) return "AWS could not be reached: check the network (proxy, VPN), then run verify again";
  return `${e.operation} failed: see the error, then run verify again`;
}

const ago = (ms: number) => `${duration(ms)} ago`;

const hasPort = (host: string) => host.includes(":");
const isHostname = (host: string) => /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(host);

export interface JudgeContext {
  readonly target: VerifyTarget;
  readonly account?: string;
  readonly now: Date;
  /** The operations this verification made: a row lists those its facts come from. */
  readonly made: ReadonlySet<Operation>;
}

/** The rows, in CHECKS order, from what was read. */
export function judge(f: Facts, c: JudgeContext): Row[] {
  const rows: Row[] = [];
  const row = (check: CheckName, pass: boolean, seen: string, todo = "", settles = false) =>
    rows.push({ check, pass, seen, todo: pass ? "" : todo, settles: pass ? false : settles, requests: REQUESTS[check].filter((op) => c.made.has(op)) });
  const failed = (check: CheckName, e: CallError) => row(check, false, describeError(e), errorTodo(e), !e.denied);
  const blocked = (check: CheckName, why: string, settles = false) => row(check, false, `not checked: ${why}`, "fix the check it depends on first", settles);
  // Why a row that needs the service has none: not there, or not read.
  const noService = !f.service ? "no service" : !f.service.ok ? `the service was not read (${f.service.error.operation} failed)` : "no service";
  const j: Judging = { f, c, t: c.target, row, failed, blocked, noService };
  const service = f.service?.ok ? f.service.value : undefined;
  const queue = f.queue?.ok && !(f.queue.value instanceof Missing) ? f.queue.value : undefined;
  const container = liveContainer(f, c.target);
  judgeEcs(j, service, queue);
  judgeTaskDefinition(j, service);
  judgeImage(j, service, container);
  judgeDatabase(j, container);
  judgeQueues(j, queue);
  judgeAlarms(j);
  judgeLogs(j, service);
  judgeApiHost(j);
  return rows;
}

/** What each part of the verdict works with: the facts, the context, and how it adds a row. */
interface Judging {
  readonly f: Facts;
  readonly c: JudgeContext;
  readonly t: VerifyTarget;
  row(check: CheckName, pass: boolean, seen: string, todo?: string, settles?: boolean): void;
  failed(check: CheckName, e: CallError): void;
  blocked(check: CheckName, why: string, settles?: boolean): void;
  /** Why there is no service: "no service", or that it was not read. */
  readonly noService: string;
}

type Container = ContainerDefinition | undefined;


/** ECS: the cluster, the service, its tasks, the deployment and the stopped tasks. */
function judgeEcs(j: Judging, service: Service | undefined, queue: QueueFacts | undefined): void {
  const { f, t, row, failed, blocked, noService } = j;
  const cluster = f.cluster;
  if (!cluster) blocked("ECS cluster", "not read");
  else if (!cluster.ok) failed("ECS cluster", cluster.error);
  else if (!cluster.value) row("ECS cluster", false, `${t.cluster.name}: not found in ${t.region}`, "deploy the stack (npm run deploy); check the region and the account");
  else row("ECS cluster", cluster.value.status === "ACTIVE", `${t.cluster.name}: ${cluster.value.status}`, "the cluster is not ACTIVE: deploy the stack again");

  if (!f.service) blocked("ECS service", "not read");
  else if (!f.service.ok) failed("ECS service", f.service.error);
  else if (!service) row("ECS service", false, `${t.service.name}: not found in ${t.cluster.name}`, "deploy the stack (npm run deploy)");
  else row("ECS service", service.status === "ACTIVE", `${t.service.name}: ${service.status}`, "the service is not ACTIVE (draining or deleted): deploy the stack again");

  if (!service) blocked("ECS tasks", noService, f.service?.ok === false && !f.service.error.denied);
  else {
    const desired = service.desiredCount ?? 0;
    const running = service.runningCount ?? 0;
    const pending = service.pendingCount ?? 0;
    const unhealthy = f.runningTasks?.ok ? f.runningTasks.value.filter((x) => x.healthStatus === "UNHEALTHY") : [];
    const health = f.runningTasks?.ok && f.runningTasks.value.length > 0 ? `; health ${summarize(f.runningTasks.value.map((x) => x.healthStatus ?? "UNKNOWN"))}` : "";
    const floor = Math.min(t.minCapacity, t.scheduledMinCapacity ?? t.minCapacity);
    const scheduled = floor < t.minCapacity ? `, ${floor} by schedule` : "";
    const counts = `running ${running} of desired ${desired}${pending ? `, ${pending} pending` : ""}${health} (${t.workerMode} mode, min ${t.minCapacity}${scheduled})`;
    const backlog = queue ? queue.visible + queue.inFlight : undefined;
    // A running task ECS listed but did not describe: its health is unread, so the row cannot pass on the others'.
    const undescribed = (f.undescribedTasks ?? []).filter((x) => x.status === "RUNNING");
    const listed = undescribed.length + (f.runningTasks?.ok ? f.runningTasks.value.length : 0) + stopping(f);
    const unread = undescribed.length > 0 ? `; the tasks' health not checked: ${undescribedText(undescribed, listed, "running")}` : "";
    // A running task started with overrides runs another command, environment or role than the task definition's:
    // a finding whatever else the row says, and waiting does not stop that task.
    const overridden = f.runningTasks?.ok ? f.runningTasks.value.flatMap((x) => overridesOf(x)) : [];
    // One told to stop (listed under STOPPED) runs on until ECS stops it (the container's stop timeout): it fails the row too, until then.
    const stoppingOverridden = f.stoppedTasks?.ok ? f.stoppedTasks.value.filter((x) => STILL_RUNS.has(x.lastStatus ?? "")).flatMap((x) => overridesOf(x)) : [];
    const ids = overridden.map((x) => x.id).join(" ");
    const tasksRow = (pass: boolean, seen: string, todo = "", settles = false) => {
      if (overridden.length === 0 && stoppingOverridden.length === 0) return row("ECS tasks", pass, seen, todo, settles);
      const said = [seen];
      const todos = pass ? [] : [todo];
      if (overridden.length > 0) {
        said.push(`running with overrides: ${overridesText(overridden)}`);
        todos.push(`a task started with overrides (aws ecs run-task or start-task --overrides) runs something other than the task definition: stop it (aws ecs stop-task --cluster ${t.cluster.name} --task ${ids}), and start none that way in the service's group`);
      }
      if (stoppingOverridden.length > 0) {
        said.push(`told to stop, still running with overrides: ${overridesText(stoppingOverridden)}`);
        todos.push("a task started with overrides was told to stop and still runs (ECS stops it within the container's stop timeout): run with --wait");
      }
      // A running override stays until stopped; one told to stop goes by itself.
      row("ECS tasks", false, said.join("; "), todos.join("; "), overridden.length === 0 && (pass || settles));
    };
    if (unhealthy.length > 0) {
      tasksRow(false, `${counts}${unread}`, `${unhealthy.length} running task(s) fail the container health check (/app/healthcheck.sh): read the logs (--logs 50)`, true);
    } else if (t.workerMode !== "sqs" && desired < 1) {
      tasksRow(false, counts, `${t.workerMode} mode needs one task always: set mlWorker.minCapacity to 1 or more (config/environments.ts) and deploy`);
    } else if (desired < floor) {
      // Autoscaling never sets desired below the scalable target's minimum: below the stack's (its scheduled actions' lowest), the live minimum is not the stack's.
      tasksRow(
        false,
        `${counts}; desired ${desired} is below the stack's minimum ${floor}`,
        "Application Auto Scaling holds desired at or above the scalable target's minimum: after a deploy that raised it, run with --wait; if it stays, the live minimum is not the stack's or scaling is suspended (aws application-autoscaling describe-scalable-targets --service-namespace ecs): deploy the stack",
        true,
      );
    } else if (desired === 0) {
      if (backlog === undefined) blocked("ECS tasks", `${counts}; zero tasks is healthy only with an empty queue, and the queue was not read`, true);
      else if (backlog === 0) tasksRow(true, `${counts}; queue empty: scaled to zero is healthy`);
      else tasksRow(false, `${counts}; ${backlog} message(s) in ${t.queue.name} and no task`, "target tracking scales out within minutes of the queue filling: run with --wait; if it never does, check the scaling policy and its alarm", true);
    } else if (running < desired) {
      tasksRow(false, `${counts}${unread}`, "tasks are starting, or cannot start: see ECS stopped tasks, then run with --wait", true);
    } else if (running > 0 && !f.runningTasks?.ok) {
      // The health of the running tasks is part of the verdict: unread, the row cannot pass.
      const e = f.runningTasks?.ok === false ? f.runningTasks.error : undefined;
      tasksRow(false, `${counts}; the tasks' health not checked: ${e ? describeError(e) : "not read"}`, e ? errorTodo(e) : "run verify again", !e?.denied);
    } else if (running > 0 && undescribed.length > 0) {
      tasksRow(false, `${counts}${unread}`, undescribedTodo(undescribed, t.cluster.name), true);
    } else if (running > 0 && f.runningTruncated) {
      tasksRow(false, `${counts}; the tasks' health not checked: ${RUNNING_PAST_PAGES}`, "see the service's tasks (aws ecs list-tasks --desired-status RUNNING): far more than the service's maximum", true);
    } else if (running > listed) {
      // ECS counts tasks it did not list: their health is unread.
      tasksRow(
        false,
        `${counts}; the tasks' health not checked: ecs:ListTasks listed ${listed} running task(s) of the ${running} ECS counts`,
        "ECS's counts and its task list disagree for a moment as tasks start and stop: run verify again, or with --wait",
        true,
      );
    } else tasksRow(true, counts);
  }

  const primary = f.primary;
  if (!service) blocked("ECS deployment", noService);
  else if (!primary) row("ECS deployment", false, "no PRIMARY deployment", "deploy the stack again", true);
  else judgeDeployment(j, service, primary);

  if (!service) blocked("ECS stopped tasks", noService);
  else if (!f.stoppedTasks) blocked("ECS stopped tasks", "not read", true);
  else if (!f.stoppedTasks.ok) failed("ECS stopped tasks", f.stoppedTasks.error);
  else if (f.stoppedTruncated) {
    row(
      "ECS stopped tasks",
      false,
      `not checked: more stopped tasks listed than verify reads (${TASK_PAGES} pages of ecs:ListTasks); those past them were not judged`,
      "see the service's events (aws ecs describe-services) for why tasks keep stopping",
      true,
    );
  } else {
    const since = primary?.createdAt?.getTime() ?? 0;
    const stopped = [...f.stoppedTasks.value].sort((a, b) => (b.stoppedAt?.getTime() ?? 0) - (a.stoppedAt?.getTime() ?? 0));
    const current = stopped.filter((x) => (x.createdAt?.getTime() ?? 0) >= since);
    const failures = current.map((x) => ({ task: x, ...stopCause(x) })).filter((x) => x.failure);
    const earlier = stopped.length - current.length;
    // A task started with overrides ran something other than the task definition: named, its stop judged as any other's.
    const overriddenStopped = current.flatMap((x) => overridesOf(x));
    const history = `${overriddenStopped.length > 0 ? `; started with overrides: ${overridesText(overriddenStopped)}` : ""}${earlier > 0 ? `; ${earlier} started before this deployment, not judged` : ""}`;
    // A stopped task ECS listed but did not describe may have stopped for a failure: unread, the row cannot pass.
    const undescribed = (f.undescribedTasks ?? []).filter((x) => x.status === "STOPPED");
    const unread = undescribed.length > 0 ? undescribedText(undescribed, undescribed.length + stopped.length, "stopped") : "";
    if (failures.length === 0 && undescribed.length > 0) {
      const normal = current.map((x) => stopCause(x).cause);
      row(
        "ECS stopped tasks",
        false,
        `not checked: ${unread}; of those described, ${current.length === 0 ? "none" : summarize(normal)} since the deployment started${history}`,
        undescribedTodo(undescribed, t.cluster.name),
        true,
      );
    } else if (failures.length === 0) {
      const normal = current.map((x) => stopCause(x).cause);
      row("ECS stopped tasks", true, `${current.length === 0 ? "none" : summarize(normal)} since the deployment started${history}`);
    } else {
      const causes = summarize(failures.map((x) => x.cause));
      const first = failures[0];
      // A failure of a task started with overrides may be the overrides' (another command, less memory): the task definition's remedy is for the others.
      const own = failures.filter((x) => overridesOf(x.task).length === 0);
      const theirs = failures.flatMap((x) => overridesOf(x.task)).map((x) => x.id);
      const todo = [
        own.length > 0 ? todoForCause(own[0].cause, f.taskDefinition?.ok ? f.taskDefinition.value.memory : undefined) : "",
        theirs.length === 0
          ? ""
          : `${theirs.length === 1 ? "task" : "tasks"} ${theirs.join(" ")}, started with overrides (aws ecs run-task or start-task --overrides), stopped for a failure: ` +
            `${theirs.length === 1 ? "its" : "their"} overrides (named) may be the cause, not the task definition: start none that way in the service's group`,
      ];
      row(
        "ECS stopped tasks",
        false,
        `${failures.length} of ${current.length} stopped since the deployment: ${causes}; last: ${truncate(first.detail, 400)}${history}${unread ? `; not checked: ${unread}` : ""}`,
        todo.filter(Boolean).join("; "),
      );
    }
  }
}

/**
 * The PRIMARY deployment: its task definition (the one the service runs, or rolls out to) of the stack's family
 * and ACTIVE, in every rollout state; then its rollout. The other deployments (ACTIVE: the old one) are named.
 */
function judgeDeployment(j: Judging, service: Service, primary: Deployment): void {
  const { f, t, row, blocked } = j;
  const label = taskDefinitionLabel(primary.taskDefinition);
  const state = primary.rolloutState ?? "no rollout state";
  const rolling = primary.rolloutState === "IN_PROGRESS";
  // What a rollout in progress waits on, the new deployment's tasks, first: --wait's progress line shows 80 characters.
  const progress = rolling
    ? `, ${primary.runningCount ?? 0} of ${primary.desiredCount ?? 0} task(s) running${primary.pendingCount ? `, ${primary.pendingCount} pending` : ""}${primary.failedTasks ? `, ${primary.failedTasks} failed` : ""}`
    : "";
  const old = (service.deployments ?? [])
    .filter((d) => d !== primary)
    .map((d) => `; ${d.status ?? "no status"} (old): ${taskDefinitionLabel(d.taskDefinition)}, ${d.runningCount ?? 0} running`)
    .join("");
  const seen = `${label}: ${state}${progress} (started ${iso(primary.createdAt ?? 0)}${old})`;
  // A rollout to (or completed at) a revision the stack no longer has (a rollback, by the circuit breaker or by
  // hand, to one the apply deregistered) or of another family is not this stack's deployment; waiting cannot change that.
  const td = f.taskDefinition;
  const def = td?.ok ? td.value : undefined;
  const toward = rolling ? "rolls out to" : "runs";
  if (!td) blocked("ECS deployment", `${seen}; the service names no task definition`);
  else if (!td.ok) row("ECS deployment", false, `${seen}; its task definition not checked: ${describeError(td.error)}`, errorTodo(td.error), !td.error.denied);
  else if (def?.family !== t.taskDefinition.name) {
    row("ECS deployment", false, `${seen}; family ${def?.family ?? "?"}, the stack's is ${t.taskDefinition.name}`, `the service ${toward} a task definition this stack does not define: deploy the stack (npm run deploy)`);
  } else if (def.status !== "ACTIVE") {
    row(
      "ECS deployment",
      false,
      `${seen}; ${label} is ${def.status ?? "of no status"}${def.deregisteredAt ? ` since ${iso(def.deregisteredAt)}` : ""}: a revision the stack's apply replaced`,
      `the service ${rolling ? "is rolling back" : "was rolled back"} (the circuit breaker, or by hand) to a revision the stack no longer has: see ECS stopped tasks and the service's events (aws ecs describe-services) for why the stack's revision failed, fix it and deploy again`,
    );
  } else if (primary.rolloutState === "COMPLETED") row("ECS deployment", true, seen);
  else if (primary.rolloutState === "FAILED") row("ECS deployment", false, `${seen}: ${primary.rolloutStateReason ?? ""}`.trim(), "the deployment failed: see ECS stopped tasks for why, fix it and deploy again");
  else row("ECS deployment", false, seen, `the deployment is still rolling out${rolling ? ` to ${label} (the stack's family, ACTIVE)` : ""}: run with --wait`, true);
}

/** The revision the service runs against the stack's, field by field (./task-definition.ts). */
function judgeTaskDefinition(j: Judging, service: Service | undefined): void {
  const { f, c, t, row, failed, blocked, noService } = j;
  const td = f.taskDefinition;
  if (!service) blocked("task definition", noService, f.service?.ok === false && !f.service.error.denied);
  else if (!td) blocked("task definition", "the service names no task definition");
  else if (!td.ok) failed("task definition", td.error);
  else {
    const v = taskDefinitionVerdict(t, td.value, c.account);
    row("task definition", v.pass, v.seen, v.todo);
  }
}

/** The image: the task definition's path, and the tag in ECR. */
function judgeImage(j: Judging, service: Service | undefined, container: Container): void {
  const { f, c, t, row, failed, blocked, noService } = j;
  const expectedHost = c.account ? `${c.account}.dkr.ecr.${t.region}.amazonaws.com` : undefined;
  if (!f.taskDefinition) blocked("image path", service ? "the service names no task definition" : noService);
  else if (!f.taskDefinition.ok) failed("image path", f.taskDefinition.error);
  else if (!container?.image) row("image path", false, `${taskDefinitionLabel(f.taskDefinition.value.taskDefinitionArn)} has no container ${t.taskDefinition.container}`, "deploy the stack");
  else if (!expectedHost) blocked("image path", "the account was not read (sts:GetCallerIdentity)", true);
  else {
    const image = container.image;
    const expected = `${expectedHost}/${t.image.repository}${t.image.tag ? `:${t.image.tag}` : ""}`;
    const parsed = parseEcrImage(image);
    const family = f.taskDefinition.value.family;
    const familyNote = family && family !== t.taskDefinition.name ? `; family ${family}, the stack's is ${t.taskDefinition.name}` : "";
    if (image === expected || (!t.image.tag && parsed && `${expectedHost}/${parsed.repository}` === expected)) row("image path", true, `${image}${familyNote}`);
    else if (image.startsWith(`${expectedHost}/`) && parsed?.repository.endsWith(`/${t.image.repository}`)) {
      const between = parsed.repository.slice(0, -t.image.repository.length);
      const from = t.image.registryOf && between === `${t.image.registryOf.name}/` ? `the ${t.image.registryOf.name} repository's URL` : "a repository URL";
      row(
        "image path",
        false,
        `${image}: ${between} sits between the registry host and the repository`,
        `the task definition was built from ${from} instead of its registry host (documented fix 2): deploy this stack, whose image is ${expected}`,
      );
    } else row("image path", false, `${image}; the stack builds ${expected}${familyNote}`, "deploy the stack (npm run deploy) so the service runs the task definition it synthesizes");
  }

  const parsedImage = container?.image ? parseEcrImage(container.image) : undefined;
  if (!container?.image) blocked("image in ECR", "no task definition image");
  else if (!parsedImage) row("image in ECR", false, `not checked: ${container.image} is not an ECR image URI`, "use an image in this account's ECR");
  else if (!parsedImage.tag) row("image in ECR", false, `not checked: ${container.image} has no tag`, "reference the image by tag");
  else if (!f.image) blocked("image in ECR", "not read");
  else if (!f.image.ok) failed("image in ECR", f.image.error);
  else if (f.image.value instanceof Missing) {
    const repo = `${parsedImage.repository} (registry ${parsedImage.account})`;
    if (f.image.value.code === "RepositoryNotFoundException") {
      row("image in ECR", false, `repository ${repo} does not exist`, `ECS cannot pull ${container.image}: fix the image path (see image path), or create the repository and push`);
    } else row("image in ECR", false, `tag ${parsedImage.tag} not in ${repo}`, `push the image: scripts/dev/push-ml-worker.sh (tag ${parsedImage.tag})`);
  } else {
    const d = f.image.value.imageDetails?.[0];
    if (!d) row("image in ECR", false, `tag ${parsedImage.tag} not in ${parsedImage.repository}`, `push the image: scripts/dev/push-ml-worker.sh (tag ${parsedImage.tag})`);
    else {
      const seen = `${parsedImage.repository}:${parsedImage.tag} = ${shortDigest(d.imageDigest)}, pushed ${d.imagePushedAt ? iso(d.imagePushedAt) : "?"}`;
      // A task pulls the tag when it starts: one that runs another digest runs an image the tag no longer names (pushed since).
      const tasks = f.runningTasks;
      const undescribed = (f.undescribedTasks ?? []).filter((x) => x.status === "RUNNING");
      if ((service?.runningCount ?? 0) > 0 && !tasks?.ok) {
        const e = tasks?.ok === false ? tasks.error : undefined;
        row("image in ECR", false, `${seen}; the running tasks' digest not checked: ${e ? describeError(e) : "not read"}`, e ? errorTodo(e) : "run verify again", !e?.denied);
      } else if (f.runningTruncated) {
        row("image in ECR", false, `${seen}; the running tasks' digest not checked: ${RUNNING_PAST_PAGES}`, "see the service's tasks (aws ecs list-tasks --desired-status RUNNING)", true);
      } else {
        const digests = (tasks?.ok ? tasks.value : [])
          .map((x) => x.containers?.find((k) => k.name === container.name)?.imageDigest)
          .filter((x): x is string => x !== undefined && x !== "");
        const other = digests.filter((x) => x !== d.imageDigest);
        if (other.length > 0) {
          row(
            "image in ECR",
            false,
            `${seen}; ${other.length} of ${digests.length} running task(s) run ${summarize(other.map(shortDigest))}, pulled before the tag moved`,
            `the tag moved after the tasks pulled it: roll them onto it (aws ecs update-service --cluster ${t.cluster.name} --service ${t.service.name} --force-new-deployment), then run verify --wait 600`,
            f.primary?.rolloutState === "IN_PROGRESS",
          );
        } else if (undescribed.length > 0) {
          row("image in ECR", false, `${seen}; the running tasks' digest not checked: ${undescribedText(undescribed, undescribed.length + digests.length, "running")}`, undescribedTodo(undescribed, t.cluster.name), true);
        } else if ((service?.runningCount ?? 0) > digests.length + stopping(f)) {
          row(
            "image in ECR",
            false,
            `${seen}; the running tasks' digest not checked: read for ${digests.length} of the ${service?.runningCount} running task(s) ECS counts`,
            "ECS's counts and its task list disagree for a moment as tasks start and stop: run verify again, or with --wait",
            true,
          );
        } else row("image in ECR", true, seen);
      }
    }
  }
}

/** The database host (documented fix 1), and the SSM parameters the container reads. */
function judgeDatabase(j: Judging, container: Container): void {
  const { f, c, t, row, failed, blocked } = j;
  const server = container?.environment?.find((e) => e.name === "POSTGRES_SERVER")?.value;
  if (!f.taskDefinition?.ok) blocked("worker DB host", "no task definition");
  else if (server === undefined) row("worker DB host", false, "the container has no POSTGRES_SERVER", "deploy the stack");
  else if (hasPort(server)) {
    row("worker DB host", false, `POSTGRES_SERVER=${server}: carries a port`, "the worker joins host and port itself (host:5432:5432): pass the host without the port (documented fix 1) and deploy");
  } else row("worker DB host", isHostname(server), `POSTGRES_SERVER=${server}`, "POSTGRES_SERVER is not a host name: check the DB endpoint the stack reads");

  const db = f.dbHost;
  if (!db) blocked("SSM DB host", "not read");
  else if (!db.ok) failed("SSM DB host", db.error);
  else if (db.value instanceof Missing) row("SSM DB host", false, `${t.dbHostParameter.name}: not found`, "deploy the stack (the ssm module writes it)");
  else if (db.value.value === undefined) row("SSM DB host", false, `${t.dbHostParameter.name}: a ${db.value.type}, not read (verify never decrypts)`, "the ssm module writes it as a String: deploy the stack");
  else {
    const v = db.value.value;
    const seen = `${t.dbHostParameter.name} = ${v} (version ${db.value.version ?? "?"}${db.value.lastModified ? `, ${iso(db.value.lastModified)}` : ""})`;
    if (hasPort(v)) {
      row("SSM DB host", false, `${seen}: carries a port`, `the API builds host:${v.split(":").pop()}:${v.split(":").pop()} from it: deploy this stack (the ssm module gets the host without the port, documented fix 1), then restart the API containers`);
    } else row("SSM DB host", isHostname(v), seen, "not a host name: check the DB endpoint the stack reads");
  }

  const params = f.parameters;
  // The running task definition's secrets are half of what this row checks: read, or the row fails.
  const td = f.taskDefinition;
  const liveUnread = !td
    ? { why: f.service?.ok && f.service.value ? "the service names no task definition" : j.noService, error: f.service?.ok === false ? f.service.error : undefined }
    : !td.ok
      ? { why: describeError(td.error), error: td.error }
      : !container
        ? { why: `${taskDefinitionLabel(td.value.taskDefinitionArn)} has no container ${t.taskDefinition.container}`, error: undefined }
        : undefined;
  if (!c.account) blocked("SSM parameters", "the account was not read (sts:GetCallerIdentity)", true);
  else if (!params) blocked("SSM parameters", "not read");
  else if (!params.ok) failed("SSM parameters", params.error);
  else {
    const found = new Set(params.value.found.map((p) => p.Name));
    const missing = params.value.names.filter((n) => !found.has(n));
    const total = params.value.names.length + params.value.foreign.length;
    if (missing.length > 0) {
      row(
        "SSM parameters",
        false,
        `${missing.length} of ${total} missing: ${missing.join(", ")}`,
        `tasks cannot start without them (ResourceInitializationError): create ${missing.length === 1 ? "it" : "them"} (aws ssm put-parameter --type SecureString --name ${missing[0]} ...)`,
      );
    } else if (liveUnread || params.value.foreign.length > 0) {
      const unread = [
        ...(liveUnread ? [`the running task definition's secrets (${liveUnread.why})`] : []),
        ...(params.value.foreign.length > 0 ? [`${params.value.foreign.join(", ")} (another account, region or service)`] : []),
      ];
      const read = liveUnread ? `; the stack's ${params.value.names.length} ${params.value.foreign.length > 0 ? "in this account " : ""}exist: ${params.value.names.join(", ")}` : "";
      const e = liveUnread?.error;
      row(
        "SSM parameters",
        false,
        `not checked: ${unread.join("; ")}${read}`,
        e ? errorTodo(e) : liveUnread ? "deploy the stack" : "verify checks this account's SSM parameters only: check those by hand",
        e ? !e.denied : false,
      );
    } else row("SSM parameters", true, `${total} of ${total} exist: ${params.value.names.join(", ")}`);
  }
}

/** SQS: the queue, the DLQ, the redrive, an empty DLQ. */
function judgeQueues(j: Judging, queue: QueueFacts | undefined): void {
  const { f, c, t, row, failed, blocked } = j;
  const queueRow = (check: "SQS queue" | "SQS DLQ", got: Facts["queue"], name: string) => {
    if (!got) blocked(check, "not read");
    else if (!got.ok) failed(check, got.error);
    else if (got.value instanceof Missing) row(check, false, `${name}: does not exist`, "deploy the stack (npm run deploy)");
    else {
      const q = got.value;
      const depth = `${name}: ${q.visible} visible, ${q.inFlight} in flight`;
      // The queue of that name the caller reaches is the stack's only in the caller's account and the stack's region.
      if (!c.account) return blocked(check, `the account was not read (sts:GetCallerIdentity); ${depth}`, true);
      const want = { region: t.region, account: c.account, name };
      const url = parseQueueUrl(q.url);
      const arn = q.arn ? parseQueueArn(q.arn) : undefined;
      const byUrl = url ? placeDifferences(url, want) : [];
      const byArn = arn ? placeDifferences(arn, want) : [];
      const wrong = [
        ...(url ? [] : [`the URL is not an SQS queue URL`]),
        ...(arn ? [] : [`the ARN is not an SQS queue ARN`]),
        ...[...new Set([...byUrl, ...byArn])].map((d) => `${d} (${[byUrl.includes(d) ? "URL" : "", byArn.includes(d) ? "ARN" : ""].filter(Boolean).join(" and ")})`),
      ];
      if (wrong.length === 0) row(check, true, depth);
      else {
        row(
          check,
          false,
          `${depth}; not the stack's queue: ${q.url} (${q.arn ?? "no ARN"}): ${wrong.join("; ")}`,
          `the stack's queue is ${name} in account ${c.account}, region ${t.region}: check the credentials' account and the endpoint verify calls, then deploy the stack (npm run deploy)`,
        );
      }
    }
  };
  queueRow("SQS queue", f.queue, t.queue.name);
  queueRow("SQS DLQ", f.deadLetterQueue, t.deadLetterQueue.name);
  const dlq = f.deadLetterQueue?.ok && !(f.deadLetterQueue.value instanceof Missing) ? f.deadLetterQueue.value : undefined;
  if (!queue || !dlq) blocked("SQS redrive", !queue ? `${t.queue.name} not read` : `${t.deadLetterQueue.name} not read`);
  else {
    const r = queue.redrive;
    const target = r?.deadLetterTargetArn;
    // Another queue of the DLQ's name (another account or region) is named by its whole ARN.
    const shown = !target || target !== dlq.arn ? target : target.slice(target.lastIndexOf(":") + 1);
    const seen = target ? `${t.queue.name} → ${shown} after ${r?.maxReceiveCount ?? "?"} receives` : `${t.queue.name}: no redrive policy`;
    const countOk = t.deadLetterQueue.maxReceiveCount === undefined || r?.maxReceiveCount === t.deadLetterQueue.maxReceiveCount;
    row(
      "SQS redrive",
      target === dlq.arn && countOk,
      countOk ? seen : `${seen}; the stack says ${t.deadLetterQueue.maxReceiveCount}`,
      `the queue's redrive policy must point at ${dlq.arn}${t.deadLetterQueue.maxReceiveCount ? ` after ${t.deadLetterQueue.maxReceiveCount} receives` : ""}: deploy the stack`,
    );
  }
  if (!dlq) blocked("SQS DLQ empty", `${t.deadLetterQueue.name} not read`);
  else {
    const n = dlq.visible + dlq.inFlight + dlq.delayed;
    if (n === 0) row("SQS DLQ empty", true, `${t.deadLetterQueue.name}: 0 messages`);
    else {
      const age = f.oldestDeadLetter;
      const since = !age
        ? ""
        : !age.ok
          ? `; age not read (${describeError(age.error)})`
          : !age.value
            ? "; age unknown (no CloudWatch datapoint in the last 3 h)"
            : `; the oldest has waited ${duration(age.value.ageSeconds * 1000)}, since about ${iso(age.value.at.getTime() - age.value.ageSeconds * 1000)} (CloudWatch ApproximateAgeOfOldestMessage at ${iso(age.value.at)})`;
      row(
        "SQS DLQ empty",
        false,
        `${t.deadLetterQueue.name}: ${n} message(s) (${dlq.visible} visible, ${dlq.inFlight} in flight)${since}`,
        `jobs failed ${t.deadLetterQueue.maxReceiveCount ?? "maxReceiveCount"} times: find why in the worker's logs (--logs 100), fix it, then move them back: aws sqs start-message-move-task --source-arn ${dlq.arn ?? t.deadLetterQueue.name}`,
      );
    }
  }
}

/**
 * The stack's alarms on the worker's queues: each there, on the stack's metric and queue, and not in ALARM.
 * INSUFFICIENT_DATA passes, named: SQS publishes no datapoint for a queue idle for hours (an empty DLQ).
 */
function judgeAlarms(j: Judging): void {
  const { f, t, row, failed, blocked } = j;
  if (t.alarms.length === 0) return row("CloudWatch alarms", true, "the stack sets no alarm on the worker's queues");
  if (!f.alarms) return blocked("CloudWatch alarms", "not read");
  if (!f.alarms.ok) return failed("CloudWatch alarms", f.alarms.error);
  const seen: string[] = [];
  const todo: string[] = [];
  let notStacks = 0;
  for (const a of t.alarms) {
    const live = f.alarms.value.find((x) => x.AlarmName === a.name);
    const watched = live?.Dimensions?.length === 1 && live.Dimensions[0].Name === "QueueName" ? live.Dimensions[0].Value : undefined;
    const since = live?.StateUpdatedTimestamp ? ` since ${iso(live.StateUpdatedTimestamp)}` : "";
    if (!live) {
      seen.push(`${a.name}: does not exist`);
      notStacks++;
    } else if (live.Namespace !== a.namespace || live.MetricName !== a.metric || watched !== a.queue) {
      const dims = (live.Dimensions ?? []).map((d) => `${d.Name}=${d.Value}`).join(", ") || "no dimension";
      seen.push(`${a.name}: watches ${live.Namespace}/${live.MetricName} (${dims}), the stack's ${a.namespace}/${a.metric} (QueueName=${a.queue})`);
      notStacks++;
    } else if (live.StateValue === "OK") seen.push(`${a.name}: OK`);
    else if (live.StateValue === "INSUFFICIENT_DATA") seen.push(`${a.name}: INSUFFICIENT_DATA${since} (no datapoints yet)`);
    else {
      seen.push(`${a.name}: ${live.StateValue ?? "no state"}${since}${live.StateReason ? `: ${live.StateReason}` : ""}`);
      todo.push(
        a.queue === t.deadLetterQueue.name
          ? `${a.name}: messages reached the DLQ (see SQS DLQ empty)`
          : `${a.name}: ${a.queue} is backing up: see ECS tasks and the worker's logs (--logs 50); it clears when the workers catch up (--wait)`,
      );
    }
  }
  // An alarm missing or watching something else stays so until a deploy; one in ALARM can clear.
  if (notStacks > 0) todo.unshift(`${notStacks} alarm(s) not as the stack defines: deploy the stack (npm run deploy)`);
  row("CloudWatch alarms", todo.length === 0, seen.join("; "), todo.join("; "), notStacks === 0);
}

/** The log group, and recent events in it. */
function judgeLogs(j: Judging, service: Service | undefined): void {
  const { f, c, t, row, failed, blocked } = j;
  const group = f.logGroup;
  if (!group) blocked("log group", "not read");
  else if (!group.ok) failed("log group", group.error);
  else if (!group.value) row("log group", false, `${t.logGroup.name}: does not exist`, "deploy the stack; without the group the awslogs driver cannot start tasks");
  else row("log group", true, `${t.logGroup.name} (retention ${group.value.retentionInDays ?? "never expires"}${group.value.retentionInDays ? " days" : ""})`);

  const events = f.logEvents;
  if (!group?.ok || !group.value) blocked("log events", "no log group");
  else if (!events) blocked("log events", "not read");
  else if (!events.ok) failed("log events", events.error);
  else {
    const e = events.value;
    const runningNow = service?.runningCount ?? 0;
    const window = `the last ${LOG_WINDOW_MINUTES} min`;
    // Each event's own timestamp against the window: an endpoint that ignores the filter, or a wrong clock, shows here.
    const now = c.now.getTime();
    const opened = now - LOG_WINDOW_MINUTES * 60_000;
    const count = `${e.count}${e.truncated ? "+" : ""}`;
    const older = e.older.count > 0 ? `; ${e.older.count} older event(s) returned, not counted` : "";
    if (e.count > 0 && e.newest && e.newest.timestamp > now + LOG_CLOCK_SKEW_MS) {
      row(
        "log events",
        false,
        `${count} event(s) since ${iso(opened)}; the newest is stamped ${iso(e.newest.timestamp)}, ${duration(e.newest.timestamp - now)} after this machine's clock (${iso(now)}) (${e.newest.stream})`,
        "this machine's clock is behind (or the container's is ahead): set the clock right (NTP), then run verify again",
      );
    } else if (e.count > 0 && e.newest) {
      row("log events", true, `${count} event(s) in ${window}; newest ${ago(now - e.newest.timestamp)} (${e.newest.stream})${older}`);
    } else if (e.older.count > 0 && e.older.newest) {
      const o = e.older.newest;
      row(
        "log events",
        false,
        `none in ${window} (since ${iso(opened)}): the newest event returned is stamped ${iso(o.timestamp)}, ${ago(now - o.timestamp)} (${e.older.count} older event(s) returned, not counted; ${o.stream})`,
        `CloudWatch Logs never returns events older than the start time verify asks for: check this machine's clock (it reads ${iso(now)}) and the endpoint verify calls; if both are right, the worker has logged nothing for ${duration(now - o.timestamp)}: see ECS tasks and ECS stopped tasks`,
        runningNow > 0,
      );
    } else if (!service) {
      // Whether none are expected rests on the service's counts.
      blocked("log events", `none in ${window}, and whether a task runs to write them is unknown: ${j.noService}`, f.service?.ok === false && !f.service.error.denied);
    } else if (runningNow === 0 && t.workerMode === "sqs" && (service?.desiredCount ?? 0) === 0) {
      row("log events", true, `none in ${window}; no task runs (scaled to zero), so none are expected`);
    } else if (runningNow === 0) {
      row("log events", false, `none in ${window}; no task runs to write them`, "see ECS tasks and ECS stopped tasks", true);
    } else {
      row(
        "log events",
        false,
        `none in ${window} while ${runningNow} task(s) run`,
        "the container writes nothing, or the awslogs driver cannot write (the execution role's logs permissions): run with --wait; check the task's log configuration",
        true,
      );
    }
  }
}

/** The API host, and the DNS records that point at it. */
function judgeApiHost(j: Judging): void {
  const { f, t, row, failed, blocked } = j;
  let hostIp: string | undefined;
  const inst = f.instances;
  if (!inst) blocked("API host", "not read");
  else if (!inst.ok) failed("API host", inst.error);
  else {
    const list = inst.value;
    const running = list.filter((i) => i.State?.Name === "running");
    const describe = (i: Instance) => `${i.InstanceId} ${i.State?.Name}, ${i.InstanceType}, public IP ${i.PublicIpAddress ?? "none"}`;
    if (list.length === 0) row("API host", false, `no instance tagged Name=${t.apiHost.name}`, `deploy the stack (${t.apiHost.address} is the host)`);
    else if (running.length > 1) row("API host", false, `${running.length} running instances tagged Name=${t.apiHost.name}: ${running.map(describe).join("; ")}`, "one API host is expected: stop or terminate the one Terraform does not manage (terraform state list)");
    else if (running.length === 0) {
      const pending = list.some((i) => i.State?.Name === "pending");
      row("API host", false, list.map(describe).join("; "), pending ? "the instance is starting: run with --wait" : "start the instance (aws ec2 start-instances), or deploy the stack", pending);
    } else if (!running[0].PublicIpAddress) row("API host", false, describe(running[0]), "the host has no public IP: the Route 53 records cannot point at it");
    else {
      hostIp = running[0].PublicIpAddress;
      row("API host", true, describe(running[0]));
    }
  }

  if (!hostIp) blocked("DNS records", "no running API host with a public IP", inst?.ok === false);
  else if (!f.zones) blocked("DNS records", "not read");
  else if (!f.zones.ok) failed("DNS records", f.zones.error);
  else if (f.zones.value.length === 0) row("DNS records", false, `no public hosted zone named ${t.dns.zone}`, "deploy the stack (the route53 module creates it)");
  else if (!f.records) blocked("DNS records", "not read");
  else if (!f.records.ok) failed("DNS records", f.records.error);
  else {
    const wrong: string[] = [];
    const right: string[] = [];
    for (const name of t.dns.records) {
      const sets = f.records.value[name].filter((x) => x.set);
      if (sets.length === 0) wrong.push(`${name}: no A record`);
      for (const { set } of sets) {
        const values = (set!.ResourceRecords ?? []).map((r) => r.Value ?? "");
        if (set!.AliasTarget) wrong.push(`${name}: an alias to ${set!.AliasTarget.DNSName}`);
        // The stack writes simple records; one of a routing policy has siblings of that name verify does not read (it reads the first).
        else if (set!.SetIdentifier !== undefined) wrong.push(`${name}: a record with a routing policy (set ${set!.SetIdentifier}), not the stack's simple record; the others of that name not read`);
        else if (values.length === 1 && values[0] === hostIp) right.push(name);
        else wrong.push(`${name} → ${values.join(", ") || "nothing"}`);
      }
    }
    const zones = f.zones.value.length > 1 ? ` (${f.zones.value.length} public zones named ${t.dns.zone}, all read)` : "";
    if (wrong.length === 0) row("DNS records", true, `${right.join(", ")} → ${hostIp}${zones}`);
    else row("DNS records", false, `${wrong.join("; ")}; the host's public IP is ${hostIp}${zones}`, `the records must hold the host's public IP: deploy the stack (the route53 module takes ${t.apiHost.address}'s address)`);
  }
}

/** `ecs:DescribeTasks could not describe 1 of 2 stopped task(s): <arn> (MISSING)`, the first three named. */
function undescribedText(tasks: readonly UndescribedTask[], listed: number, what: string): string {
  const named = tasks.slice(0, 3).map((x) => `${x.arn} (${x.reason}${x.detail ? `: ${x.detail}` : ""})`);
  const more = tasks.length > 3 ? `, and ${tasks.length - 3} more (--json lists them)` : "";
  return `ecs:DescribeTasks could not describe ${tasks.length} of ${listed} ${what} task(s): ${named.join(", ")}${more}`;
}

function undescribedTodo(tasks: readonly UndescribedTask[], cluster: string): string {
  const words: Record<string, string> = {
    MISSING: "MISSING: a task ECS no longer holds, such as one stopped about an hour ago, forgotten between the two calls",
    [NOT_IN_ANSWER]: `${NOT_IN_ANSWER}: ECS returned neither the task nor a failure for it`,
  };
  const why = [...new Set(tasks.map((x) => x.reason))].map((r) => words[r] ?? r).join("; ");
  const them = tasks.length === 1 ? "the task but did not describe it" : "the tasks but did not describe them";
  return `ECS listed ${them} (${why}): run verify again, or with --wait; if it persists, aws ecs describe-tasks --cluster ${cluster} --tasks <arn> says why`;
}

function todoForCause(cause: string, memory: string | undefined): string {
  if (cause === "the image cannot be pulled") return "check image path and image in ECR above; the execution role needs ECR pull rights; tasks in public subnets need a public IP";
  if (cause === "a secret cannot be read") return "check SSM parameters above; the execution role must be allowed to read every parameter the task definition names";
  if (cause === "out of memory") return `the worker needs more than ${memory ?? "its"} MiB: raise mlWorker.memoryMiB (config/environments.ts) and deploy`;
  if (cause === "the container failed its health check") return "read the logs (--logs 50): /app/healthcheck.sh fails";
  return "read the logs (--logs 50) for why the container stopped";
}

/** Tasks told to stop (scale-in, a deployment, a Spot reclaim) that still run: ECS counts them running and lists them under STOPPED. */
/** A task's last status while its containers may still run: told to stop, it passes through these before STOPPED. */
const STILL_RUNS = new Set(["RUNNING", "DEACTIVATING", "STOPPING"]);
const overridesText = (tasks: readonly { id: string; fields: string[] }[]) => tasks.map((x) => `task ${x.id}: ${x.fields.join(", ")}`).join("; ");
const stopping = (f: Facts) => (f.stoppedTasks?.ok ? f.stoppedTasks.value.filter((x) => x.lastStatus === "RUNNING").length : 0);
const RUNNING_PAST_PAGES = `more running tasks listed than verify reads (${TASK_PAGES} pages of ecs:ListTasks); those past them were not read`;
const shortDigest = (digest?: string) => (digest ? `${digest.slice(0, 19)}…` : "?");
const taskDefinitionLabel = (arn?: string) => (arn ? arn.slice(arn.lastIndexOf("/") + 1) : "?");
const truncate = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/**
 * What a task's overrides change that the task definition sets: per container its `command`, `environment` (names:
 * values are never printed), `environmentFiles`, `cpu`, `memory`, `memoryReservation` and `resourceRequirements`; the
 * task's `cpu`, `memory`, `ephemeralStorage`, inference accelerators and roles (numbers and ARNs are no secret: shown).
 * ECS has no override of `secrets` or the image.
 */
function overridesOf(task: Task): { id: string; fields: string[] }[] {
  const id = (task.taskArn ?? "?").slice((task.taskArn ?? "?").lastIndexOf("/") + 1);
  const o = task.overrides;
  const found: string[] = [];
  const has = (v: unknown) => v !== undefined && v !== null;
  for (const c of o?.containerOverrides ?? []) {
    const at = c.name ?? "?";
    if (c.command?.length) found.push(`${at}.command (${c.command.length} argument(s); --json has them)`);
    if (c.environment?.length) found.push(`${at}.environment ${c.environment.map((e) => e.name ?? "?").join(", ")}`);
    if (c.environmentFiles?.length) found.push(`${at}.environmentFiles ${c.environmentFiles.map((e) => e.value ?? "?").join(", ")}`);
    if (has(c.cpu)) found.push(`${at}.cpu ${c.cpu}`);
    if (has(c.memory)) found.push(`${at}.memory ${c.memory}`);
    if (has(c.memoryReservation)) found.push(`${at}.memoryReservation ${c.memoryReservation}`);
    if (c.resourceRequirements?.length) found.push(`${at}.resourceRequirements ${c.resourceRequirements.map((r) => `${r.type ?? "?"} ${r.value ?? "?"}`).join(", ")}`);
  }
  if (has(o?.cpu)) found.push(`cpu ${o!.cpu}`);
  if (has(o?.memory)) found.push(`memory ${o!.memory}`);
  if (has(o?.ephemeralStorage?.sizeInGiB)) found.push(`ephemeralStorage ${o!.ephemeralStorage!.sizeInGiB} GiB`);
  if (o?.inferenceAcceleratorOverrides?.length) found.push(`inferenceAcceleratorOverrides ${o.inferenceAcceleratorOverrides.map((a) => `${a.deviceName ?? "?"} ${a.deviceType ?? "?"}`).join(", ")}`);
  if (o?.taskRoleArn) found.push(`taskRoleArn ${o.taskRoleArn}`);
  if (o?.executionRoleArn) found.push(`executionRoleArn ${o.executionRoleArn}`);
  return found.length > 0 ? [{ id, fields: found }] : [];
}

/** `3 × a, 1 × b`, most frequent first. */
function summarize(items: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const i of items) counts.set(i, (counts.get(i) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n} × ${k}`).join(", ");
}
