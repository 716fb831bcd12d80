// Every test file's setup: its temporary folders go after its tests, and (setup-cdktf.ts) cdktf's matchers.
import * as path from "path";
import { DEFERRED_REQUIRES, lazyModule } from "../stacks/deferred-requires";
import { removeTempDirs } from "./tmp";

// The test files that use no cdktf skip loading it: 0.1 to 0.2 s of CPU on the path of the worker that runs
// workflows.test.ts before its group.
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
