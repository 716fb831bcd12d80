// Every test file's setup: its temporary folders go after its tests, and (setup-cdktf.ts) cdktf's matchers.
import * as path from "path";
import { DEFERRED_REQUIRES, lazyModule } from "../stacks/deferred-requires";
import { removeTempDirs } from "./tmp";

// Terraform's process group as CI has it (lib/process-group.ts), whether or not jest runs at a terminal: at one,
// Terraform would stay in the command's group. process-group.test.ts's terminal cases drop this for their commands.
process.env.ZIVOHEALTH_TERRAFORM_GROUP = "always";

// A test file that uses no cdktf skips loading it when run on its own (`npm test -- <file>`, 0.1 to 0.2 s of
// CPU); in npm test's groups the group file is the test path, and the group loads cdktf for its other files.
const NO_CDKTF = ["workflows.test.ts"];
if (!NO_CDKTF.includes(path.basename(expect.getState().testPath ?? ""))) {
  // What cdktf loads and the tests' syntheses never run (archiver, semver: cdktf's own copies) waits for its first
  // use, as in the product (stacks/deferred-requires.ts): jest's module registry does not go through Node's loader.
  for (const { request, from } of DEFERRED_REQUIRES) {
    const file = require.resolve(request, { paths: [path.dirname(require.resolve(from))] });
    jest.doMock(file, () => lazyModule(() => jest.requireActual(file)));
  }
  require("./setup-cdktf");
}

afterAll(() => removeTempDirs());
