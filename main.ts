// Wiring only: one stack per environment configuration.
import { environments } from "./config/environments";
import { runApp } from "./stacks/app";

runApp(environments);
