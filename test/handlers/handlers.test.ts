import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { handler as connect } from "../../handlers/connect.js";
import { handler as disconnect } from "../../handlers/disconnect.js";
import { handler as sendmessage } from "../../handlers/sendmessage.js";
import { handler as defaultRoute } from "../../handlers/default.js";
import { handlerEnv, startConnectionsServer, startDynalite, wsEvent, type ConnectionsServer, type Dynamo } from "./support.js";

let dynamo: Dynamo;
let tableCount = 0;
let table: string;
const servers: ConnectionsServer[] = [];
let logs: string[];

async function connectionsServer(opts: Parameters<typeof startConnectionsServer>[0] = {}): Promise<ConnectionsServer> {
  const server = await startConnectionsServer(opts);
  servers.push(server);
  for (const [k, v] of Object.entries(handlerEnv(dynamo.endpoint, server.endpoint, table))) vi.stubEnv(k, v);
  return server;
}

function logLines(): Array<Record<string, unknown>> {
  return logs.map((l) => JSON.parse(l) as Record<string, unknown>);
}

beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.close();
});
beforeEach(async () => {
  table = `chat-connections-${++tableCount}`;
  await dynamo.createConnectionsTable(table);
  logs = [];
  const keep = (...args: unknown[]): void => void logs.push(args.map(String).join(" "));
  vi.spyOn(console, "log").mockImplementation(keep);
  vi.spyOn(console, "error").mockImplementation(keep);
});
afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe("connect", () => {
  it("stores the connection with its source IP, user agent and a two-hour TTL", async () => {
    await connectionsServer();
    const before = Date.now();
    const result = await connect(wsEvent("$connect", "conn-A="));
    expect(result.statusCode).toBe(200);

    const item = (await dynamo.client.send(new GetItemCommand({ TableName: table, Key: { connectionId: { S: "conn-A=" } } }))).Item;
    expect(item?.sourceIp?.S).toBe("203.0.113.7");
    expect(item?.userAgent?.S).toBe("test-agent/1.0");
    const connectedAt = Number(item?.connectedAt?.N);
    expect(connectedAt).toBeGreaterThanOrEqual(before);
    expect(connectedAt).toBeLessThanOrEqual(Date.now());
    expect(Number(item?.expiresAt?.N)).toBe(Math.floor(connectedAt / 1000) + 2 * 60 * 60);

    expect(logLines()).toEqual([expect.objectContaining({ level: "info", route: "$connect", connectionId: "conn-A=", stored: 1, durationMs: expect.any(Number) })]);
  });

  it("reads TABLE_NAME when the function has no TABLE_CONNECTIONS", async () => {
    await connectionsServer();
    vi.stubEnv("TABLE_CONNECTIONS", "");
    vi.stubEnv("TABLE_NAME", table);
    expect((await connect(wsEvent("$connect", "conn-B"))).statusCode).toBe(200);
    expect(await dynamo.connectionIds(table)).toEqual(["conn-B"]);
  });

  it("rejects a missing token with 401 and a wrong one with 403 when the spec requires one, storing nothing", async () => {
    await connectionsServer();
    vi.stubEnv("CHAT_REQUIRE_TOKEN", "s3cret");
    expect((await connect(wsEvent("$connect", "no-token"))).statusCode).toBe(401);
    expect((await connect(wsEvent("$connect", "bad-token", { queryStringParameters: { token: "guess" } }))).statusCode).toBe(403);
    expect(await dynamo.connectionIds(table)).toEqual([]);
    expect((await connect(wsEvent("$connect", "good-token", { queryStringParameters: { token: "s3cret" } }))).statusCode).toBe(200);
    expect(await dynamo.connectionIds(table)).toEqual(["good-token"]);
    expect(logLines().map((l) => l.rejected)).toEqual([401, 403, undefined]);
  });
});

describe("disconnect", () => {
  it("removes the connection, and a second disconnect of the same id is harmless", async () => {
    await connectionsServer();
    await dynamo.putConnections(table, ["stay", "leave"]);
    expect((await disconnect(wsEvent("$disconnect", "leave"))).statusCode).toBe(200);
    expect(await dynamo.connectionIds(table)).toEqual(["stay"]);
    expect((await disconnect(wsEvent("$disconnect", "leave"))).statusCode).toBe(200);
    expect(logLines().map((l) => l.deleted)).toEqual([1, 0]);
  });
});

