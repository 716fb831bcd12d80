// The local provider binding, run in both builds (node --test): against cdktf
// it tests @cdktf/provider-local itself; against CDK Terrain, the binding
// generated from it (there is no @cdktn/provider-local). Same assertions.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { App, TerraformDataSource, TerraformOutput, TerraformProvider, TerraformStack } from "cdktf";
import { DataLocalFile } from "@cdktf/provider-local/lib/data-local-file";
import { LocalProvider } from "@cdktf/provider-local/lib/provider";

/** Synthesizes through App.synth, the path where a binding of the other framework crashes. */
function synth(build: (stack: TerraformStack) => void): any {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "compat-local-"));
  try {
    const app = new App({ outdir, stackTraces: false });
    build(new TerraformStack(app, "t"));
    app.synth();
    return JSON.parse(fs.readFileSync(path.join(outdir, "stacks", "t", "cdk.tf.json"), "utf8"));
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

test("the provider and the data source synthesize as the stack uses them, pinned to hashicorp/local 2.5.3", () => {
  const json = synth((stack) => {
    new LocalProvider(stack, "local");
    const file = new DataLocalFile(stack, "env_production", { filename: "${path.module}/../../backend/.env.production" });
    new TerraformOutput(stack, "content", { value: file.content });
    new TerraformOutput(stack, "sha", { value: file.contentSha256 });
  });
  assert.deepEqual(json.terraform.required_providers, { local: { source: "hashicorp/local", version: "2.5.3" } });
  assert.deepEqual(json.provider, { local: [{}] });
  assert.deepEqual(Object.keys(json.data), ["local_file"]);
  assert.equal(json.data.local_file.env_production.filename, "${path.module}/../../backend/.env.production");
  assert.deepEqual(Object.keys(json.data.local_file.env_production).sort(), ["//", "filename"]);
  assert.equal(json.output.content.value, "${data.local_file.env_production.content}");
  assert.equal(json.output.sha.value, "${data.local_file.env_production.content_sha256}");
});

test("an aliased provider is referenced by the data source as local.<alias>", () => {
  const json = synth((stack) => {
    new LocalProvider(stack, "local");
    const second = new LocalProvider(stack, "second", { alias: "second" });
    new DataLocalFile(stack, "f", { filename: "x", provider: second });
  });
  assert.deepEqual(json.provider.local, [{}, { alias: "second" }]);
  assert.equal(json.data.local_file.f.provider, "local.second");
});

test("both classes are built on the framework they run with", (t) => {
  // An App makes its output folder: one of the test's own, removed after it.
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "compat-local-"));
  t.after(() => fs.rmSync(outdir, { recursive: true, force: true }));
  const stack = new TerraformStack(new App({ outdir }), "t");
  const provider = new LocalProvider(stack, "local");
  const file = new DataLocalFile(stack, "f", { filename: "x" });
  assert.ok(provider instanceof TerraformProvider);
  assert.ok(TerraformProvider.isTerraformProvider(provider));
  assert.ok(file instanceof TerraformDataSource);
  assert.equal(LocalProvider.tfResourceType, "local");
  assert.equal(DataLocalFile.tfResourceType, "local_file");
  assert.equal(provider.terraformGeneratorMetadata?.providerVersion, "2.5.3");
});
