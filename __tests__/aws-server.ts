// A local HTTP server that answers the AWS SDK's real requests with recorded
// responses (__tests__/fixtures/verify/<scenario>/), in each service's wire
// protocol: awsJson 1.1 (ECS, ECR, SSM, CloudWatch Logs), awsJson 1.0 (SQS,
// CloudWatch), ec2Query and awsQuery XML (EC2, STS), restXml (Route 53).
//
// A recording is `<service>.<Operation>[.<key>][.<n>].<json|xml|error.json>`:
// the body AWS sends (`.json`, `.xml`), or `{status, headers?, body}` for an
// error (`.error.json`). `<key>` tells apart calls of one operation (a queue
// name, a task status, a record name, a page token); `<n>` is the n-th such
// call, else the recording answers every call. A scenario answers what it
// does not record from `healthy/`.
//
// `fail` makes one operation fail on every call, whatever the recordings say:
// `denied` (AccessDenied, in that service's protocol), `error` (HTTP 500, an
// internal failure the SDK retries) or `reset` (the connection dropped with no
// answer, as a timeout or a broken network ends; the SDK retries it too).
//
// Over HTTP on 127.0.0.1 (the SDK's NodeHttpHandler, sockets, node:http on both
// sides), or in process: the same answering code gets the SDK's signed request
// from a request handler the clients take, with no socket (a healthy run: 43 ms
// of CPU against 67 to 95 over HTTP, measured when written). A dropped
// connection needs the socket: HTTP only.
import { EventEmitter } from "events";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as path from "path";
import { HttpResponse, buildQueryString } from "@smithy/core/protocols";
import type { HttpHandler } from "@smithy/core/protocols";

export const FIXTURES = path.join(__dirname, "fixtures", "verify");

export interface SeenRequest {
  /** `ecs:DescribeServices`. */
  readonly operation: string;
  readonly key?: string;
  readonly method: string;
  readonly url: string;
  /** The parsed request: JSON body, form fields or query parameters. */
  readonly input: Record<string, unknown>;
  /** The SigV4 Authorization header's credential scope: `<key id>/<date>/<region>/<service>/aws4_request`. */
  readonly credential?: string;
  /** `amz-sdk-request: attempt=n; max=m`. */
  readonly attempt?: string;
  readonly userAgent?: string;
  /** The recording that answered, relative to FIXTURES. */
  readonly answeredWith?: string;
}

export interface AwsServer {
  readonly endpoint: string;
  readonly requests: SeenRequest[];
  /** In process: the handler every client takes as its `requestHandler` (the endpoint then names no server). */
  readonly requestHandler?: HttpHandler;
  close(): Promise<void>;
}

/** How the SDK's requests reach the answering code. */
export type Transport = "http" | "in-process";

/** The in-process endpoint: the SDK signs for it; nothing listens there (`.invalid` never resolves). */
export const IN_PROCESS_ENDPOINT = "http://aws-recordings.invalid";

const JSON_TARGETS: Record<string, { service: string; contentType: string }> = {
  AmazonEC2ContainerServiceV20141113: { service: "ecs", contentType: "application/x-amz-json-1.1" },
  AmazonEC2ContainerRegistry_V20150921: { service: "ecr", contentType: "application/x-amz-json-1.1" },
  AmazonSSM: { service: "ssm", contentType: "application/x-amz-json-1.1" },
  Logs_20140328: { service: "logs", contentType: "application/x-amz-json-1.1" },
  AmazonSQS: { service: "sqs", contentType: "application/x-amz-json-1.0" },
  GraniteServiceVersion20100801: { service: "cloudwatch", contentType: "application/x-amz-json-1.0" },
};
const QUERY_VERSIONS: Record<string, string> = { "2016-11-15": "ec2", "2011-06-15": "sts" };

/** What tells calls of one operation apart. */
function keyOf(operation: string, input: Record<string, any>): string | undefined {
  switch (operation) {
    case "sqs:GetQueueUrl":
      return input.QueueName;
    case "sqs:GetQueueAttributes":
      return String(input.QueueUrl).slice(String(input.QueueUrl).lastIndexOf("/") + 1);
    case "ecs:ListTasks":
      return input.desiredStatus;
    case "route53:ListResourceRecordSets":
      return String(input.name).replace(/\.$/, "");
    case "logs:FilterLogEvents":
      return input.nextToken;
    default:
      return undefined;
  }
}

/** How a failing operation fails. */
export type FailureKind = "denied" | "error" | "reset";

export interface ServerOptions {
  /** One operation (`ecs:DescribeTasks`) that fails on every call, and how. */
  readonly fail?: { readonly operation: string; readonly kind: FailureKind };
}

