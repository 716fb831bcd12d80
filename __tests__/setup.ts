// Every test file's setup: its temporary folders go after its tests, and (setup-cdktf.ts) cdktf's matchers.
import * as path from "path";
import { removeTempDirs } from "./tmp";

// The test files that use no cdktf skip loading it: about 0.3 s of CPU on the path of the worker that runs
// workflows.test.ts before its group.
const NO_CDKTF = ["workflows.test.ts"];
if (!NO_CDKTF.includes(path.basename(expect.getState().testPath ?? ""))) require("./setup-cdktf");

afterAll(() => removeTempDirs());
