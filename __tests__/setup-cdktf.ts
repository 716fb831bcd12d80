// The cdktf part of setup.ts: the jest matchers (toHaveResourceWithProperties, ...), cheap creation records, and
// Testing.app / Testing.fullSynth folders that go after each test file.
import * as fs from "fs";
import * as path from "path";
import { types } from "util";
import { Testing } from "cdktf";
import { RECORDS, lazyCreationRecords } from "../stacks/creation-records";
import { tempDir } from "./tmp";
Testing.setupJest();

// cdktf records where every token and construct was made (a stack trace of every frame, formatted at once),
// and jest formats stack traces through source maps: that was about a quarter of npm test's CPU. Those records
// (plain objects, not errors) get their first 10 frames (V8's default limit) as V8 prints them, under V8's
// header line, not mapped to the TypeScript; errors keep jest's mapping.
const mapped = Error.prepareStackTrace;
if (mapped) {
  Error.prepareStackTrace = (target, frames) =>
    types.isNativeError(target) ? mapped(target, frames) : ["Error", ...frames.slice(0, 10).map((f) => `    at ${f}`)].join("\n");
}
// Since a record keeps 10 frames, it is captured with 10, not every frame (cdktf sets the limit to
// MAX_SAFE_INTEGER; a token made under jest is 60 to 100 frames deep): the same record for a tenth of V8's work.
// And formatted when first read, as in the product (stacks/creation-records.ts).
lazyCreationRecords(require(RECORDS), 10);

// cdktf's Testing.app and Testing.fullSynth make a temporary output folder
// each and never remove it: here they are made inside one that goes after the file's tests.
let outdirs: string | undefined;
const outdirsOf = () => (outdirs ??= tempDir("zh-testing-apps-"));
const testingApp = Testing.app.bind(Testing);
Testing.app = (options = {}) => testingApp({ ...options, outdir: options.outdir ?? fs.mkdtempSync(path.join(outdirsOf(), "cdktf.outdir.")) });
const fullSynth = Testing.fullSynth.bind(Testing);
Testing.fullSynth = (stack) => {
  // fullSynth takes no folder: it asks the os module's tmpdir() (core modules are shared with cdktf; a test's process.env is not).
  const nodeOs = require("os") as typeof import("os");
  const tmpdir = nodeOs.tmpdir;
  const dir = outdirsOf();
  nodeOs.tmpdir = () => dir;
  try {
    return fullSynth(stack);
  } finally {
    nodeOs.tmpdir = tmpdir;
  }
};
afterAll(() => (outdirs = undefined)); // setup.ts removes the folder itself
