// npm test's type check: `tsc -b` over two projects that together hold exactly tsconfig.json's files.
// tsconfig.core.json is everything but verify; tsconfig.verify.json is verify and the tests that import
// it, the only code that needs the AWS SDK's types (three quarters of the ~470,000 lines of declarations
// tsc would parse). An edit outside verify that keeps its file's declarations checks the core alone.
// Read by tools/test.js and the bench (bench/type-check.ts). Plain JavaScript: tools/test.js needs no build.
"use strict";
const fs = require("fs");
const path = require("path");

/** The projects, in build order (the second references the first). */
const PROJECTS = ["tsconfig.core.json", "tsconfig.verify.json"];

/** A project's build info, as its file names it (project-relative). */
const buildInfoOf = (root, project) => JSON.parse(fs.readFileSync(path.join(root, project), "utf8")).compilerOptions.tsBuildInfoFile;

module.exports = { PROJECTS, buildInfoOf };
