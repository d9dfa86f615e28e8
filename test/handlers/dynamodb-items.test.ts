import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from "@aws-sdk/client-dynamodb";
import type { FinalizeRequestMiddleware, HttpRequest as SmithyHttpRequest } from "@smithy/types";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { handler as connect } from "../../handlers/connect.js";
import { handler as disconnect } from "../../handlers/disconnect.js";
import { dynamodbEndpoint, ItemClient, type DeleteItemInput, type PutItemInput } from "../../handlers/lib/dynamodb-items.js";
import { captureLogLines, CREDENTIALS, REGION, suiteDynalite, wsEvent } from "./support.js";

// The $connect/$disconnect DynamoDB client against dynalite (the project's DynamoDB)
// and against a scripted server for the answers dynalite never gives (5xx, throttling).

interface Received {
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

type Script = (n: number, req: Received, res: ServerResponse) => void;

const servers: Array<{ close(): Promise<void> }> = [];

async function scriptedServer(script: Script) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r = { url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      received.push(r);
      script(received.length, r, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push({
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/x-amz-json-1.0", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function awsError(res: ServerResponse, status: number, name: string, message: string): void {
  answer(res, status, { __type: `com.amazonaws.dynamodb.v20120810#${name}`, message });
}

const TELEMETRY = ["amz-sdk-invocation-id", "amz-sdk-request", "x-amz-user-agent", "user-agent"];
const SIGNING_TIME = new Date("2026-03-14T15:09:26Z");

/** The request the SDK's own DynamoDBClient signs for a command, captured instead of sent. */
async function sdkSigned(endpoint: string, command: PutItemCommand | DeleteItemCommand): Promise<SmithyHttpRequest> {
  let captured: SmithyHttpRequest | undefined;
  const client = new DynamoDBClient({
    region: REGION,
    endpoint,
    credentials: CREDENTIALS,
    requestHandler: {
      handle: async (request: SmithyHttpRequest) => {
        captured = request;
        const body = new TextEncoder().encode("{}");
        return { response: { statusCode: 200, headers: { "content-type": "application/x-amz-json-1.0" }, body } };
      },
    },
  });
  const dropTelemetry: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => (args) => {
    const request = args.request as SmithyHttpRequest;
    for (const h of TELEMETRY) delete request.headers[h];
    return next(args);
  };
  client.middlewareStack.addRelativeTo(dropTelemetry, { relation: "before", toMiddleware: "httpSigningMiddleware", name: "dropTelemetry" });
  try {
    await (command instanceof PutItemCommand ? client.send(command) : client.send(command));
  } finally {
    client.destroy();
  }
  if (!captured) throw new Error("the SDK sent nothing");
  return captured;
}

function client(endpoint: string, extra: Partial<ConstructorParameters<typeof ItemClient>[0]> = {}): ItemClient {
  return new ItemClient({ endpoint: new URL(endpoint), region: REGION, credentials: CREDENTIALS, baseDelayMs: 1, throttlingDelayMs: 1, ...extra });
}

afterEach(async () => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe("the direct DynamoDB item client", () => {
  const put: PutItemInput = {
    TableName: "chat-connections",
    Item: { connectionId: { S: "L0SM9cOFvHcCIhw=" }, connectedAt: { N: "1773500966000" }, note: { S: "héllo \u0001 \"q\"" }, blob: { B: new Uint8Array([0, 1, 254, 255]) } },
  };
  const del: DeleteItemInput = { TableName: "chat-connections", Key: { connectionId: { S: "L0SM9cOFvHcCIhw=" } }, ReturnValues: "ALL_OLD" };

  it.each([
    ["PutItem", "", () => new PutItemCommand(put), (c: ItemClient) => c.putItem(put)],
    ["DeleteItem", "/base", () => new DeleteItemCommand(del), (c: ItemClient) => c.deleteItem(del)],
  ] as const)("sends %s as the SDK's DynamoDBClient does (endpoint path %j): path, target, body and signature", async (_op, base, command, call) => {
    const server = await scriptedServer((_n, _req, res) => answer(res, 200, {}));
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(SIGNING_TIME);
    const sdk = await sdkSigned(server.endpoint + base, command());
    await call(client(server.endpoint + base));
    vi.useRealTimers();

    const [ours] = server.received;
    expect(ours?.url).toBe(sdk.path);
    expect(ours?.body).toBe(Buffer.from(sdk.body as Uint8Array).toString("utf8"));
    for (const name of ["content-type", "x-amz-target", "x-amz-content-sha256", "x-amz-date", "x-amz-security-token", "host", "authorization"]) {
      expect([name, ours?.headers[name]]).toEqual([name, sdk.headers[name]]);
    }
    expect(ours?.headers.authorization).toContain("/20260314/us-east-1/dynamodb/aws4_request");
  });

  it("resolves the endpoint as the SDK does: AWS_ENDPOINT_URL_DYNAMODB, then AWS_ENDPOINT_URL, then the region's", () => {
    const both = { AWS_REGION: "eu-west-1", AWS_ENDPOINT_URL_DYNAMODB: "http://127.0.0.1:8000", AWS_ENDPOINT_URL: "http://127.0.0.1:4566" };
    expect(dynamodbEndpoint(both).href).toBe("http://127.0.0.1:8000/");
    expect(dynamodbEndpoint({ ...both, AWS_ENDPOINT_URL_DYNAMODB: "" }).href).toBe("http://127.0.0.1:4566/");
    expect(dynamodbEndpoint({ AWS_REGION: "eu-west-1" }).href).toBe("https://dynamodb.eu-west-1.amazonaws.com/");
    expect(dynamodbEndpoint({ AWS_DEFAULT_REGION: "cn-north-1" }).href).toBe("https://dynamodb.cn-north-1.amazonaws.com.cn/");
    expect(dynamodbEndpoint({ ...both, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "true" }).href).toBe("https://dynamodb.eu-west-1.amazonaws.com/");
  });

  it("retries throttling (by name, whatever the status) with backoff, and gives up after 3 attempts with DynamoDB's error", async () => {
    const server = await scriptedServer((n, _req, res) =>
      n === 1 ? awsError(res, 400, "ProvisionedThroughputExceededException", "slow down") : n === 2 ? answer(res, 429, {}) : n === 3 ? answer(res, 200, {}) : awsError(res, 400, "ThrottlingException", "Rate exceeded"),
    );
    const c = client(server.endpoint);
    await c.putItem(put);
    expect(server.received).toHaveLength(3);
    const err = await c.putItem(put).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ name: "ThrottlingException", message: "Rate exceeded", $metadata: { httpStatusCode: 400, attempts: 3 } });
    expect(server.received).toHaveLength(6);
    // Each attempt is the same call, signed afresh.
    expect(new Set(server.received.map((r) => r.body)).size).toBe(1);
  });

  it("does not retry a client error: ValidationException is thrown at once, its name from x-amzn-errortype or __type", async () => {
    const server = await scriptedServer((n, _req, res) => {
      if (n === 1) return awsError(res, 400, "ValidationException", "One or more parameter values were invalid");
      res.writeHead(400, { "x-amzn-errortype": "ConditionalCheckFailedException:http://internal.amazon.com/coral/com.amazonaws.dynamodb.v20120810/", "content-type": "application/x-amz-json-1.0" });
      res.end(JSON.stringify({ message: "The conditional request failed" }));
    });
    const c = client(server.endpoint);
    await expect(c.deleteItem(del)).rejects.toMatchObject({ name: "ValidationException", message: "One or more parameter values were invalid", $metadata: { httpStatusCode: 400 } });
    await expect(c.deleteItem(del)).rejects.toMatchObject({ name: "ConditionalCheckFailedException", message: "The conditional request failed" });
    expect(server.received).toHaveLength(2);
  });

  it("sends again a call that got no answer in time (an item write of a fixed key may be repeated)", async () => {
    const late: ServerResponse[] = [];
    const server = await scriptedServer((n, _req, res) => (n === 1 ? late.push(res) : answer(res, 200, {})));
    try {
      await client(server.endpoint, { requestTimeoutMs: 50 }).putItem(put);
      expect(server.received).toHaveLength(2);
    } finally {
      for (const res of late) res.destroy();
    }
  });
});

describe("$connect and $disconnect on the direct client", () => {
  const db = suiteDynalite();
  let logLines: () => Array<Record<string, unknown>>;
  let tableCount = 0;
  let table: string;

  beforeEach(async () => {
    table = `items-${++tableCount}`;
    await db.current.createConnectionsTable(table);
    logLines = captureLogLines();
    vi.stubEnv("AWS_REGION", REGION);
    vi.stubEnv("AWS_ACCESS_KEY_ID", CREDENTIALS.accessKeyId);
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", CREDENTIALS.secretAccessKey);
    vi.stubEnv("AWS_SESSION_TOKEN", CREDENTIALS.sessionToken);
    vi.stubEnv("AWS_ENDPOINT_URL_DYNAMODB", db.current.endpoint);
    vi.stubEnv("TABLE_CONNECTIONS", table);
  });

  it("throws a missing table's ResourceNotFoundException as the SDK did, and logs its name and message", async () => {
    vi.stubEnv("TABLE_CONNECTIONS", "no-such-table");
    const sdkError = await db.current.client.send(new PutItemCommand({ TableName: "no-such-table", Item: { connectionId: { S: "x" } } })).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(sdkError?.name).toBe("ResourceNotFoundException");

    await expect(connect(wsEvent("$connect", "lost"))).rejects.toMatchObject({ name: sdkError?.name, message: sdkError?.message, $metadata: { httpStatusCode: 400 } });
    await expect(disconnect(wsEvent("$disconnect", "lost"))).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    expect(logLines()).toEqual([
      expect.objectContaining({ level: "error", route: "$connect", connectionId: "lost", errorName: "ResourceNotFoundException", errorMessage: sdkError?.message }),
      expect.objectContaining({ level: "error", route: "$disconnect", connectionId: "lost", errorName: "ResourceNotFoundException", errorMessage: sdkError?.message }),
    ]);
  });

  it("logs deleted: 0 for a connection no longer stored, deleted: 1 for one that was", async () => {
    expect((await disconnect(wsEvent("$disconnect", "never-stored"))).statusCode).toBe(200);
    expect((await connect(wsEvent("$connect", "stored"))).statusCode).toBe(200);
    expect((await disconnect(wsEvent("$disconnect", "stored"))).statusCode).toBe(200);
    expect(logLines().map((l) => [l.route, l.stored ?? l.deleted])).toEqual([
      ["$disconnect", 0],
      ["$connect", 1],
      ["$disconnect", 1],
    ]);
    expect(await db.current.connectionIds(table)).toEqual([]);
  });

  it("round-trips every attribute type through DynamoDB as the SDK reads them", async () => {
    const item = {
      connectionId: { S: "typed" },
      n: { N: "-12500" },
      b: { B: new Uint8Array([0, 255, 10]) },
      ss: { SS: ["a", "b"] },
      ns: { NS: ["1", "2"] },
      bs: { BS: [new Uint8Array([1]), new Uint8Array([2, 3])] },
      m: { M: { inner: { B: new Uint8Array([9]) }, l: { L: [{ S: "x" }, { BOOL: true }, { NULL: true }] } } },
    };
    const c = client(db.current.endpoint);
    await c.putItem({ TableName: table, Item: item });
    const stored = (await db.current.client.send(new GetItemCommand({ TableName: table, Key: { connectionId: { S: "typed" } } }))).Item;
    expect(stored).toEqual(item);
    const old = await c.deleteItem({ TableName: table, Key: { connectionId: { S: "typed" } }, ReturnValues: "ALL_OLD" });
    expect(old.Attributes).toEqual(stored);
    expect(await c.deleteItem({ TableName: table, Key: { connectionId: { S: "typed" } }, ReturnValues: "ALL_OLD" })).toEqual({});
  });

  it("reaches DynamoDB through AWS_ENDPOINT_URL when no AWS_ENDPOINT_URL_DYNAMODB is set, and prefers the latter", async () => {
    vi.stubEnv("AWS_ENDPOINT_URL_DYNAMODB", "");
    vi.stubEnv("AWS_ENDPOINT_URL", db.current.endpoint);
    expect((await connect(wsEvent("$connect", "via-general"))).statusCode).toBe(200);
    // Nothing listens on port 1: reaching it would fail the call.
    vi.stubEnv("AWS_ENDPOINT_URL", "http://127.0.0.1:1");
    vi.stubEnv("AWS_ENDPOINT_URL_DYNAMODB", db.current.endpoint);
    expect((await connect(wsEvent("$connect", "via-specific"))).statusCode).toBe(200);
    expect(await db.current.connectionIds(table)).toEqual(["via-general", "via-specific"]);
  });

  it("stores the connection after a 500 the first time, sending the same signed call again", async () => {
    const server = await scriptedServer((n, _req, res) => (n === 1 ? awsError(res, 500, "InternalServerError", "Internal server error") : answer(res, 200, {})));
    vi.stubEnv("AWS_ENDPOINT_URL_DYNAMODB", server.endpoint);
    expect((await connect(wsEvent("$connect", "flaky"))).statusCode).toBe(200);
    expect(server.received.map((r) => r.headers["x-amz-target"])).toEqual(["DynamoDB_20120810.PutItem", "DynamoDB_20120810.PutItem"]);
    expect(server.received[0]?.body).toBe(server.received[1]?.body);
    expect(JSON.parse(server.received[0]?.body ?? "{}")).toMatchObject({ TableName: table, Item: { connectionId: { S: "flaky" } } });
    expect(logLines()).toEqual([expect.objectContaining({ level: "info", route: "$connect", stored: 1 })]);
  });
});
