// The defaults of MlWorker's props, in one place: MlWorker's validation, MlWorker
// and its parts resolve an unset prop from here. Where the HCL module has the
// variable, its default (`min_capacity` 0, `max_capacity` 3, ...).
// No cdktf here: the configuration's check reads WORKER_MODES before cdktf loads.

/** The worker's modes (the container's WORKER_MODE). */
export const WORKER_MODES = ["sqs", "aggregation", "both"] as const;
export type WorkerMode = (typeof WORKER_MODES)[number];

export const ML_WORKER_DEFAULTS = {
  awsRegion: "us-east-1",
  imageTag: "latest",
  dbPort: 5432,
  dataBucketName: "zivohealth-data",
  ssmParameterPrefix: "/zivohealth/production",
  minCapacity: 0,
  maxCapacity: 3,
  targetQueueDepth: 0.5,
  workerMode: "aggregation",
  cpu: 512,
  memoryMiB: 3072,
  addressPrefix: "ml_worker",
  preventDestroy: true,
  onDemandWeight: 0,
  logRetentionDays: 7,
} as const;

/** `lifecycle` of a stateful resource: `prevent_destroy` unless turned off. */
export const statefulLifecycle = (preventDestroy: boolean) => (preventDestroy ? { preventDestroy: true } : undefined);
