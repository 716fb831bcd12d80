// cdktf records where every token was made (cdktf/lib/tokens/private/stack-trace.js): a stack trace of
// every frame, formatted as each token is made, though cdktf reads a record only for an error's message
// ("Object creation stack"). Here a record keeps the frames as V8 captured them and is formatted at its
// first read: the same lines, without formatting thousands of records no one reads (12 to 15% of a warm
// synthesis's CPU, measured in one process over 30 syntheses of production).
import Module from "module";

/** cdktf's module of creation records. */
export const RECORDS = "cdktf/lib/tokens/private/stack-trace";
type Records = { captureStackTrace: (below?: Function) => string[] };
type Load = (request: string, parent: unknown, isMain: boolean) => unknown;

/** Makes `records` (cdktf's module, loaded) capture at most `frames` frames and format them when first read. */
export function lazyCreationRecords(records: Records, frames: number = Number.MAX_SAFE_INTEGER): void {
  records.captureStackTrace = function captureStackTrace(below?: Function): string[] {
    const record: { stack?: string } = {};
    const limit = Error.stackTraceLimit;
    try {
      Error.stackTraceLimit = frames;
      Error.captureStackTrace(record, below ?? captureStackTrace);
    } finally {
      Error.stackTraceLimit = limit;
    }
    // V8 formats `stack` at its first read; the lines are what cdktf's own function makes of it.
    let lines: string[] | undefined;
    const read = () => (lines ??= record.stack ? record.stack.split("\n").slice(1).map((s) => s.replace(/^\s*at\s+/, "")) : []);
    return new Proxy([] as string[], {
      get: (_t, key) => {
        const value = Reflect.get(read(), key);
        return typeof value === "function" ? value.bind(read()) : value;
      },
      has: (_t, key) => Reflect.has(read(), key),
      ownKeys: () => Reflect.ownKeys(read()),
      getOwnPropertyDescriptor: (_t, key) => Reflect.getOwnPropertyDescriptor(read(), key),
    });
  };
}

let installed = false;

/**
 * From now on cdktf's creation records are lazy (lazyCreationRecords, every frame), from when cdktf first loads
 * them: a process that never loads cdktf (a refused run) loads nothing of it. Installed before cdktf loads (the
 * app's startup comes first). Once per process; false when it was installed before.
 */
export function installLazyCreationRecords(): boolean {
  if (installed) return false;
  installed = true;
  const file = require.resolve(RECORDS);
  const Loader = Module as unknown as { _load: Load };
  const original = Loader._load;
  let done = false;
  Loader._load = function (request, parent, isMain) {
    const exports = original.call(this, request, parent, isMain);
    if (!done && exports === require.cache[file]?.exports) {
      done = true;
      lazyCreationRecords(exports as Records);
    }
    return exports;
  };
  return true;
}
