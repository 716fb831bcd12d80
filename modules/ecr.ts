// Replaces the HCL module `modules/ecr`: the backend image repository.
import { Fn } from "cdktf";
import { Construct } from "constructs";
import { EcrRepository } from "@cdktf/provider-aws/lib/ecr-repository";
import { pinAddress } from "./address";
import { NAME, checkString, throwIfProblems } from "./validation";

export interface EcrProps {
  /**
   * Project name, the first part of the repository name.
   * @default "zivohealth"
   */
  readonly project?: string;
  /** Environment name, e.g. `production`. Required. */
  readonly environment: string;
  /**
   * Prefix of this construct's Terraform addresses
   * (`aws_ecr_repository.<prefix>_backend`).
   * @default "ecr"
   */
  readonly addressPrefix?: string;
}

export class Ecr extends Construct {
  /** The backend repository (`module.ecr.aws_ecr_repository.backend`). */
  public readonly repository: EcrRepository;
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
      ...checkString("project", project, NAME, "lower-case letters, digits and hyphens"),
      ...checkString("environment", props.environment, NAME, "lower-case letters, digits and hyphens"),
    ]);

    this.repository = pinAddress(
      new EcrRepository(this, "backend", {
        name: `${project}-${props.environment}-backend`,
        imageScanningConfiguration: { scanOnPush: true },
        imageTagMutability: "MUTABLE",
      }),
      prefix,
      "backend",
    );

    this.repositoryUrl = this.repository.repositoryUrl;
    this.registryHost = Fn.element(Fn.split("/", this.repositoryUrl), 0);
  }
}
