import { TerraformOutput, Testing } from "cdktf";
import { EcrRepository } from "@cdktf/provider-aws/lib/ecr-repository";
import { Ecr } from "../modules/ecr";

describe("Ecr", () => {
  const synth = (props: ConstructorParameters<typeof Ecr>[2]) => {
    let ecr!: Ecr;
    const text = Testing.synthScope((scope) => {
      ecr = new Ecr(scope, "ecr", props);
    });
    return { ecr, text, json: JSON.parse(text) };
  };

  it("creates the backend repository as the HCL module does", () => {
    const { text, json } = synth({ environment: "production" });
    expect(text).toHaveResourceWithProperties(EcrRepository, {
      name: "zivohealth-production-backend",
      image_scanning_configuration: { scan_on_push: true },
      image_tag_mutability: "MUTABLE",
    });
    expect(Object.keys(json.resource)).toEqual(["aws_ecr_repository"]);
    expect(Object.keys(json.resource.aws_ecr_repository)).toEqual(["ecr_backend"]);
  });

  it("exposes repository_url and registry_host (fix 2: the part before the first /)", () => {
    const text = Testing.synthScope((scope) => {
      const ecr = new Ecr(scope, "ecr", { environment: "production" });
      new TerraformOutput(scope, "repository_url", { value: ecr.repositoryUrl });
      new TerraformOutput(scope, "registry_host", { value: ecr.registryHost });
    });
    const output = JSON.parse(text).output;
    expect(output.repository_url.value).toBe("${aws_ecr_repository.ecr_backend.repository_url}");
    expect(output.registry_host.value).toBe('${element(split("/", aws_ecr_repository.ecr_backend.repository_url), 0)}');
  });

  it("uses the project in the name and keeps the address when the construct id changes", () => {
    const text = Testing.synthScope((scope) => {
      new Ecr(scope, "renamed-construct", { environment: "staging", project: "acme" });
    });
    expect(JSON.parse(text).resource.aws_ecr_repository.ecr_backend.name).toBe("acme-staging-backend");
  });

  it("rejects an unknown prop, naming the closest", () => {
    expect(() => synth({ environment: "production", adoptMlWorkerRepo: true } as never)).toThrow(
      "adoptMlWorkerRepo is not a known setting; did you mean 'adoptMlWorkerRepository'?",
    );
  });

  it("rejects a bad environment name, naming the field", () => {
    expect(() => synth({ environment: "Prod_1" })).toThrow(
      "environment must be lower-case letters, digits and hyphens (got 'Prod_1')",
    );
  });
});
