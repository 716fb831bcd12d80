import { App, AppConfig } from "cdktf";
import { EnvironmentConfig } from "../config/environment";
import { validateEnvironment } from "../config/validate";
import { ValidationError } from "../modules/validation";
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
  if (problems.length > 0) throw new ValidationError("environment configuration", problems);
  const app = new App({ stackTraces: false, ...appConfig });
  for (const [name, config] of Object.entries(environments)) new ZivoHealthStack(app, name, config);
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
