// Imported first by main.ts and by each command, so it applies to everything
// loaded after it: each module compiles from the compile cache, what cdktf
// loads but the app never runs waits for its first use, and cdktf's records of
// where each token was made are formatted only when read. None changes what is
// synthesized. Only in a process the project's own file started (its script,
// process.argv[1], outside node_modules): a tool that loads this file (jest's
// workers, `node -e`) keeps its own module loading.
import * as path from "path";
import { installCompileCache } from "./compile-cache";
import { installLazyCreationRecords } from "./creation-records";
import { installDeferredRequires } from "./deferred-requires";

const entry = process.argv[1];
if (entry !== undefined && !path.resolve(entry).split(path.sep).includes("node_modules")) {
  installDeferredRequires();
  installCompileCache();
  installLazyCreationRecords();
}
