import { mkdtempSync, rmSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  PayloadTooLargeException,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { createGateway, type Gateway, type Limits } from "../../src/local/gateway/gateway.js";
import type { ApiView, GatewayDirectory } from "../../src/local/gateway/directory.js";
import { createSniffingServer, type SniffingServer } from "../../src/local/gateway/server.js";
import { createDispatcher } from "../../src/local/front-door.js";
import { connectionsWire, isConnectionsUrl } from "../../src/local/wire/connections.js";
import { LambdaRunner, type LogLine } from "../../src/local/runner/runner.js";
import type { LocalFunction } from "../../src/local/service.js";
import { loadOrCreateLocalCertificate, type LocalCertificate } from "../../src/local/tls.js";
import { localFunction } from "../support/functions.js";

// One handler for every route: it reports each event to the test (POST /record), then
// behaves as the event asks. Real Lambda-style code, run by the real runner.
const RECORDING_HANDLER = `
const safe = (s) => { try { return JSON.parse(s); } catch { return undefined; } };
let invocations = 0;
export const handler = async (event) => {
  invocations++;
  await fetch(process.env.RECORDER, { method: "POST", body: JSON.stringify(event) });
  const rc = event.requestContext;
  const q = event.queryStringParameters ?? {};
  if (rc.eventType === "CONNECT" && q.deny) return { statusCode: Number(q.deny), body: "go away" };
  if (rc.eventType === "CONNECT" && q.crash) throw new Error("connect crashed");
  const body = rc.eventType === "MESSAGE" ? safe(event.body) : undefined;
  if (body?.throw) throw new Error("handler failed on purpose");
  if (body?.hang) {
    globalThis.hung = true;
    await new Promise(() => setInterval(() => {}, 1000));
  }
  if (body?.log) console.log("said", body.log);
  if (body?.count) await fetch(process.env.RECORDER, { method: "POST", body: JSON.stringify({ invocations, hung: globalThis.hung === true }) });
  return { statusCode: 200, body: "not echoed" };
};
`;

// The code AWS's own samples have: the endpoint comes from the event, over HTTPS.
const AWS_SAMPLE_BROADCAST = `
import { ApiGatewayManagementApiClient, PostToConnectionCommand } from "@aws-sdk/client-apigatewaymanagementapi";
export const handler = async (event) => {
  const { domainName, stage } = event.requestContext;
  const client = new ApiGatewayManagementApiClient({ endpoint: "https://" + domainName + "/" + stage });
  const ids = await (await fetch(process.env.IDS_URL)).json();
  const { data } = JSON.parse(event.body);
  await Promise.all(ids.map((id) => client.send(new PostToConnectionCommand({ ConnectionId: id, Data: data }))));
  return { statusCode: 200 };
};
`;

// Handlers that leave the endpoint to the environment: the SDK reads AWS_ENDPOINT_URL and
// posts to /@connections/{id} with no stage.
const ENV_ENDPOINT_REPLY = `
import { ApiGatewayManagementApiClient, PostToConnectionCommand } from "@aws-sdk/client-apigatewaymanagementapi";
const client = new ApiGatewayManagementApiClient({});
export const handler = async (event) => {
  await client.send(new PostToConnectionCommand({ ConnectionId: event.requestContext.connectionId, Data: "pong: " + event.body }));
  return { statusCode: 200 };
};
`;

interface Event {
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
  readonly headers?: Record<string, string>;
  readonly queryStringParameters?: Record<string, string>;
  readonly requestContext?: Record<string, unknown> & { connectionId: string; routeKey: string; eventType: string };
  readonly invocations?: number;
  readonly hung?: boolean;
}


async function until<T>(probe: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

interface Client {
  readonly ws: WebSocket;
  readonly messages: string[];
  readonly closed: Promise<{ code: number; reason: string }>;
  next(): Promise<string>;
}

function client(url: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const messages: string[] = [];
    let seen = 0;
    const closed = new Promise<{ code: number; reason: string }>((r) => ws.on("close", (code, reason) => r({ code, reason: reason.toString() })));
    ws.on("message", (data) => messages.push(Buffer.isBuffer(data) ? data.toString("utf8") : String(data)));
    ws.once("open", () =>
      resolve({
        ws,
        messages,
        closed,
        next: () => until(() => (messages.length > seen ? messages[seen++] : undefined), "a message"),
      }),
    );
    ws.once("error", reject);
  });
}