/** The error AWS sends for `kind` in the protocol of `operation`'s service: status, content type, body. */
function failure(operation: string, kind: "denied" | "error", contentType: string): { status: number; contentType: string; body: string } {
  const service = operation.split(":")[0];
  const status = kind === "denied" ? (service === "ec2" || service === "sts" || service === "route53" ? 403 : 400) : 500;
  const message = kind === "denied" ? `User: arn:aws:iam::474221740916:user/deployer is not authorized to perform: ${operation}` : "An internal error occurred.";
  if (service === "ec2") {
    const code = kind === "denied" ? "UnauthorizedOperation" : "InternalError";
    return { status, contentType: "text/xml", body: `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>5e1b7c0d-9a2f-4e3b-8c6d-1f0a2b3c4d5e</RequestID></Response>` };
  }
  if (service === "sts" || service === "route53") {
    const code = kind === "denied" ? "AccessDenied" : "InternalFailure";
    const ns = service === "sts" ? "https://sts.amazonaws.com/doc/2011-06-15/" : "https://route53.amazonaws.com/doc/2013-04-01/";
    return {
      status,
      contentType: "text/xml",
      body: `<?xml version="1.0"?>\n<ErrorResponse xmlns="${ns}"><Error><Type>${kind === "denied" ? "Sender" : "Receiver"}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>5e1b7c0d-9a2f-4e3b-8c6d-1f0a2b3c4d5e</RequestId></ErrorResponse>`,
    };
  }
  // awsJson: ECS, ECR, SSM, CloudWatch Logs, SQS, CloudWatch.
  const code = kind === "denied" ? "AccessDeniedException" : "InternalFailure";
  return { status, contentType, body: JSON.stringify({ __type: code, message }) };
}

/** Each scenario's recordings by file name, listed once per process (a test file runs a hundred servers); a text is read at its first use. */
const listed = new Map<string, Map<string, string | undefined>>();
function recordingsOf(scenario: string): Map<string, string | undefined> | undefined {
  let files = listed.get(scenario);
  if (!files) {
    const dir = path.join(FIXTURES, scenario);
    if (!fs.existsSync(dir)) return undefined;
    files = new Map(fs.readdirSync(dir).map((f) => [f, undefined]));
    listed.set(scenario, files);
  }
  return files;
}
/** The text of a recording `<scenario>/<file>`, read once. */
function recording(rel: string): string {
  const [scenario, file] = rel.split(path.sep);
  const files = recordingsOf(scenario)!;
  let text = files.get(file);
  if (text === undefined) files.set(file, (text = fs.readFileSync(path.join(FIXTURES, rel), "utf8")));
  return text;
}

/** What the answering code reads of a request (node's IncomingMessage, or the in-process stand-in). */
interface Request {
  readonly method?: string;
  readonly url?: string;
  readonly headers: http.IncomingHttpHeaders;
  on(event: "data", listener: (chunk: Buffer) => void): unknown;
  on(event: "end", listener: () => void): unknown;
  readonly socket: { destroy(): void };
}
/** What it writes of the answer (node's ServerResponse, or the in-process stand-in). */
interface Response {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body: string): unknown;
}

/** Hands the SDK's request to `listener` in this process, as node:http would (lower-case headers, the path with its query), and its answer back. */
function inProcess(listener: (req: Request, res: Response) => void): HttpHandler {
  return {
    handle: (request) =>
      new Promise((resolve, reject) => {
        const headers: http.IncomingHttpHeaders = {};
        for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
        const query = request.query ? buildQueryString(request.query) : "";
        const events = new EventEmitter();
        const req: Request = {
          method: request.method,
          url: request.path + (query ? `?${query}` : ""),
          headers,
          on: (event: string, f: (...args: any[]) => void) => events.on(event, f),
          socket: { destroy: () => reject(new Error("in process, a connection cannot drop: run this over HTTP")) },
        };
        const answer: Record<string, string> = {};
        const res: Response = {
          statusCode: 200,
          setHeader: (name, value) => (answer[name.toLowerCase()] = value),
          end(body) {
            // This realm's Uint8Array, as the SDK's body collector takes it.
            const bytes = Uint8Array.from(Buffer.from(body, "utf8"));
            resolve({ response: new HttpResponse({ statusCode: this.statusCode, headers: { ...answer, "content-length": String(bytes.length) }, body: bytes }) });
          },
        };
        listener(req, res);
        // The body's bytes as NodeHttpHandler writes them: a string, or the bytes of a view (the SDK's JSON body is one).
        const body = request.body as string | Uint8Array | undefined | null;
        if (typeof body === "string") events.emit("data", Buffer.from(body, "utf8"));
        else if (body) events.emit("data", Buffer.from(body.buffer, body.byteOffset, body.byteLength));
        events.emit("end");
      }),
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
  };
}

