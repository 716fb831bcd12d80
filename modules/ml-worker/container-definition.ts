// The ML worker's one container, as the HCL module's `container_definitions`
// (jsonencode of a list of one): image, environment, secrets, logs, health
// check. A value, not a construct: the task definition (service.ts) holds it
// as JSON. Entries in the HCL's order, so a reviewer can compare them line by line.
import { Token } from "cdktf";
import { ML_WORKER_DEFAULTS, WORKER_MODES } from "./defaults";
import type { WorkerMode } from "./defaults";

export { WORKER_MODES };
export type { WorkerMode };

/** One container of the task definition, in the ECS API's shape. */
export interface ContainerDefinition {
  readonly name: string;
  readonly image: string;
  readonly essential: boolean;
  readonly environment: { name: string; value: string }[];
  readonly secrets: { name: string; valueFrom: string }[];
  readonly logConfiguration: { logDriver: string; options: Record<string, string> };
  readonly healthCheck: { command: string[]; interval: number; timeout: number; retries: number; startPeriod: number };
  readonly stopTimeout?: number;
}

export interface MlWorkerContainerProps {
  /** Environment name (`ENVIRONMENT`, and the path of the OpenAI key parameter). Required. */
  readonly environment: string;
  /**
   * Region the container logs to and reads the OpenAI key from (`AWS_REGION`).
   * @default "us-east-1"
   */
  readonly awsRegion?: string;
  /** Registry host of the image, without a repository name (documented fix 2). Required. */
  readonly ecrRepositoryUrl: string;
  /**
   * Image tag of `zivohealth-production-ml-worker`.
   * @default "latest"
   */
  readonly imageTag?: string;
  /**
   * `ML_WORKER_MODE`: `sqs`, `aggregation` or `both`.
   * @default "aggregation"
   */
  readonly workerMode?: WorkerMode;
  /** URL of the job queue (`ML_WORKER_SQS_QUEUE_URL`). Required. */
  readonly queueUrl: string;
  /** Database host without port (`POSTGRES_SERVER`, documented fix 1). Required. */
  readonly dbHost: string;
  /**
   * Database port (`POSTGRES_PORT`).
   * @default 5432
   */
  readonly dbPort?: number;
  /** Database name (`POSTGRES_DB`). Required. */
  readonly dbName: string;
  /**
   * The data bucket (`AWS_S3_BUCKET`).
   * @default "zivohealth-data"
   */
  readonly dataBucketName?: string;
  /**
   * SSM prefix of the `db/user` and `db/password` secrets.
   * @default "/zivohealth/production"
   */
  readonly ssmParameterPrefix?: string;
  /** Account of the OpenAI key parameter (`data.aws_caller_identity.current.account_id`). Required. */
  readonly accountId: string;
  /** Log group of the `awslogs` driver. Required. */
  readonly logGroupName: string;
  /**
   * Seconds after SIGTERM before the container is killed (`stopTimeout`).
   * @default - not set: the ECS default (30 s)
   */
  readonly stopTimeoutSeconds?: number;
}

/** The container definition of the HCL module, entry by entry. */
export function mlWorkerContainerDefinition(props: MlWorkerContainerProps): ContainerDefinition {
  const env = props.environment;
  const region = props.awsRegion ?? ML_WORKER_DEFAULTS.awsRegion;
  const ssmPrefix = props.ssmParameterPrefix ?? ML_WORKER_DEFAULTS.ssmParameterPrefix;
  return {
    name: "ml-worker",
    image: `${props.ecrRepositoryUrl}/zivohealth-production-ml-worker:${props.imageTag ?? ML_WORKER_DEFAULTS.imageTag}`,
    essential: true,
    environment: environmentOf(props, region),
    secrets: [
      { name: "POSTGRES_USER", valueFrom: `${ssmPrefix}/db/user` },
      { name: "POSTGRES_PASSWORD", valueFrom: `${ssmPrefix}/db/password` },
      {
        name: "OPENAI_API_KEY",
        valueFrom: `arn:aws:ssm:${region}:${props.accountId}:parameter/zivohealth/${env}/openai/api_key`,
      },
    ],
    logConfiguration: {
      logDriver: "awslogs",
      options: {
        "awslogs-group": props.logGroupName,
        "awslogs-region": region,
        "awslogs-stream-prefix": "ml-worker",
      },
    },
    healthCheck: {
      command: ["CMD-SHELL", "/app/healthcheck.sh || exit 1"],
      interval: 30,
      timeout: 5,
      retries: 3,
      startPeriod: 60,
    },
    ...(props.stopTimeoutSeconds !== undefined ? { stopTimeout: props.stopTimeoutSeconds } : {}),
  };
}

/** The 38 environment entries, in the HCL's order. */
function environmentOf(props: MlWorkerContainerProps, region: string): { name: string; value: string }[] {
  return [
    ["AWS_REGION", region],
    ["ML_WORKER_MODE", props.workerMode ?? ML_WORKER_DEFAULTS.workerMode],
    ["ML_WORKER_SQS_QUEUE_URL", props.queueUrl],
    ["ML_WORKER_BATCH_SIZE", "1"],
    ["ML_WORKER_WAIT_TIME", "20"],
    ["ML_WORKER_VISIBILITY_TIMEOUT", "300"],
    ["POSTGRES_SERVER", props.dbHost],
    ["POSTGRES_PORT", Token.asString(props.dbPort ?? ML_WORKER_DEFAULTS.dbPort)],
    ["POSTGRES_DB", props.dbName],
    ["ENVIRONMENT", props.environment],
    ["PROJECT_NAME", "zivohealth"],
    ["VERSION", "1.0.0"],
    ["PROJECT_VERSION", "1.0.0"],
    ["API_V1_STR", "/api/v1"],
    ["SERVER_HOST", "0.0.0.0"],
    ["SERVER_PORT", "8000"],
    // Placeholders the shared settings module requires; the worker never uses them.
    ["SECRET_KEY", "ml-worker-secret-key-not-used"],
    ["ACCESS_TOKEN_EXPIRE_MINUTES", "30"],
    ["ALGORITHM", "HS256"],
    ["REDIS_HOST", "localhost"],
    ["REDIS_PORT", "6379"],
    ["REDIS_DB", "0"],
    ["AWS_S3_BUCKET", props.dataBucketName ?? ML_WORKER_DEFAULTS.dataBucketName],
    ["CHAT_WS_HEARTBEAT_MAX_SECONDS", "60"],
    ["OCR_PROVIDER", "textract"],
    ["OCR_TIMEOUT", "30"],
    ["OCR_MAX_FILE_SIZE", "10485760"],
    ["CORS_ORIGINS", "[]"],
    ["LOINC_ENABLED", "1"],
    ["LOINC_CREATE_TABLES", "0"],
    ["WS_MESSAGE_QUEUE", "ws_messages"],
    ["SMTP_SERVER", "smtp.zoho.in"],
    ["SMTP_PORT", "587"],
    ["SMTP_USERNAME", "noreply@zivohealth.ai"],
    ["SMTP_PASSWORD", "not-used-in-ml-worker"],
    ["FROM_EMAIL", "noreply@zivohealth.ai"],
    ["FRONTEND_URL", "https://app.zivohealth.com"],
    ["PASSWORD_RESET_APP_DIR", "/app/www/reset-password"],
  ].map(([name, value]) => ({ name, value }));
}