/** The HTTP status a refused WebSocket handshake answered with. */
function refusal(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on("unexpected-response", (req, res) => {
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
    ws.on("open", () => reject(new Error("connection was accepted")));
    ws.on("error", () => undefined);
  });
}

interface Cloud {
  readonly port: number;
  readonly url: string; // ws://127.0.0.1:port/prod
  readonly events: Event[];
  readonly logs: Array<{ fn: string; lines: readonly LogLine[] }>;
  /** The gateway's own log lines, as chatctl dev prints them. */
  readonly said: string[];
  readonly api: { view: ApiView };
  readonly gateway: Gateway;
  readonly functions: Map<string, LocalFunction>;
  management(): ApiGatewayManagementApiClient;
  eventsOf(eventType: string, connectionId?: string): Event[];
  connectionIdOf(name: string): Promise<string>;
  stop(): Promise<void>;
}

let certificate: LocalCertificate | undefined;
async function localCertificate(): Promise<LocalCertificate> {
  if (!certificate) {
    const dir = mkdtempSync(join(tmpdir(), "chatctl-gw-ca-"));
    certificate = await loadOrCreateLocalCertificate(dir);
    rmSync(dir, { recursive: true, force: true });
  }
  return certificate;
}

const running: Cloud[] = [];

async function startCloud(setup: {
  routes: Record<string, string>;
  expression?: string;
  limits?: Partial<Limits>;
  functions?: Record<string, { source: string; timeoutSeconds?: number }>;
}): Promise<Cloud> {
  const cert = await localCertificate();
  const events: Event[] = [];
  const logs: Array<{ fn: string; lines: readonly LogLine[] }> = [];
  const said: string[] = [];
  const functions = new Map<string, LocalFunction>();
  let port = 0;
  const runner = new LambdaRunner({
    endpointUrl: () => `http://127.0.0.1:${port}`,
    trustedCertificates: cert.ca,
    logSink: (fn, lines) => void logs.push({ fn, lines }),
  });
  const api: { view: ApiView } = {
    view: { apiId: "a1b2c3d4e5", routeSelectionExpression: setup.expression ?? "$request.body.action", stage: "prod", routes: new Map(Object.entries(setup.routes)) },
  };
  const directory: GatewayDirectory = {
    resolve: (t) => Promise.resolve(t.stage === api.view.stage && (t.apiId === undefined || t.apiId === api.view.apiId) ? api.view : undefined),
  };
  const gateway = createGateway({
    directory,
    invoke: async (name, event) => {
      const fn = functions.get(name);
      if (!fn) throw new Error(`no function ${name}`);
      return runner.invoke(fn, Buffer.from(JSON.stringify(event)));
    },
    limits: setup.limits,
    logger: (line) => said.push(line),
  });
  const management = connectionsWire(gateway.connectionsModel);
  const dispatch = createDispatcher([management], () => management);
  const request = (req: IncomingMessage, res: ServerResponse): void => {
    if (isConnectionsUrl(req.url)) return void dispatch(req, res);
    if (req.url === "/record") {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        events.push(JSON.parse(Buffer.concat(chunks).toString("utf8")) as Event);
        res.end();
      });
      return;
    }
    if (req.url === "/ids") {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(gateway.connections().map((c) => c.connectionId)));
      return;
    }
    res.writeHead(404).end();
  };
  const server: SniffingServer = createSniffingServer({ request, upgrade: (req, socket, head) => gateway.handleUpgrade(req, socket, head), tls: cert });
  port = await server.listen(0);
  const env = { RECORDER: `http://127.0.0.1:${port}/record`, IDS_URL: `http://127.0.0.1:${port}/ids` };
  const defined = setup.functions ?? { app: { source: RECORDING_HANDLER } };
  for (const [name, f] of Object.entries(defined)) functions.set(name, localFunction(name, f.source, { region: "us-east-1", environment: env, ...(f.timeoutSeconds !== undefined ? { timeoutSeconds: f.timeoutSeconds } : {}) }));

  const cloud: Cloud = {
    port,
    url: `ws://127.0.0.1:${port}/prod`,
    events,
    logs,
    said,
    api,
    gateway,
    functions,
    management: () =>
      new ApiGatewayManagementApiClient({
        endpoint: `http://127.0.0.1:${port}/prod`,
        region: "us-east-1",
        credentials: { accessKeyId: "AKIDLOCAL", secretAccessKey: "local" },
      }),
    eventsOf: (eventType, connectionId) =>
      events.filter((e) => e.requestContext?.eventType === eventType && (connectionId === undefined || e.requestContext.connectionId === connectionId)),
    connectionIdOf: (name) =>
      until(() => events.find((e) => e.requestContext?.eventType === "CONNECT" && e.queryStringParameters?.name === name)?.requestContext?.connectionId, `$connect of ${name}`),
    stop: async () => {
      await gateway.close();
      await server.close();
      await runner.close();
    },
  };
  running.push(cloud);
  return cloud;
}

