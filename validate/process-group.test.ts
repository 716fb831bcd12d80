// A real `terraform plan` whose AWS provider is running, stopped as our commands stop it: no `terraform-provider-aws`
// process outlives it (lib/process-group.ts). The provider asks STS (a local endpoint that accepts and never answers),
// so it is busy when Terraform is stopped. (Terraform killed outright at that point is not tested: its provider, mid-
// request, exits by itself when Terraform's connection drops, with or without the group; measured here.) Without
// terraform or the provider mirror the tier is skipped, and says why.
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { offlineCliConfig } from "../lib/plan/run";
import { run } from "../lib/terraform";
import { ENV, describeDetection, detectToolchain, terraformEnv } from "../lib/toolchain";
import { processesIn, until } from "../__tests__/processes";
import { tempDir } from "../__tests__/tmp";

const detection = detectToolchain();
const required = process.env[ENV.require] === "1";
if (!detection.ok) console.warn(`process-group tier: ${describeDetection(detection)}`);

test(`process-group toolchain: ${describeDetection(detection)}`, () => {
  if (!detection.ok && required) throw new Error(`${ENV.require}=1 but ${detection.reason}`);
  expect(describeDetection(detection)).toMatch(detection.ok ? /^terraform / : /^SKIPPED: /);
});

const describeTier = detection.ok ? describe : describe.skip;

describeTier("a real terraform plan stopped while its provider runs", () => {
  let server: net.Server;
  let port = 0;
  const sockets: net.Socket[] = [];
  beforeAll(async () => {
    server = net.createServer((s) => sockets.push(s)); // accepts, never answers
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    sockets.forEach((s) => s.destroy());
    await new Promise((resolve) => server.close(resolve));
  });

  /** A folder with a configuration that reads aws_caller_identity from the silent endpoint, initialized; Terraform's environment. */
  async function prepared(): Promise<{ dir: string; env: NodeJS.ProcessEnv }> {
    if (!detection.ok) throw new Error("unreachable: the tier is skipped without a toolchain");
    const t = detection.toolchain;
    const dir = tempDir("zh-pgroup-tier-");
    const unpacked = path.join(t.mirrorDir, "registry.terraform.io", "hashicorp", "aws", t.awsVersion, t.platform);
    fs.mkdirSync(path.join(dir, "plugin-cache"));
    fs.writeFileSync(path.join(dir, "cli.tfrc"), offlineCliConfig(t.mirrorDir, path.join(dir, "plugin-cache"), fs.existsSync(unpacked) ? unpacked : undefined));
    const config = {
      terraform: { required_providers: { aws: { source: "hashicorp/aws", version: t.awsVersion } } },
      provider: {
        aws: {
          region: "us-east-1",
          access_key: "AKIAIOSFODNN7EXAMPLE",
          secret_key: "not-a-secret",
          skip_credentials_validation: true,
          skip_requesting_account_id: true,
          skip_metadata_api_check: true,
          skip_region_validation: true,
          max_retries: 1,
          endpoints: [{ sts: `http://127.0.0.1:${port}` }],
        },
      },
      data: { aws_caller_identity: { me: {} } },
    };
    fs.mkdirSync(path.join(dir, "stack"));
    fs.writeFileSync(path.join(dir, "stack", "main.tf.json"), JSON.stringify(config));
    // A TMPDIR of its own: a provider killed outright leaves its plugin socket there.
    fs.mkdirSync(path.join(dir, "t"));
    const env = terraformEnv({ TF_CLI_CONFIG_FILE: path.join(dir, "cli.tfrc"), TMPDIR: path.join(dir, "t") });
    const init = await run(t.terraform, ["init", "-input=false", "-no-color", "-backend=false"], path.join(dir, "stack"), env, 300_000);
    expect([init.code, init.stderr]).toEqual([0, ""]);
    return { dir: path.join(dir, "stack"), env };
  }

  /** The processes in `dir` whose command line names `what`. */
  const running = (dir: string, what: string) => processesIn(dir).filter((p) => p.includes(what));

  /** Waits until the plan's provider runs and has asked the endpoint; the pid of Terraform's plan. */
  async function providerBusy(dir: string, asked: number): Promise<number> {
    const busy = await until(() => running(dir, "terraform-provider-aws").length > 0 && sockets.length > asked, 60_000);
    if (!busy) throw new Error(`the provider did not ask the endpoint within 60 s: ${processesIn(dir).join("; ") || "nothing runs"}`);
    const plan = running(dir, `(${detection.ok ? detection.toolchain.terraform : "terraform"} plan `).map((p) => Number(p.split(" ")[0]));
    expect(plan).toHaveLength(1);
    return plan[0];
  }

  it("Ctrl-C to a command without a handler of its own (SIGINT to its process group; again if Terraform still stops): Terraform stops, the command dies of SIGINT, no provider left", async () => {
    const { dir, env } = await prepared();
    const asked = sockets.length;
    const command: ChildProcess = spawn(
      process.execPath,
      [
        "-r",
        path.join(__dirname, "..", "__tests__", "fixtures", "swc-register.js"),
        path.join(__dirname, "..", "__tests__", "fixtures", "process-group-driver.ts"),
        "terraform",
        detection.ok ? detection.toolchain.terraform : "terraform",
        "plan",
        "-input=false",
        "-no-color",
        "-lock=false",
      ],
      { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"], detached: true },
    );
    const closed = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => command.on("close", (code, signal) => resolve([code, signal])));
    let plan: number | undefined;
    try {
      plan = await providerBusy(dir, asked);
      process.kill(-command.pid!, "SIGINT");
      // Terraform waits for the provider's request before it stops; a second Ctrl-C makes it quit at once (and is passed on too).
      if (!(await until(() => command.exitCode !== null || command.signalCode !== null, 3_000))) process.kill(-command.pid!, "SIGINT");
      expect(await closed).toEqual([null, "SIGINT"]);
      expect(await until(() => processesIn(dir).length === 0, 5_000)).toBe(true);
      expect(() => process.kill(plan!, 0)).toThrow(expect.objectContaining({ code: "ESRCH" }));
    } finally {
      // A failed case leaves nothing: the command's group, and Terraform's (its own, with the fix).
      for (const pgid of [command.pid, plan]) {
        try {
          if (pgid) process.kill(-pgid, "SIGKILL");
        } catch {
          // ended
        }
      }
    }
  }, 120_000);
});
