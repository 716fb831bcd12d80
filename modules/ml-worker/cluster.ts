// The ML worker's ECS cluster (HCL modules/ml_worker, "ECS Cluster for
// Fargate"): Container Insights on, and FARGATE_SPOT as the default capacity
// provider (FARGATE available for the hardened profile's on-demand share).
import { TerraformElement } from "cdktf";
import { Construct } from "constructs";
import { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { EcsClusterCapacityProviders } from "@cdktf/provider-aws/lib/ecs-cluster-capacity-providers";
import { pinAddress } from "../address";
import { KnownKeys, NAME, checkKnownKeys, checkString, throwIfProblems } from "../validation";
import { ML_WORKER_DEFAULTS, statefulLifecycle } from "./defaults";

export interface MlWorkerClusterProps {
  /** Environment name; prefixes the cluster name. Required. */
  readonly environment: string;
  /**
   * `lifecycle.prevent_destroy` on the cluster.
   * @default true
   */
  readonly preventDestroy?: boolean;
  /**
   * Prefix of the addresses (`aws_ecs_cluster.<prefix>_ml_worker`).
   * @default "ml_worker"
   */
  readonly addressPrefix?: string;
}

const CLUSTER_PROP_KEYS: KnownKeys<MlWorkerClusterProps> = { environment: true, preventDestroy: true, addressPrefix: true };

/** Every problem with MlWorkerCluster props, each naming the prop. */
export function validateMlWorkerClusterProps(props: MlWorkerClusterProps): string[] {
  return [
    ...checkKnownKeys("", props, CLUSTER_PROP_KEYS),
    ...checkString("environment", props.environment, NAME, "lower-case letters, digits and hyphens"),
  ];
}

export class MlWorkerCluster extends Construct {
  /** `aws_ecs_cluster.ml_worker` */
  public readonly cluster: EcsCluster;
  /** `aws_ecs_cluster_capacity_providers.ml_worker` */
  public readonly capacityProviders: EcsClusterCapacityProviders;

  constructor(scope: Construct, id: string, props: MlWorkerClusterProps) {
    super(scope, id);
    throwIfProblems(`MlWorkerCluster props (${this.node.path})`, validateMlWorkerClusterProps(props));
    const env = props.environment;
    const prefix = props.addressPrefix ?? ML_WORKER_DEFAULTS.addressPrefix;
    const pin = <T extends TerraformElement>(element: T, name: string): T => pinAddress(element, prefix, name);

    this.cluster = pin(
      new EcsCluster(this, "ml_worker_cluster", {
        name: `${env}-ml-worker-cluster`,
        setting: [{ name: "containerInsights", value: "enabled" }],
        tags: { Name: `${env}-ml-worker-cluster`, Environment: env },
        lifecycle: statefulLifecycle(props.preventDestroy ?? ML_WORKER_DEFAULTS.preventDestroy),
      }),
      "ml_worker",
    );
    this.capacityProviders = pin(
      new EcsClusterCapacityProviders(this, "ml_worker_capacity_providers", {
        clusterName: this.cluster.name,
        capacityProviders: ["FARGATE_SPOT", "FARGATE"],
        defaultCapacityProviderStrategy: [{ base: 0, weight: 100, capacityProvider: "FARGATE_SPOT" }],
      }),
      "ml_worker",
    );
  }
}
