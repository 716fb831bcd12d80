/**
 * A jest reporter for the slow tiers: a line on stderr as each test file and
 * each test starts, and one when each test ends with its time, as they happen
 * (jest's default reporter prints a file's tests only when the whole file is
 * done: the plan-check tier would say nothing for minutes). With
 * test.concurrent, jest reports a test's start when it awaits it, so the tests
 * of a file may have begun together; the end lines are exact.
 */
class ProgressReporter {
  /** `options.write` and `options.now` replace stderr and the clock (tests). */
  constructor(globalConfig, options = {}) {
    this.write = options.write ?? ((text) => process.stderr.write(text));
    this.now = options.now ?? Date.now;
    this.t0 = this.now();
    this.started = new Map();
    this.rootDir = globalConfig.rootDir;
  }

  elapsed() {
    const s = Math.round((this.now() - this.t0) / 1000);
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  }

  file(test) {
    return require("path").relative(this.rootDir, test.path);
  }

  line(text) {
    this.write(`[tier ${this.elapsed()}] ${text}\n`);
  }

  onTestFileStart(test) {
    this.line(`${this.file(test)}: starting`);
  }

  onTestCaseStart(test, info) {
    this.started.set(`${test.path}\0${info.fullName}`, this.now());
    this.line(`${this.file(test)}: started: ${info.fullName}`);
  }

  onTestCaseResult(test, result) {
    const key = `${test.path}\0${result.fullName}`;
    const ms = result.duration ?? (this.started.has(key) ? this.now() - this.started.get(key) : undefined);
    this.started.delete(key);
    const time = ms === undefined || ms === null ? "" : ` in ${(ms / 1000).toFixed(1)} s`;
    this.line(`${this.file(test)}: ${result.status}${time}: ${result.fullName}`);
  }

  onTestFileResult(test, result) {
    const { numPassingTests: passed, numFailingTests: failed, numPendingTests: skipped } = result;
    this.line(`${this.file(test)}: done: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  }
}

module.exports = ProgressReporter;