describe("sendmessage", () => {
  const ids = Array.from({ length: 1000 }, (_, i) => `c${String(i).padStart(4, "0")}=`);
  const gone = new Set(ids.filter((_, i) => i % 20 === 7)); // 50 closed without a $disconnect
  const sender = "c0000=";

  it("delivers to every live connection exactly once across scan pages, deletes gone ones, stays within the concurrency bound", async () => {
    const server = await connectionsServer({ delayMs: 2 });
    vi.stubEnv("CHAT_SCAN_PAGE_SIZE", "70");
    vi.stubEnv("CHAT_FANOUT_CONCURRENCY", "16");
    await dynamo.putConnections(table, ids);
    server.connect(ids.filter((id) => !gone.has(id)));

    const result = await sendmessage(wsEvent("sendmessage", sender, { body: JSON.stringify({ action: "sendmessage", message: "hello, everyone" }) }));

    expect(server.badSignatures).toEqual([]);
    const live = ids.filter((id) => !gone.has(id));
    const broadcast = server.delivered.filter((p) => (JSON.parse(p.body) as { type: string }).type === "message");
    expect(broadcast.map((p) => p.connectionId).sort()).toEqual(live);
    const first = JSON.parse(broadcast[0]?.body ?? "{}") as Record<string, unknown>;
    expect(first).toEqual({ type: "message", from: sender, message: "hello, everyone", sentAt: expect.any(Number) });
    expect(new Set(broadcast.map((p) => p.body)).size).toBe(1);

    expect(await dynamo.connectionIds(table)).toEqual(live);
    expect(server.maxInFlight).toBeLessThanOrEqual(16);
    expect(server.maxInFlight).toBeGreaterThan(1);

    const receipt = { type: "sent", delivered: 950, recipients: 1000, gone: 50, failed: 0 };
    expect(server.deliveredTo(sender).at(-1)).toEqual(receipt);
    expect(JSON.parse(result.body ?? "{}")).toEqual(receipt);
    const [line] = logLines();
    expect(line).toMatchObject({ level: "info", route: "sendmessage", connectionId: sender, delivered: 950, gone: 50, failed: 0, pages: 15 });
  });

  it("retries throttling and 5xx as the SDK does, and counts a forbidden connection as failed without deleting it", async () => {
    const server = await connectionsServer({
      failWith: (id, attempt) => (id === "flaky" && attempt === 1 ? 503 : id === "forbidden" ? 403 : undefined),
    });
    await dynamo.putConnections(table, ["me", "flaky", "forbidden"]);
    server.connect(["me", "flaky", "forbidden"]);
    await sendmessage(wsEvent("sendmessage", "me", { body: JSON.stringify({ action: "sendmessage", message: "hi" }) }));
    expect(server.deliveredTo("flaky")).toHaveLength(1);
    expect(server.deliveredTo("me").at(-1)).toEqual({ type: "sent", delivered: 2, recipients: 3, gone: 0, failed: 1 });
    expect(await dynamo.connectionIds(table)).toEqual(["flaky", "forbidden", "me"]);
    expect(logLines()[0]).toMatchObject({ level: "warn", failed: 1, errors: { ForbiddenException: 1 } });
  });

  it.each([
    ["not JSON", "hello", "InvalidJson"],
    ["a message that is not a string", JSON.stringify({ action: "sendmessage", message: 42 }), "InvalidMessage"],
    ["no message at all", JSON.stringify({ action: "sendmessage" }), "InvalidMessage"],
    ["a message over 128 KB once sent", JSON.stringify({ action: "sendmessage", message: "é".repeat(64 * 1024) }), "MessageTooLarge"],
  ])("answers %s with an error to the sender and broadcasts nothing", async (_what, body, code) => {
    const server = await connectionsServer();
    await dynamo.putConnections(table, ["me", "other"]);
    server.connect(["me", "other"]);
    const result = await sendmessage(wsEvent("sendmessage", "me", { body }));
    expect(result.statusCode).toBe(400);
    expect(server.requests.map((r) => r.connectionId)).toEqual(["me"]);
    expect(server.deliveredTo("me")).toEqual([{ type: "error", code, message: expect.any(String) }]);
  });

  it("accepts a message just under the limit", async () => {
    const server = await connectionsServer();
    await dynamo.putConnections(table, ["me"]);
    server.connect(["me"]);
    const envelope = JSON.stringify({ type: "message", from: "me", message: "", sentAt: Date.now() }).length;
    const message = "x".repeat(128 * 1024 - envelope);
    await sendmessage(wsEvent("sendmessage", "me", { body: JSON.stringify({ action: "sendmessage", message }) }));
    expect(server.deliveredTo("me").map((m) => (m as { type: string }).type)).toEqual(["message", "sent"]);
  });
});

describe("$default", () => {
  it("answers the sender with the actions that exist", async () => {
    const server = await connectionsServer();
    server.connect(["me"]);
    const result = await defaultRoute(wsEvent("$default", "me", { body: JSON.stringify({ action: "dance" }) }));
    expect(result.statusCode).toBe(200);
    expect(server.deliveredTo("me")).toEqual([{ type: "error", message: 'unknown action "dance"', actions: ["sendmessage"] }]);
    expect(logLines()[0]).toMatchObject({ level: "info", route: "$default", connectionId: "me", action: "dance", replied: 1 });
  });

  it("explains the expected shape when the frame is not JSON", async () => {
    const server = await connectionsServer();
    server.connect(["me"]);
    await defaultRoute(wsEvent("$default", "me", { body: "hi" }));
    expect(server.deliveredTo("me")).toEqual([{ type: "error", message: expect.stringContaining('{"action":"sendmessage"'), actions: ["sendmessage"] }]);
  });
});
