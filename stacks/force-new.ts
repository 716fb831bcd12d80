// What the replacement guard (replacement-guard.ts) compares, as data: no cdktf
// here, so the configuration's check (config/validate.ts: `deployed`) refuses a
// bad configuration before cdktf loads.

/** Per type: the arguments whose change forces a replacement, and what is lost. */
export const FORCE_NEW: Readonly<Record<string, { readonly attributes: readonly string[]; readonly loses: string }>> = {
  aws_sqs_queue: { attributes: ["name", "fifo_queue"], loses: "the queue and the messages in it" },
  aws_ecr_repository: { attributes: ["name", "encryption_configuration"], loses: "the repository and its images" },
  aws_cloudwatch_log_group: { attributes: ["name"], loses: "the log group and its logs" },
  aws_ecs_cluster: { attributes: ["name"], loses: "the cluster and the service running in it" },
  aws_ecs_service: { attributes: ["name", "capacity_provider_strategy"], loses: "the service and its running tasks" },
  aws_instance: {
    attributes: ["ami", "key_name"],
    loses: "the API host: a new instance boots from the image, with a new public IP unless it has an Elastic IP, and what lived only on its disk is gone",
  },
};
