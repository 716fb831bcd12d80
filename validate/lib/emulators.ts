// S3 and DynamoDB from the npm registry, on 127.0.0.1 and an OS-assigned port,
// for Terraform's S3 backend in the tests: s3rver (S3, files in a temporary
// folder) and dynalite (DynamoDB, in memory). stop() closes both and removes
// the folder.
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";

/** s3rver accepts only this access key (and this secret). */
export const S3RVER_KEY = "S3RVER";

export interface Emulators {
  readonly s3Endpoint: string;
  readonly dynamodbEndpoint: string;
  readonly bucket: string;
  readonly table: string;
  /** A -backend-config file's text: the endpoints, path-style requests, the skip_* checks and s3rver's key. */
  backendConfig(): string;
  /** The DynamoDB items of the lock table (the lock and the state digest), for "nothing left locked". */
  lockItems(): Promise<Record<string, { S?: string }>[]>;
  stop(): Promise<void>;
}

/** A DynamoDB JSON request (dynalite checks that it is signed in form, not the signature). */
function dynamo(port: number, target: string, body: unknown): Promise<any> {
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/",
        headers: {
          "Content-Type": "application/x-amz-json-1.0",
          "X-Amz-Target": `DynamoDB_20120810.${target}`,
          "X-Amz-Date": "20250101T000000Z",
          Authorization: `AWS4-HMAC-SHA256 Credential=${S3RVER_KEY}/20250101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=00`,
          "Content-Length": Buffer.byteLength(data),
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (c: string) => (text += c));
        res.on("end", () => (res.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(`DynamoDB ${target}: ${res.statusCode} ${text}`))));
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}

export async function startEmulators(bucket = "zivohealth-tfstate", table = "zivohealth-tflock"): Promise<Emulators> {
  // Loaded here: only the S3 tests need them.
  const dynalite = require("dynalite") as (o: Record<string, unknown>) => http.Server;
  const S3rver = require("s3rver") as new (o: Record<string, unknown>) => { run(): Promise<AddressInfo>; close(): Promise<void> };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zh-s3rver-"));
  const db = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }); // no path: in memory
  await new Promise<void>((resolve, reject) => db.listen(0, "127.0.0.1", () => resolve()).on("error", reject));
  const s3 = new S3rver({ port: 0, address: "127.0.0.1", directory: dir, silent: true, configureBuckets: [{ name: bucket }] });
  let s3Address: AddressInfo;
  try {
    s3Address = await s3.run();
  } catch (e) {
    await new Promise((r) => db.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const dbPort = (db.address() as AddressInfo).port;
  await dynamo(dbPort, "CreateTable", {
    TableName: table,
    AttributeDefinitions: [{ AttributeName: "LockID", AttributeType: "S" }],
    KeySchema: [{ AttributeName: "LockID", KeyType: "HASH" }],
    BillingMode: "PAY_PER_REQUEST",
  });
  for (let n = 0; n < 50; n++) {
    const t = await dynamo(dbPort, "DescribeTable", { TableName: table });
    if (t.Table.TableStatus === "ACTIVE") break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const s3Endpoint = `http://127.0.0.1:${s3Address.port}`;
  const dynamodbEndpoint = `http://127.0.0.1:${dbPort}`;
  return {
    s3Endpoint,
    dynamodbEndpoint,
    bucket,
    table,
    backendConfig: () =>
      [
        `endpoints = {`,
        `  s3       = "${s3Endpoint}"`,
        `  dynamodb = "${dynamodbEndpoint}"`,
        `}`,
        `use_path_style              = true`,
        `skip_credentials_validation = true`,
        `skip_requesting_account_id  = true`,
        `skip_metadata_api_check     = true`,
        `skip_region_validation      = true`,
        `access_key                  = "${S3RVER_KEY}"`,
        `secret_key                  = "${S3RVER_KEY}"`,
        "",
      ].join("\n"),
    lockItems: async () => (await dynamo(dbPort, "Scan", { TableName: table })).Items,
    async stop() {
      await s3.close();
      await new Promise((r) => db.close(r));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