afterEach(async () => {
  for (const cloud of running.splice(0)) await cloud.stop();
});

const ALL_ROUTES = { $connect: "app", $disconnect: "app", $default: "app", sendmessage: "app" };

describe("WebSocket gateway", () => {
  it("delivers a message posted through @connections to each of several clients exactly once", async () => {
    const cloud = await startCloud({ routes: ALL_ROUTES });
    const names = ["ann", "bob", "cy"];
    const clients = await Promise.all(names.map((n) => client(`${cloud.url}?name=${n}`)));
    const ids = await Promise.all(names.map((n) => cloud.connectionIdOf(n)));
    const api = cloud.management();
    for (const id of ids) await api.send(new PostToConnectionCommand({ ConnectionId: id, Data: "hello all" }));
    for (const c of clients) expect(await c.next()).toBe("hello all");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(clients.map((c) => c.messages)).toEqual([["hello all"], ["hello all"], ["hello all"]]);
    for (const c of clients) c.ws.close();
  });

  it("gives $connect the handshake's headers, query string and API Gateway's requestContext", async () => {
    const cloud = await startCloud({ routes: ALL_ROUTES });
    const c = await client(`${cloud.url}?name=ann&room=a&room=b`);
    const id = await cloud.connectionIdOf("ann");
    const [connect] = cloud.eventsOf("CONNECT", id);
    expect(connect?.queryStringParameters).toEqual({ name: "ann", room: "b" });
    expect(connect).toMatchObject({
      multiValueQueryStringParameters: { room: ["a", "b"] },
      isBase64Encoded: false,
      headers: { Host: `127.0.0.1:${cloud.port}`, "Sec-WebSocket-Version": "13", "X-Forwarded-Proto": "http" },
      requestContext: {
        routeKey: "$connect",
        eventType: "CONNECT",
        messageDirection: "IN",
        stage: "prod",
        apiId: "a1b2c3d4e5",
        connectionId: id,
        domainName: `127.0.0.1:${cloud.port}`,
        identity: { sourceIp: "127.0.0.1" },
      },
    });
    const rc: Record<string, unknown> = connect?.requestContext ?? {};
    expect(rc.requestTime).toMatch(/^\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000$/);
    expect(typeof rc.connectedAt).toBe("number");
    expect(typeof rc.requestTimeEpoch).toBe("number");
    expect(typeof rc.requestId).toBe("string");
    c.ws.close();
  });

  it("refuses the connection with the status $connect answers, and with 500 when $connect fails", async () => {
    const cloud = await startCloud({ routes: ALL_ROUTES });
    expect(await refusal(`${cloud.url}?deny=401`)).toBe(401);
    expect(await refusal(`${cloud.url}?crash=1`)).toBe(500);
    expect(await refusal(`ws://127.0.0.1:${cloud.port}/nostage`)).toBe(403);
    expect(cloud.gateway.connections()).toEqual([]);
    // Each refusal says why in the dev log: status and function, or the path nothing serves.
    expect(cloud.said).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\$connect refused with 401 by app; connection \S+ not opened$/),
        expect.stringMatching(/^\$connect refused with 500 \(Internal server error\): app failed/),
        expect.stringMatching(/^no deployed API serves \/nostage .*: 403$/),
      ]),
    );
  });

  it("answers a client that offers permessage-deflate without any extension, as API Gateway does", async () => {
    // API Gateway's WebSocket APIs do not negotiate compression: a browser's offer is
    // left unanswered and every frame goes uncompressed (and no zlib context is kept per connection).
    const cloud = await startCloud({ routes: { $default: "app" } });
    const ws = new WebSocket(cloud.url, { perMessageDeflate: { clientNoContextTakeover: false } });
    const upgraded = new Promise<IncomingMessage>((resolve, reject) => {
      ws.once("upgrade", resolve);
      ws.once("error", reject);
    });
    const opened = new Promise((resolve) => ws.once("open", resolve));
    const response = await upgraded;
    expect(response.headers["sec-websocket-extensions"]).toBeUndefined();
    await opened;
    expect(ws.extensions).toBe("");
    ws.close();
  });

  it("accepts every connection when the API has no $connect route, at /{stage} and /{apiId}/{stage}", async () => {
    const cloud = await startCloud({ routes: { $default: "app" } });
    const a = await client(cloud.url);
    const b = await client(`ws://127.0.0.1:${cloud.port}/a1b2c3d4e5/prod`);
    expect(cloud.gateway.connections()).toHaveLength(2);
    a.ws.close();
    b.ws.close();
  });

  it("routes by a custom selection expression on a nested field; the rest goes to $default", async () => {
    const cloud = await startCloud({ routes: { $default: "app", shout: "app" }, expression: "$request.body.meta.action" });
    const c = await client(cloud.url);
    c.ws.send(JSON.stringify({ meta: { action: "shout" }, text: "HI" }));
    c.ws.send(JSON.stringify({ action: "shout" }));
    c.ws.send("not json at all");
    c.ws.send(JSON.stringify({ meta: { action: "whisper" } }));
    const messages = await until(() => (cloud.eventsOf("MESSAGE").length === 4 ? cloud.eventsOf("MESSAGE") : undefined), "4 messages");
    const byBody = Object.fromEntries(messages.map((m) => [m.body ?? "", m.requestContext?.routeKey]));
    expect(byBody).toEqual({
      [JSON.stringify({ meta: { action: "shout" }, text: "HI" })]: "shout",
      [JSON.stringify({ action: "shout" })]: "$default",
      "not json at all": "$default",
      [JSON.stringify({ meta: { action: "whisper" } })]: "$default",
    });
    const [first] = messages;
    expect(first?.requestContext).toMatchObject({ eventType: "MESSAGE", messageDirection: "IN", stage: "prod", apiId: "a1b2c3d4e5" });
    expect(typeof first?.requestContext?.messageId).toBe("string");
    expect(first?.isBase64Encoded).toBe(false);
    expect(c.messages).toEqual([]); // a Lambda-proxy route's return value is not sent back
    c.ws.close();
  });

  it("answers API Gateway's Forbidden error frame when no route matches and there is no $default", async () => {
    const cloud = await startCloud({ routes: { sendmessage: "app" } });
    const c = await client(cloud.url);
    c.ws.send(JSON.stringify({ action: "nothing-here" }));
    const frame = JSON.parse(await c.next()) as Record<string, unknown>;
    expect(frame).toEqual({ message: "Forbidden", connectionId: expect.any(String), requestId: expect.any(String) });
    expect(cloud.said).toContain(`message on ${String(frame.connectionId)}: no route matches it and the API has no $default: answered Forbidden`);
    expect(cloud.gateway.connections().map((x) => x.connectionId)).toEqual([frame.connectionId]);
    c.ws.close();
  });

  it("tells the sender 'Internal server error' when the handler throws", async () => {
    const cloud = await startCloud({ routes: ALL_ROUTES });
    const c = await client(`${cloud.url}?name=ann`);
    const id = await cloud.connectionIdOf("ann");
    c.ws.send(JSON.stringify({ action: "sendmessage", throw: true }));
    expect(JSON.parse(await c.next())).toEqual({ message: "Internal server error", connectionId: id, requestId: expect.any(String) });
    // One line: route, connection, function, and the error's first line only.
    expect(cloud.said.filter((l) => l.startsWith(`sendmessage on ${id}: app threw `))).toHaveLength(1);
    c.ws.close();
  });

  it("answers a timed-out handler with an error and serves the next message from a fresh worker", async () => {
    const cloud = await startCloud({ routes: { $default: "app" }, functions: { app: { source: RECORDING_HANDLER, timeoutSeconds: 1 } } });
    const c = await client(cloud.url);
    c.ws.send(JSON.stringify({ hang: true }));
    expect(JSON.parse(await c.next())).toMatchObject({ message: "Internal server error" });
    c.ws.send(JSON.stringify({ count: true }));
    // Had the timed-out worker been kept, this would run in it (the only idle one) and see its state.
    const counted = await until(() => cloud.events.find((e) => e.invocations !== undefined), "the next invocation");
    expect(counted).toEqual({ invocations: 1, hung: false });
    const lines = cloud.logs.flatMap((l) => l.lines.map((x) => x.message));
    expect(lines.some((m) => m.includes("Task timed out after 1.00 seconds"))).toBe(true);
    c.ws.close();
  });

  it("serves @connections POST, GET and DELETE, then 410 Gone, through the real SDK client", async () => {
    const cloud = await startCloud({ routes: ALL_ROUTES });
    const c = await client(`${cloud.url}?name=ann`);
    c.ws.on("error", () => undefined);
    const id = await cloud.connectionIdOf("ann");
    const api = cloud.management();

    const info = await api.send(new GetConnectionCommand({ ConnectionId: id }));
    expect(info.ConnectedAt).toBeInstanceOf(Date);
    expect(info.LastActiveAt).toBeInstanceOf(Date);
    expect(info.Identity?.SourceIp).toBe("127.0.0.1");
    expect(typeof info.Identity?.UserAgent).toBe("string");

    await api.send(new PostToConnectionCommand({ ConnectionId: id, Data: "text" }));
    await api.send(new PostToConnectionCommand({ ConnectionId: id, Data: new Uint8Array([0xff, 0x00, 0xfe]) }));
    expect(await c.next()).toBe("text");
    await until(() => (c.messages.length === 2 ? true : undefined), "the binary frame");

    await api.send(new DeleteConnectionCommand({ ConnectionId: id }));
    await c.closed;
    await until(() => cloud.eventsOf("DISCONNECT", id)[0], "$disconnect after DELETE");
    await expect(api.send(new PostToConnectionCommand({ ConnectionId: id, Data: "late" }))).rejects.toBeInstanceOf(GoneException);
    await expect(api.send(new GetConnectionCommand({ ConnectionId: id }))).rejects.toBeInstanceOf(GoneException);
    await expect(api.send(new DeleteConnectionCommand({ ConnectionId: id }))).rejects.toBeInstanceOf(GoneException);
    await expect(api.send(new PostToConnectionCommand({ ConnectionId: "neverWasHere=", Data: "x" }))).rejects.toBeInstanceOf(GoneException);

    // Without a stage in the path, as the SDK posts when only AWS_ENDPOINT_URL is set.
    const d = await client(`${cloud.url}?name=dee`);
    const did = await cloud.connectionIdOf("dee");
    const res = await fetch(`http://127.0.0.1:${cloud.port}/@connections/${encodeURIComponent(did)}`, { method: "POST", body: "no stage" });
    expect(res.status).toBe(200);
    expect(await d.next()).toBe("no stage");
    const gone = await fetch(`http://127.0.0.1:${cloud.port}/@connections/nobody`, { method: "POST", body: "x" });
    expect(gone.status).toBe(410);
    expect(gone.headers.get("x-amzn-errortype")).toBe("GoneException");
    d.ws.close();
  });

  it("enforces 128 KB per message and 32 KB per frame, in and out", async () => {
    const cloud = await startCloud({ routes: ALL_ROUTES });
    const api = cloud.management();

    // A 100 KB message in 32 KB frames is fine.
    const ok = await client(`${cloud.url}?name=ok`);
    const okId = await cloud.connectionIdOf("ok");
    const big = "a".repeat(100 * 1024);
    for (let at = 0; at < big.length; at += 32 * 1024) ok.ws.send(big.slice(at, at + 32 * 1024), { fin: at + 32 * 1024 >= big.length });
    const got = await until(() => cloud.eventsOf("MESSAGE", okId)[0], "the 100 KB message");
    expect(got.body?.length).toBe(big.length);
    // Outgoing: 100 KB arrives whole (split into frames on the way), 128 KB + 1 is refused.
    await api.send(new PostToConnectionCommand({ ConnectionId: okId, Data: big }));
    expect((await ok.next()).length).toBe(big.length);
    await expect(api.send(new PostToConnectionCommand({ ConnectionId: okId, Data: "b".repeat(128 * 1024 + 1) }))).rejects.toBeInstanceOf(
      PayloadTooLargeException,
    );

    // One 33 KB frame: closed with 1009.
    const frame = await client(`${cloud.url}?name=frame`);
    const frameId = await cloud.connectionIdOf("frame");
    frame.ws.send("c".repeat(33 * 1024));
    expect((await frame.closed).code).toBe(1009);
    const disconnect = await until(() => cloud.eventsOf("DISCONNECT", frameId)[0], "$disconnect after a big frame");
    expect(disconnect.requestContext?.disconnectStatusCode).toBe(1009);

    // 129 KB in small frames: the message is too big, closed with 1009 too.
    const message = await client(`${cloud.url}?name=message`);
    const tooBig = "d".repeat(129 * 1024);
    for (let at = 0; at < tooBig.length; at += 16 * 1024) message.ws.send(tooBig.slice(at, at + 16 * 1024), { fin: at + 16 * 1024 >= tooBig.length });
    expect((await message.closed).code).toBe(1009);
    expect(cloud.eventsOf("MESSAGE").filter((e) => (e.body?.length ?? 0) > 128 * 1024)).toEqual([]);
    expect(cloud.said).toContain(`${frameId}: closed 1009, a frame over 32 KB (API Gateway's frame limit)`);
    expect(cloud.said.filter((l) => l.endsWith("closed 1009, a message over 128 KB (API Gateway's message limit)"))).toHaveLength(1);
    ok.ws.close();
  });

  it("fires $disconnect exactly once when the client closes, on DELETE and on idle timeout", async () => {
    const cloud = await startCloud({ routes: ALL_ROUTES, limits: { idleTimeoutMs: 200 } });
    const api = cloud.management();
    const [closer, deleted, idle] = await Promise.all([client(`${cloud.url}?name=closer`), client(`${cloud.url}?name=deleted`), client(`${cloud.url}?name=idle`)]);
    const [closerId, deletedId, idleId] = await Promise.all(["closer", "deleted", "idle"].map((n) => cloud.connectionIdOf(n)));
    closer.ws.close(4000, "bye");
    await api.send(new DeleteConnectionCommand({ ConnectionId: deletedId }));
    expect((await idle.closed).code).toBe(1001);
    await deleted.closed;
    const events = await until(
      () => (cloud.eventsOf("DISCONNECT").length >= 3 ? cloud.eventsOf("DISCONNECT") : undefined),
      "three $disconnect events",
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(cloud.eventsOf("DISCONNECT")).toHaveLength(3);
    const byId = new Map(events.map((e) => [e.requestContext?.connectionId, e.requestContext]));
    expect(byId.get(closerId)).toMatchObject({ routeKey: "$disconnect", eventType: "DISCONNECT", disconnectStatusCode: 4000, disconnectReason: "bye" });
    expect(byId.get(idleId)).toMatchObject({ disconnectStatusCode: 1001, disconnectReason: "Going away" });
    expect(cloud.said).toContain(`${idleId}: closed 1001, idle for 0 s (API Gateway's idle timeout)`);
    expect(byId.get(deletedId)).toMatchObject({ eventType: "DISCONNECT" });
    expect(cloud.gateway.connections()).toEqual([]);
  });

  it("fires $disconnect for open connections when the gateway closes, and on the max connection duration", async () => {
    const cloud = await startCloud({ routes: ALL_ROUTES, limits: { maxConnectionMs: 300 } });
    const shortLived = await client(`${cloud.url}?name=short`);
    const id = await cloud.connectionIdOf("short");
    expect((await shortLived.closed).code).toBe(1001);
    await until(() => cloud.eventsOf("DISCONNECT", id)[0], "$disconnect at max duration");

    const stays = await client(`${cloud.url}?name=stays`);
    stays.ws.on("error", () => undefined);
    const staysId = await cloud.connectionIdOf("stays");
    await cloud.gateway.close();
    expect(cloud.eventsOf("DISCONNECT", staysId)).toHaveLength(1);
  });

  it("keeps the handler's console output as log lines between START, END and REPORT", async () => {
    const cloud = await startCloud({ routes: { $default: "app" } });
    const c = await client(cloud.url);
    c.ws.send(JSON.stringify({ log: "hello logs" }));
    const lines = await until(() => {
      const all = cloud.logs.filter((l) => l.fn === "app").flatMap((l) => l.lines.map((x) => x.message));
      return all.some((m) => m.startsWith("REPORT ")) && all.some((m) => m.endsWith("\tINFO\tsaid hello logs")) ? all : undefined;
    }, "the invocation's log");
    const requestId = lines.find((m) => m.endsWith("said hello logs"))?.split("\t")[1];
    const mine = lines.filter((m) => m.includes(requestId ?? "?"));
    expect(mine[0]).toBe(`START RequestId: ${requestId} Version: $LATEST`);
    expect(mine.at(-2)).toBe(`END RequestId: ${requestId}`);
    expect(mine.at(-1)).toMatch(new RegExp(`^REPORT RequestId: ${requestId}\\tDuration: `));
    c.ws.close();
  });

  it("runs AWS's sample broadcast handler unchanged: ApiGatewayManagementApiClient at https://{domainName}/{stage}", async () => {
    const cloud = await startCloud({
      routes: { $default: "app", sendmessage: "broadcast" },
      functions: { app: { source: RECORDING_HANDLER }, broadcast: { source: AWS_SAMPLE_BROADCAST, timeoutSeconds: 20 } },
    });
    const clients = await Promise.all([client(cloud.url), client(cloud.url), client(cloud.url)]);
    clients[0]?.ws.send(JSON.stringify({ action: "sendmessage", data: "from the sample" }));
    for (const c of clients) expect(await c.next()).toBe("from the sample");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(clients.map((c) => c.messages)).toEqual([["from the sample"], ["from the sample"], ["from the sample"]]);
    for (const c of clients) c.ws.close();
  });

  it("serves handlers whose SDK client takes its endpoint from AWS_ENDPOINT_URL", async () => {
    const cloud = await startCloud({ routes: { $default: "reply" }, functions: { reply: { source: ENV_ENDPOINT_REPLY, timeoutSeconds: 20 } } });
    const c = await client(cloud.url);
    c.ws.send("ping");
    expect(await c.next()).toBe("pong: ping");
    c.ws.close();
  });
});
