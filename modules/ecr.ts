// Replaces the HCL module `modules/ecr`: the backend image repository.
import { Fn } from "cdktf";
import { Construct } from "constructs";
import { EcrRepository } from "@cdktf/provider-aws/lib/ecr-repository";
import { pinAddress } from "./address";
import { KnownKeys, NAME, checkKnownKeys, checkString, throwIfProblems } from "./validation";

export interface EcrProps {
  /**
   * Project name, the first part of the repository name.
   * @default "zivohealth"
   */
  readonly project?: string;
  /** Environment name, e.g. `production`. Required. */
  readonly environment: string;
  /**
   * `lifecycle.prevent_destroy` on the repositories, so a rename plans an
   * error instead of deleting the images.
   * @default true
   */
  readonly preventDestroy?: boolean;
  /**
   * Manage the ML worker's image repository, which exists in AWS but no
   * Terraform manages, through an import block: the first apply adopts it
   * (no new repository), then turns on scan on push in place.
   * @default false
   */
  readonly adoptMlWorkerRepository?: boolean;
  /**
   * Name of the ML worker's image repository.
   * @default "zivohealth-production-ml-worker"
   */
  readonly mlWorkerRepositoryName?: string;
  /**
   * Prefix of this construct's Terraform addresses
   * (`aws_ecr_repository.<prefix>_backend`).
   * @default "ecr"
   */
  readonly addressPrefix?: string;
}

/** The props Ecr knows; anything else is refused, with the closest name. */
export const ECR_PROP_KEYS: KnownKeys<EcrProps> = {
  project: true,
  environment: true,
  preventDestroy: true,
  adoptMlWorkerRepository: true,
  mlWorkerRepositoryName: true,
  addressPrefix: true,
};

export class Ecr extends Construct {
  /** The backend repository (`module.ecr.aws_ecr_repository.backend`). */
  public readonly repository: EcrRepository;
  /** The adopted ML worker repository, when `adoptMlWorkerRepository` is set. */
  public readonly mlWorkerRepository?: EcrRepository;
  /** `repository_url`: `<account>.dkr.ecr.<region>.amazonaws.com/<name>`. */
  public readonly repositoryUrl: string;
  /**
   * `registry_host`: ECR registry host (without repository name), the part
   * of the URL before the first `/` (documented fix 2).
   */
  public readonly registryHost: string;

  constructor(scope: Construct, id: string, props: EcrProps) {
    super(scope, id);
    const project = props.project ?? "zivohealth";
    const prefix = props.addressPrefix ?? "ecr";
    throwIfProblems(`Ecr props (${this.node.path})`, [
      ...checkKnownKeys("", props, ECR_PROP_KEYS),
      ...checkString("project", project, NAME, "lower-case letters, digits and hyphens"),
      ...checkString("environment", props.environment, NAME, "lower-case letters, digits and hyphens"),
    ]);

    const lifecycle = (props.preventDestroy ?? true) ? { preventDestroy: true } : undefined;
    this.repository = pinAddress(
      new EcrRepository(this, "backend", {
        name: `${project}-${props.environment}-backend`,
        imageScanningConfiguration: { scanOnPush: true },
        imageTagMutability: "MUTABLE",
        lifecycle,
      }),
      prefix,
      "backend",
    );

    if (props.adoptMlWorkerRepository) {
      const name = props.mlWorkerRepositoryName ?? "zivohealth-production-ml-worker";
      this.mlWorkerRepository = pinAddress(
        new EcrRepository(this, "ml_worker", {
          name,
          imageScanningConfiguration: { scanOnPush: true },
          // Build scripts push `latest`: immutable tags would break them.
          imageTagMutability: "MUTABLE",
          lifecycle,
        }),
        prefix,
        "ml_worker",
      );
      this.mlWorkerRepository.importFrom(name);
    }

    this.repositoryUrl = this.repository.repositoryUrl;
    this.registryHost = Fn.element(Fn.split("/", this.repositoryUrl), 0);
  }
}
