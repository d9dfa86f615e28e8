import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { handler as broadcastSegment } from "../../handlers/broadcast.js";
import { handler as connect } from "../../handlers/connect.js";
import { handler as sendmessage } from "../../handlers/sendmessage.js";
import { handlerEnv, startConnectionsServer, startDynalite, wsEvent, type ConnectionsServer, type Dynamo } from "./support.js";

let dynamo: Dynamo;
let tableCount = 0;
let table: string;
const servers: ConnectionsServer[] = [];

async function connectionsServer(opts: Parameters<typeof startConnectionsServer>[0] = {}): Promise<ConnectionsServer> {
  const server = await startConnectionsServer(opts);
  servers.push(server);
  for (const [k, v] of Object.entries(handlerEnv(dynamo.endpoint, server.endpoint, table))) vi.stubEnv(k, v);
  return server;
}

const message = (room: string | undefined, text: string) => ({ body: JSON.stringify({ action: "sendmessage", message: text, ...(room ? { room } : {}) }) });
const join = (room: string) => ({ body: JSON.stringify({ action: "join", room }) });

beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.close();
});
beforeEach(async () => {
  table = `rooms-${++tableCount}`;
  // The table as specs/chat.yaml defines it: connections with the byRoom index.
  await dynamo.client.send(
    new CreateTableCommand({
      TableName: table,
      AttributeDefinitions: [
        { AttributeName: "connectionId", AttributeType: "S" },
        { AttributeName: "room", AttributeType: "S" },
      ],
      KeySchema: [{ AttributeName: "connectionId", KeyType: "HASH" }],
      GlobalSecondaryIndexes: [
        {
          IndexName: "byRoom",
          KeySchema: [
            { AttributeName: "room", KeyType: "HASH" },
            { AttributeName: "connectionId", KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "KEYS_ONLY" },
        },
      ],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
  vi.spyOn(console, "log").mockImplementation(() => undefined);
  vi.spyOn(console, "error").mockImplementation(() => undefined);
});
afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe("rooms", () => {
  it("a room's message reaches only its members; without a room it reaches everyone", async () => {
    const server = await connectionsServer();
    server.connect(["a", "b", "c", "d"]);
    for (const id of ["a", "b", "c", "d"]) await connect(wsEvent("$connect", id));
    expect((await sendmessage(wsEvent("join", "a", join("red")))).statusCode).toBe(200);
    await sendmessage(wsEvent("join", "b", join("red")));
    await sendmessage(wsEvent("join", "c", join("blue")));
    // b moves to blue: one room at a time.
    await sendmessage(wsEvent("join", "b", join("blue")));
    expect(server.deliveredTo("a")).toEqual([{ type: "joined", room: "red" }]);

    const toBlue = await sendmessage(wsEvent("sendmessage", "c", message("blue", "hi blue")));
    expect(JSON.parse(toBlue.body ?? "{}")).toMatchObject({ type: "sent", room: "blue", delivered: 2, recipients: 2 });
    const got = (id: string) => server.deliveredTo(id).filter((m) => (m as { type: string }).type === "message").map((m) => (m as { message: string }).message);
    expect(got("b")).toEqual(["hi blue"]);
    expect(got("c")).toEqual(["hi blue"]);
    expect(got("a")).toEqual([]);
    expect(got("d")).toEqual([]);
    expect(server.deliveredTo("b")).toContainEqual(expect.objectContaining({ type: "message", room: "blue", from: "c" }));

    await sendmessage(wsEvent("sendmessage", "d", message(undefined, "hi all")));
    for (const id of ["a", "b", "c", "d"]) expect(got(id)).toContain("hi all");
  });

  it("a room that cannot be one is refused with a reason, and nothing is posted to others", async () => {
    const server = await connectionsServer();
    server.connect(["a", "b"]);
    await connect(wsEvent("$connect", "a"));
    await connect(wsEvent("$connect", "b"));
    const empty = await sendmessage(wsEvent("join", "a", join("")));
    expect(empty.statusCode).toBe(400);
    expect(server.deliveredTo("a")).toEqual([expect.objectContaining({ type: "error", code: "InvalidRoom", message: expect.stringContaining('"room" must not be empty') })]);
    const notText = await sendmessage(wsEvent("sendmessage", "a", { body: JSON.stringify({ action: "sendmessage", message: "x", room: 7 }) }));
    expect(notText.statusCode).toBe(400);
    expect(server.deliveredTo("b")).toEqual([]);
  });
});

/** Lambda's Invoke on the wire, enough for the handler's SDK client: Event invocations run the broadcast handler after the 202. */
async function startLambda(): Promise<{ endpoint: string; invocations: Array<{ type: string; fn: string }>; settled: () => Promise<void>; close: () => Promise<void> }> {
  const invocations: Array<{ type: string; fn: string }> = [];
  const running: Promise<unknown>[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const fn = decodeURIComponent(/\/functions\/([^/]+)\/invocations/.exec(req.url ?? "")?.[1] ?? "");
      const type = String(req.headers["x-amz-invocation-type"] ?? "RequestResponse");
      invocations.push({ type, fn });
      res.writeHead(type === "Event" ? 202 : 200, { "content-type": "application/json" }).end();
      running.push(broadcastSegment(JSON.parse(Buffer.concat(chunks).toString("utf8"))));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    invocations,
    settled: async () => {
      for (let seen = -1; seen !== running.length; ) {
        seen = running.length;
        await Promise.all(running);
      }
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe("broadcasts past one Lambda", () => {
  it("splits 5,000 connections into parallel-Scan segments, invoked asynchronously, and posts each message exactly once", async () => {
    const server = await connectionsServer({ skipSignatureCheck: true });
    const lambda = await startLambda();
    try {
      vi.stubEnv("AWS_ENDPOINT_URL_LAMBDA", lambda.endpoint);
      vi.stubEnv("FUNCTION_BROADCAST", "my-chat-broadcast");
      vi.stubEnv("CHAT_PARALLEL_THRESHOLD", "1000");
      vi.stubEnv("CHAT_SEGMENT_SIZE", "1000");
      const ids = Array.from({ length: 5000 }, (_, i) => `c${i}=`);
      server.connect(ids);
      await dynamo.putConnections(table, ids);

      const result = await sendmessage(wsEvent("sendmessage", "c0=", message(undefined, "to everyone")));
      const receipt = JSON.parse(result.body ?? "{}") as { parallel?: boolean; segments?: number; notStarted?: number };
      expect(receipt).toMatchObject({ type: "sent", parallel: true, notStarted: 0 });
      expect(receipt.segments).toBeGreaterThanOrEqual(2);
      expect(lambda.invocations).toHaveLength(receipt.segments ?? 0);
      expect(new Set(lambda.invocations.map((i) => `${i.type} ${i.fn}`))).toEqual(new Set(["Event my-chat-broadcast"]));
      await lambda.settled();

      const counts = new Map<string, number>();
      for (const post of server.delivered) {
        const body = JSON.parse(post.body) as { type: string; message?: string };
        if (body.type === "message" && body.message === "to everyone") counts.set(post.connectionId, (counts.get(post.connectionId) ?? 0) + 1);
      }
      expect(counts.size).toBe(5000);
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
    } finally {
      await lambda.close();
    }
  }, 60_000);

  it("below the threshold the sender posts itself, reading the table once", async () => {
    const server = await connectionsServer();
    vi.stubEnv("FUNCTION_BROADCAST", "my-chat-broadcast");
    vi.stubEnv("AWS_ENDPOINT_URL_LAMBDA", "http://127.0.0.1:9"); // an Invoke would fail
    server.connect(["x", "y", "z"]);
    await dynamo.putConnections(table, ["x", "y", "z"]);
    const result = await sendmessage(wsEvent("sendmessage", "x", message(undefined, "few")));
    expect(JSON.parse(result.body ?? "{}")).toMatchObject({ type: "sent", delivered: 3, recipients: 3 });
    expect(server.delivered.filter((p) => p.body.includes('"few"'))).toHaveLength(3);
  });

  it("a segment retries posts answered 429 LimitExceededException until they go through", async () => {
    // Every connection is throttled twice before its post is accepted.
    // The local @connections model answers every connection's first two posts 429 LimitExceededException.
    const server = await connectionsServer({ failWith: (_id, attempt) => (attempt <= 2 ? 429 : undefined) });
    const ids = Array.from({ length: 20 }, (_, i) => `t${i}`);
    server.connect(ids);
    await dynamo.putConnections(table, ids);
    const report = await broadcastSegment({
      kind: "chatctl.broadcast-segment",
      table,
      domainName: "abc123.execute-api.us-east-1.amazonaws.com",
      stage: "prod",
      data: JSON.stringify({ type: "message", from: "t0", message: "slowly", sentAt: 0 }),
      segment: 0,
      totalSegments: 1,
    });
    expect(report).toMatchObject({ delivered: 20, failed: 0 });
    expect(server.requests).toHaveLength(60);
    expect(new Set(server.delivered.map((p) => p.connectionId))).toEqual(new Set(ids));
  }, 30_000);
});
