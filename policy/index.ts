// Policy checks on the synthesized Terraform: rules (pure functions over the
// JSON), the synth-time Aspect, and the configuration both share.
export * from "./config";
export * from "./rules";
export * from "./evaluate";
export { NON_SECRET_QUALIFIERS, isSecretName, looksRandom, shannonEntropy } from "./secrets";
export * from "./aspect";
export { decodeTemplateJson, isPureReference, splitTemplate } from "./template";
