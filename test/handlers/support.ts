import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { CreateTableCommand, DynamoDBClient, ScanCommand, BatchWriteItemCommand, type WriteRequest } from "@aws-sdk/client-dynamodb";
import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256 } from "@aws-crypto/sha256-js";
import type { AwsCredentialIdentity } from "@smithy/types";
import { afterAll, beforeAll, vi } from "vitest";
import type { WebSocketEvent } from "../../handlers/lib/event.js";
import { sendWire, toWireRequest } from "../../src/local/front-door.js";
import { ConnectionsModel } from "../../src/local/models/connections.js";
import { AwsError } from "../../src/local/service.js";
import { connectionsWire } from "../../src/local/wire/connections.js";
import { openConnection } from "../support/connections.js";

// Test helpers for the handlers: DynamoDB is dynalite (the project's DynamoDB, as
// in `chatctl dev`), and the @connections API is the local cloud's model and wire
// adapter on a loopback server that first checks every SigV4 signature the way
// API Gateway would.

export const CREDENTIALS = { accessKeyId: "AKIDHANDLERTEST", secretAccessKey: "handler-test-secret", sessionToken: "handler-test-session-token" } as const;
export const REGION = "us-east-1";

interface DynaliteServer {
  listen(port: number, host: string, cb: (err?: Error) => void): void;
  close(cb: (err?: Error) => void): void;
}
type DynaliteFactory = (opts: { createTableMs: number; deleteTableMs: number; updateTableMs: number }) => DynaliteServer & Server;

export interface Dynamo {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  createConnectionsTable(name: string): Promise<void>;
  connectionIds(table: string): Promise<string[]>;
  putConnections(table: string, ids: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

export async function startDynalite(): Promise<Dynamo> {
  // dynalite ships no types; its factory returns an http.Server.
  const dynalite = createRequire(import.meta.url)("dynalite") as DynaliteFactory;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => server.listen(0, "127.0.0.1", (err) => (err ? reject(err) : resolve())));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({ endpoint, region: REGION, credentials: CREDENTIALS });
  return {
    endpoint,
    client,
    async createConnectionsTable(name) {
      await client.send(
        new CreateTableCommand({
          TableName: name,
          AttributeDefinitions: [{ AttributeName: "connectionId", AttributeType: "S" }],
          KeySchema: [{ AttributeName: "connectionId", KeyType: "HASH" }],
          BillingMode: "PAY_PER_REQUEST",
        }),
      );
    },
    async connectionIds(table) {
      const ids: string[] = [];
      let start: Record<string, import("@aws-sdk/client-dynamodb").AttributeValue> | undefined;
      do {
        const page = await client.send(new ScanCommand({ TableName: table, ...(start ? { ExclusiveStartKey: start } : {}) }));
        for (const item of page.Items ?? []) if (item.connectionId?.S) ids.push(item.connectionId.S);
        start = page.LastEvaluatedKey;
      } while (start);
      return ids.sort();
    },
    async putConnections(table, ids) {
      for (let i = 0; i < ids.length; i += 25) {
        let requests: WriteRequest[] = ids.slice(i, i + 25).map((id) => ({
          PutRequest: { Item: { connectionId: { S: id }, connectedAt: { N: "0" } } },
        }));
        while (requests.length > 0) {
          const out = await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: requests } }));
          requests = out.UnprocessedItems?.[table] ?? [];
        }
      }
    },
    async close() {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** dynalite for the enclosing suite: started before its first test, closed after its last. */
export function suiteDynalite(): { readonly current: Dynamo } {
  let dynamo: Dynamo | undefined;
  beforeAll(async () => {
    dynamo = await startDynalite();
  });
  afterAll(async () => {
    await dynamo?.close();
  });
  return {
    get current(): Dynamo {
      if (!dynamo) throw new Error("dynalite is not running (used outside a test?)");
      return dynamo;
    },
  };
}

/** The handlers' log lines from now on (console.log and console.error, which they write JSON to), parsed. */
export function captureLogLines(): () => Array<Record<string, unknown>> {
  const lines: string[] = [];
  const keep = (...args: unknown[]): void => void lines.push(args.map(String).join(" "));
  vi.spyOn(console, "log").mockImplementation(keep);
  vi.spyOn(console, "error").mockImplementation(keep);
  return () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
}

export interface ReceivedPost {
  readonly connectionId: string;
  readonly body: string;
  readonly authorization: string;
}

export interface ConnectionsServerOptions {
  /** Answer with this status for these (e.g. 403, or 503 the first time), injected before the model's own answer. */
  readonly failWith?: (connectionId: string, attempt: number) => number | undefined;
  /** Hold each answer this long, so concurrent posts overlap at the server. */
  readonly delayMs?: number;
  readonly credentials?: AwsCredentialIdentity;
  /** Skip recomputing signatures (pure-JS SHA-256): for tests of thousands of posts that check something else. */
  readonly skipSignatureCheck?: boolean;
}

export interface ConnectionsServer {
  readonly endpoint: string;
  readonly model: ConnectionsModel;
  /** Successful posts (2xx answers), in arrival order. */
  readonly delivered: ReceivedPost[];
  /** Every request, whatever it was answered. */
  readonly requests: ReceivedPost[];
  readonly badSignatures: string[];
  /** Most requests the server was working on at the same moment. */
  readonly maxInFlight: number;
  /** Opens these connections (as the gateway does once $connect accepted them); posts to any other id answer 410. */
  connect(ids: Iterable<string>): void;
  deliveredTo(connectionId: string): unknown[];
  close(): Promise<void>;
}

const SIGNED = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/;

/** Recomputes the request's signature as API Gateway does; undefined when it matches. */
async function signatureProblem(req: IncomingMessage, body: Buffer, credentials: AwsCredentialIdentity): Promise<string | undefined> {
  const auth = req.headers.authorization ?? "";
  const m = SIGNED.exec(auth);
  if (!m) return `malformed authorization: ${auth}`;
  const [, akid, , region, service, signedHeaders] = m;
  if (akid !== credentials.accessKeyId) return `unknown access key ${akid}`;
  if (service !== "execute-api") return `wrong service ${service}`;
  if (req.headers["x-amz-security-token"] !== credentials.sessionToken) return "session token missing or wrong";
  const amzDate = String(req.headers["x-amz-date"] ?? "");
  const signingDate = new Date(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, "$1-$2-$3T$4:$5:$6Z"));
  const headers: Record<string, string> = {};
  for (const name of (signedHeaders ?? "").split(";")) {
    if (name === "x-amz-date") continue; // the signer sets it from signingDate
    const v = req.headers[name];
    headers[name] = Array.isArray(v) ? v.join(",") : (v ?? "");
  }
  const url = new URL(req.url ?? "/", "http://x");
  const signer = new SignatureV4({ credentials, region: region ?? "", service: "execute-api", sha256: Sha256 });
  const expected = await signer.sign(
    { method: req.method ?? "POST", protocol: "http:", hostname: url.hostname, path: url.pathname, query: {}, headers, body },
    { signingDate },
  );
  return expected.headers.authorization === auth ? undefined : `signature mismatch: got ${auth}, expected ${expected.headers.authorization}`;
}

