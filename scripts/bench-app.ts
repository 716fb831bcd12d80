// Benchmark app: synthesizes N synthetic copies of the production stack, to
// show how synthesis time grows with the number of stacks (see scripts/bench.ts).
//   node dist/scripts/bench-app.js <stacks> <outdir>
// Stacks are named env01..envNN, each a ZivoHealthStack with the production
// configuration and `environment: "envNN"`. Nothing here is deployed.
import { App } from "cdktf";
import { production } from "../config/environments";
import { ZivoHealthStack } from "../stacks/zivohealth-stack";

const [countArg, outdir] = process.argv.slice(2);
const count = Number(countArg);
if (!Number.isInteger(count) || count < 1 || count > 999 || !outdir) {
  process.stderr.write("usage: node dist/scripts/bench-app.js <stacks 1..999> <outdir>\n");
  process.exit(2);
}

const app = new App({ outdir, stackTraces: false });
for (let n = 1; n <= count; n++) {
  const name = `env${String(n).padStart(2, "0")}`;
  new ZivoHealthStack(app, name, { ...production, environment: name });
}
app.synth();
