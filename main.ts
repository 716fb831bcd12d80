// Wiring only: one stack per environment configuration.
import { App } from "cdktf";
import { environments } from "./config/environments";
import { ZivoHealthStack } from "./stacks/zivohealth-stack";

const app = new App({ stackTraces: false });
for (const [name, config] of Object.entries(environments)) {
  new ZivoHealthStack(app, name, config);
}
app.synth();
