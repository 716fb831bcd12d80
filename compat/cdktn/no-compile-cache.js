// Preloaded before ts-node by `npm run compat:cdktn`: ts-node would otherwise
// keep TypeScript's V8 compile cache in a folder of the temporary directory
// that nothing removes (v8-compile-cache-<n>); the run leaves nothing there.
process.env.DISABLE_V8_COMPILE_CACHE = "1";