export async function startConnectionsServer(opts: ConnectionsServerOptions = {}): Promise<ConnectionsServer> {
  const credentials = opts.credentials ?? CREDENTIALS;
  const model = new ConnectionsModel();
  const wire = connectionsWire(model);
  const delivered: ReceivedPost[] = [];
  const requests: ReceivedPost[] = [];
  const badSignatures: string[] = [];
  const attempts = new Map<string, number>();
  model.beforeCall = async (_service, _operation, input) => {
    const connectionId = String(input.ConnectionId);
    const attempt = (attempts.get(connectionId) ?? 0) + 1;
    attempts.set(connectionId, attempt);
    if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
    const status = opts.failWith?.(connectionId, attempt);
    if (status !== undefined) {
      throw new AwsError(status === 403 ? "ForbiddenException" : status === 429 ? "LimitExceededException" : status >= 500 ? "InternalServerErrorException" : "BadRequestException", "failed on purpose", status);
    }
  };
  let inFlight = 0;
  let maxInFlight = 0;
  const server = createServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        const match = /\/@connections\/([^/]+)$/.exec((req.url ?? "").split("?")[0] ?? "");
        const connectionId = match?.[1] ? decodeURIComponent(match[1]) : "";
        const post = { connectionId, body: body.toString("utf8"), authorization: req.headers.authorization ?? "" };
        requests.push(post);
        const problem = opts.skipSignatureCheck ? undefined : await signatureProblem(req, body, credentials);
        const answer = problem
          ? { status: 403, headers: { "content-type": "application/json", "x-amzn-errortype": "ForbiddenException" }, body: JSON.stringify({ message: problem }) }
          : await wire.handle(toWireRequest(req, body));
        if (problem) badSignatures.push(problem);
        else if (req.method === "POST" && answer.status < 300) delivered.push(post);
        inFlight--;
        sendWire(res, answer);
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    model,
    delivered,
    requests,
    badSignatures,
    get maxInFlight() {
      return maxInFlight;
    },
    connect(ids) {
      for (const id of ids) openConnection(model, id);
    },
    deliveredTo(connectionId) {
      return delivered.filter((p) => p.connectionId === connectionId).map((p) => JSON.parse(p.body) as unknown);
    },
    close() {
      return new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}

export function wsEvent(routeKey: string, connectionId: string, extra: Partial<WebSocketEvent> = {}): WebSocketEvent {
  return {
    requestContext: {
      connectionId,
      routeKey,
      eventType: routeKey === "$connect" ? "CONNECT" : routeKey === "$disconnect" ? "DISCONNECT" : "MESSAGE",
      domainName: "abc123.execute-api.us-east-1.amazonaws.com",
      stage: "prod",
      requestId: `req-${connectionId}`,
      identity: { sourceIp: "203.0.113.7", userAgent: "test-agent/1.0" },
    },
    ...extra,
  };
}

/** The environment the reconciler and Lambda give a handler, pointed at the loopback stand-ins. */
export function handlerEnv(dynamoEndpoint: string, connectionsEndpoint: string, table: string): Record<string, string> {
  return {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_SESSION_TOKEN: CREDENTIALS.sessionToken,
    AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
    AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI: connectionsEndpoint,
    TABLE_CONNECTIONS: table,
  };
}
