// Wiring only: the startup first (the compile cache and deferred requires apply to what loads after it), then one stack per environment configuration.
import "./stacks/startup";
import { environments, reviewEnvironments } from "./config/environments";
import { runApp } from "./stacks/app";

runApp(environments, reviewEnvironments);
