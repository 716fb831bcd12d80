import { App, AppConfig } from "cdktf";
import { EnvironmentConfig } from "../config/environment";
import { validateEnvironment } from "../config/validate";
import { ValidationError } from "../modules/validation";
import { checkIsolation, resolveOutdir } from "./isolation";
import { ZivoHealthStack } from "./zivohealth-stack";

/**
 * The app with one stack per environment. Every configuration is validated
 * before the App exists, because the App creates its output folder: bad
 * input must leave nothing behind.
 */
export function buildApp(environments: Readonly<Record<string, EnvironmentConfig>>, appConfig: AppConfig = {}): App {
  const problems = Object.entries(environments).flatMap(([name, config]) =>
    validateEnvironment(config).map((p) => `${name}: ${p}`),
  );
  problems.push(...checkIsolation(environments, resolveOutdir(appConfig.outdir)));
  if (problems.length > 0) throw new ValidationError("environment configuration", problems);
  // cdktf would add a check to every stack with moved blocks that shells out to
  // `terraform version` (>= 1.5) at each synth: ~80 ms, and synth fails where no
  // terraform is installed. The stack's `required_version >= 1.5.0` already makes
  // Terraform enforce that at init and plan, so the App skips its validation step
  // and runs every construct's validations itself, here, instead.
  const app = new App({ stackTraces: false, skipValidation: true, ...appConfig });
  const stacks = Object.entries(environments).map(([name, config]) => new ZivoHealthStack(app, name, config));
  for (const stack of stacks) stack.runAllValidations();
  return app;
}

/** Synthesizes, or prints the validation problems and exits 1 without a stack trace. */
export function runApp(environments: Readonly<Record<string, EnvironmentConfig>>): void {
  try {
    buildApp(environments).synth();
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    console.error(e.message);
    process.exitCode = 1;
  }
}
