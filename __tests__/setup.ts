// The cdktf jest matchers (toHaveResourceWithProperties, ...), and temporary folders that go after each test file.
import * as fs from "fs";
import * as path from "path";
import { Testing } from "cdktf";
import { removeTempDirs, tempDir } from "./tmp";
Testing.setupJest();

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

afterAll(() => {
  removeTempDirs();
  outdirs = undefined;
});