export async function startAwsServer(scenario: string, options: ServerOptions = {}, transport: Transport = "http"): Promise<AwsServer> {
  if (!recordingsOf(scenario)) throw new Error(`no recordings for scenario '${scenario}'`);
  if (transport === "in-process" && options.fail?.kind === "reset") throw new Error("a dropped connection needs the socket: run it over HTTP");
  const requests: SeenRequest[] = [];
  const counts = new Map<string, number>();

  const find = (operation: string, key: string | undefined, n: number): string | undefined => {
    const base = operation.replace(":", ".");
    const stems = key === undefined ? [`${base}.${n}`, base] : [`${base}.${key}.${n}`, `${base}.${key}`];
    for (const dir of [scenario, "healthy"]) {
      const files = recordingsOf(dir)!;
      for (const stem of stems) {
        for (const ext of [".json", ".xml", ".error.json"]) {
          if (files.has(stem + ext)) return path.join(dir, stem + ext);
        }
      }
    }
    return undefined;
  };

  const listener = (req: Request, res: Response) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const url = new URL(req.url ?? "/", "http://localhost");
      let operation = "unknown";
      let input: Record<string, unknown> = {};
      let contentType = "text/xml";
      const target = req.headers["x-amz-target"];
      if (typeof target === "string") {
        const [prefix, op] = target.split(".");
        const known = JSON_TARGETS[prefix];
        operation = `${known?.service ?? prefix}:${op}`;
        contentType = known?.contentType ?? "application/x-amz-json-1.1";
        input = body ? JSON.parse(body) : {};
      } else if (req.method === "POST") {
        const form = new URLSearchParams(body);
        input = Object.fromEntries(form);
        operation = `${QUERY_VERSIONS[form.get("Version") ?? ""] ?? "query"}:${form.get("Action")}`;
      } else if (url.pathname === "/2013-04-01/hostedzonesbyname") {
        operation = "route53:ListHostedZonesByName";
        input = Object.fromEntries(url.searchParams);
      } else if (/^\/2013-04-01\/hostedzone\/[^/]+\/rrset$/.test(url.pathname)) {
        operation = "route53:ListResourceRecordSets";
        input = { HostedZoneId: url.pathname.split("/")[3], ...Object.fromEntries(url.searchParams) };
      }
      const key = keyOf(operation, input as Record<string, any>);
      const counter = `${operation}|${key ?? ""}`;
      const n = (counts.get(counter) ?? 0) + 1;
      counts.set(counter, n);
      const rel = find(operation, key, n);
      const credential = /Credential=([^,]+)/.exec(String(req.headers.authorization ?? ""))?.[1];
      requests.push({
        operation,
        key,
        method: req.method ?? "",
        url: req.url ?? "",
        input,
        credential,
        attempt: req.headers["amz-sdk-request"] as string | undefined,
        userAgent: req.headers["user-agent"],
        answeredWith: rel,
      });
      res.setHeader("x-amzn-RequestId", `00000000-0000-4000-8000-${String(requests.length).padStart(12, "0")}`);
      res.setHeader("Date", new Date().toUTCString());
      if (options.fail?.operation === operation) {
        if (options.fail.kind === "reset") {
          req.socket.destroy();
          return;
        }
        const e = failure(operation, options.fail.kind, contentType);
        res.statusCode = e.status;
        res.setHeader("content-type", e.contentType);
        res.end(e.body);
        return;
      }
      if (!rel) {
        res.statusCode = 501;
        res.setHeader("content-type", "text/plain");
        res.end(`no recording for ${operation} (key ${key}, call ${n}) in ${scenario} or healthy`);
        return;
      }
      const text = recording(rel);
      if (rel.endsWith(".error.json")) {
        const e = JSON.parse(text) as { status: number; headers?: Record<string, string>; body: unknown };
        res.statusCode = e.status;
        res.setHeader("content-type", typeof e.body === "string" ? "text/xml" : contentType);
        for (const [h, v] of Object.entries(e.headers ?? {})) res.setHeader(h, v);
        res.end(typeof e.body === "string" ? e.body : JSON.stringify(e.body));
        return;
      }
      res.statusCode = 200;
      res.setHeader("content-type", rel.endsWith(".xml") ? "text/xml" : contentType);
      res.end(text);
    });
  };
  if (transport === "in-process") return { endpoint: IN_PROCESS_ENDPOINT, requests, requestHandler: inProcess(listener), close: async () => undefined };
  const server = http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
