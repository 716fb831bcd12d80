// What a long command is doing, as it happens, on stderr: a line when a step
// starts, one with its time when it ends (stdout stays the report's, so
// `--json | jq` parses). Quiet: nothing is written, steps are still timed.

export interface Progress {
  /** Runs `fn` as a named step: `tool: label …` when it starts, `tool: label 8.4 s` when it ends (`failed after 8.4 s` when it throws). */
  step<T>(label: string, fn: () => Promise<T>): Promise<T>;
  /** The same for a synchronous step. */
  stepSync<T>(label: string, fn: () => T): T;
  /** Starts a step by hand; the returned function ends it (with a note after the time, e.g. `exit 1`) and returns its milliseconds. */
  start(label: string): (note?: string) => number;
  /** A line of its own (`tool: text`). */
  say(text: string): void;
}

/** `8.4 s`, `0.0 s`, `75.2 s`: one decimal, always seconds (what a reader compares across lines). */
export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/**
 * Progress lines of `tool`, written with `write` (stderr), or none when
 * `write` is undefined (the command's --quiet).
 */
export function progress(tool: string, write: ((text: string) => void) | undefined, now: () => number = Date.now): Progress {
  const line = (text: string) => write?.(`${tool}: ${text}\n`);
  const start = (label: string) => {
    const t0 = now();
    line(`${label} …`);
    return (note?: string) => {
      const ms = now() - t0;
      line(`${label} ${seconds(ms)}${note ? ` (${note})` : ""}`);
      return ms;
    };
  };
  const failed = (label: string, t0: number) => line(`${label} failed after ${seconds(now() - t0)}`);
  return {
    start,
    say: line,
    async step<T>(label: string, fn: () => Promise<T>): Promise<T> {
      const t0 = now();
      const end = start(label);
      let value: T;
      try {
        value = await fn();
      } catch (e) {
        failed(label, t0);
        throw e;
      }
      end();
      return value;
    },
    stepSync<T>(label: string, fn: () => T): T {
      const t0 = now();
      const end = start(label);
      let value: T;
      try {
        value = fn();
      } catch (e) {
        failed(label, t0);
        throw e;
      }
      end();
      return value;
    },
  };
}
