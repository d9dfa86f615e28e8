import { connect as tcpConnect } from "node:net";
import { networkInterfaces } from "node:os";
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  PayloadTooLargeException,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";
import { CloudWatchLogsClient, FilterLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { LambdaClient, RemovePermissionCommand } from "@aws-sdk/client-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { runCli, startTestCloud, type TestCloud } from "../support/cloud.js";

// Issue 4's end-to-end list, on stacks applied through the real CLI to a local
// cloud: specs/chat.yaml (my-chat, /prod), specs/custom-routes.yaml (typed-chat,
// /dev) and specs/test-gateway.yaml (gw-test, /test: a token-checking $connect, a
// handler that throws and one that times out). Real sockets, real SDK clients.

const IDLE_MS = 2000; // connections that neither send nor ping for this long are closed
const credentials = { accessKeyId: "test", secretAccessKey: "test" };
const region = "ap-northeast-1";

let cloud: TestCloud;
let at: string[];
const open = new Set<WebSocket>();

async function apply(spec: string): Promise<string> {
  const r = await runCli(["apply", "-f", spec, ...at, "--auto-approve"]);
  if (r.code !== 0) throw new Error(`apply ${spec} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  cloud = await startTestCloud({ limits: { idleTimeoutMs: IDLE_MS } });
  at = ["--endpoint-url", cloud.url];
  await Promise.all(["specs/chat.yaml", "specs/custom-routes.yaml", "specs/test-gateway.yaml"].map(apply));
}, 60_000);

afterAll(async () => {
  for (const ws of open) ws.terminate();
  await cloud?.stop();
});

type Frame = Record<string, unknown>;

interface Client {
  readonly ws: WebSocket;
  readonly frames: Frame[];
  readonly closed: Promise<{ code: number; reason: string }>;
  /** The first frame (from the start) that matches and was not taken yet. */
  next(match?: (f: Frame) => boolean): Promise<Frame>;
  send(value: unknown): void;
}

/**
 * A client that pings often enough never to meet the idle timeout; `idle: true`
 * leaves the pinging out (the idle-timeout test).
 */
function connect(path: string, opts: { idle?: boolean } = {}): Promise<Client> {
  const ws = new WebSocket(`${cloud.url.replace(/^http/, "ws")}${path}`, { headers: { "user-agent": "gateway-stack-test" } });
  open.add(ws);
  const frames: Frame[] = [];
  const taken = new Set<number>();
  const waiters: Array<() => void> = [];
  ws.on("message", (data: Buffer) => {
    const text = data.toString("utf8");
    let frame: Frame;
    try {
      frame = JSON.parse(text) as Frame;
    } catch {
      frame = { raw: text };
    }
    frames.push(frame);
    for (const w of waiters.splice(0)) w();
  });
  const keepAlive = opts.idle ? undefined : setInterval(() => ws.readyState === WebSocket.OPEN && ws.ping(), IDLE_MS / 5);
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once("close", (code: number, reason: Buffer) => {
      clearInterval(keepAlive);
      open.delete(ws);
      for (const w of waiters.splice(0)) w();
      resolve({ code, reason: reason.toString("utf8") });
    }),
  );
  const client: Client = {
    ws,
    frames,
    closed,
    next(match = () => true) {
      return new Promise((resolve, reject) => {
        const look = (): void => {
          const i = frames.findIndex((f, n) => !taken.has(n) && match(f));
          if (i >= 0) {
            taken.add(i);
            resolve(frames[i] as Frame);
          } else if (ws.readyState === WebSocket.CLOSED) reject(new Error(`closed before the frame came; got ${JSON.stringify(frames)}`));
          else waiters.push(look);
        };
        look();
      });
    },
    send(value) {
      ws.send(typeof value === "string" ? value : JSON.stringify(value));
    },
  };
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve(client));
    ws.once("error", reject);
  });
}

/** The HTTP status a refused upgrade answered with. */
function refusal(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${cloud.url.replace(/^http/, "ws")}${path}`);
    ws.on("unexpected-response", (req, res) => {
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
    ws.on("open", () => {
      ws.terminate();
      reject(new Error(`${path} was accepted`));
    });
    ws.on("error", () => undefined);
  });
}

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never happened: ${what}`);
}

async function storedConnections(table = "my-chat-connections"): Promise<string[]> {
  const db = new DynamoDBClient({ endpoint: cloud.url, region, credentials });
  const out = await db.send(new ScanCommand({ TableName: table }));
  return (out.Items ?? []).map((i) => i.connectionId?.S ?? "").sort();
}

/** The connection id the gateway gave the most recent connection on `stage` (the one a test just opened). */
function newestConnectionId(stage: string): string {
  const mine = cloud.gateway.connections().filter((c) => c.stage === stage);
  return mine.sort((a, b) => a.connectedAt - b.connectedAt).at(-1)?.connectionId ?? "";
}

const isError = (message: string) => (f: Frame) => f.message === message && typeof f.connectionId === "string" && typeof f.requestId === "string";

describe("the gateway, on stacks applied through the CLI", () => {
  it("broadcasts a message to every client exactly once and gives the sender its receipt", async () => {
    const clients = await Promise.all([1, 2, 3, 4].map(() => connect("/prod")));
    const [sender] = clients;
    if (!sender) throw new Error("no clients");
    expect((await storedConnections()).length).toBeGreaterThanOrEqual(4);

    sender.send({ action: "sendmessage", message: "hello, all" });
    const receipt = await sender.next((f) => f.type === "sent");
    expect(receipt).toMatchObject({ type: "sent", delivered: 4, recipients: 4, gone: 0, failed: 0 });
    // A second broadcast is posted only after the first was posted to everyone: once a
    // client has the second, every copy of the first it will ever get has arrived.
    sender.send({ action: "sendmessage", message: "second" });
    await sender.next((f) => f.type === "sent");
    for (const c of clients) {
      await c.next((f) => f.message === "second");
      const copies = c.frames.filter((f) => f.type === "message" && f.message === "hello, all");
      expect(copies).toHaveLength(1);
      expect(copies[0]).toMatchObject({ from: expect.any(String), sentAt: expect.any(Number) });
    }
    expect(clients.every((c) => c.ws.readyState === WebSocket.OPEN)).toBe(true);
    for (const c of clients) c.ws.close();
    await Promise.all(clients.map((c) => c.closed));
  });

  it("refuses the upgrade with $connect's status: 401 without a token, 403 with a wrong one; accepts the right one", async () => {
    expect(await refusal("/test")).toBe(401);
    expect(await refusal("/test?token=guess")).toBe(403);
    const c = await connect("/test?token=let-me-in");
    expect(await storedConnections("gw-test-connections")).toContain(newestConnectionId("test"));
    c.send({ action: "dance" });
    expect(await c.next()).toMatchObject({ type: "error", message: 'unknown action "dance"' });
    c.ws.close();
    await c.closed;
  });

  it("routes by the API's own selection expression ($request.body.type) and sends the rest to $default", async () => {
    const c = await connect("/dev");
    c.send({ type: "sendmessage", message: "typed" });
    expect(await c.next((f) => f.type === "message")).toMatchObject({ message: "typed" });
    expect(await c.next((f) => f.type === "sent")).toMatchObject({ delivered: 1 });

    // "action" means nothing to this API: $default answers it.
    c.send({ action: "sendmessage", message: "untyped" });
    expect(await c.next((f) => f.type === "error")).toMatchObject({ message: 'unknown action "sendmessage"' });
    c.send({ type: "ping" });
    expect(await c.next((f) => f.type === "error")).toMatchObject({ actions: ["sendmessage"] });
    expect(c.frames.some((f) => f.message === "untyped")).toBe(false);

    // The "ping" route is its own route key, though the same function serves it.
    const logs = new CloudWatchLogsClient({ endpoint: cloud.url, region, credentials });
    const routes = await until(async () => {
      const out = await logs.send(new FilterLogEventsCommand({ logGroupName: "/aws/lambda/typed-chat-default" }));
      const seen = (out.events ?? []).map((e) => /"route":"([^"]+)"/.exec(e.message ?? "")?.[1]).filter((r) => r !== undefined);
      return seen.includes("ping") ? seen : undefined;
    }, "the ping route in typed-chat-default's logs");
    expect(routes).toEqual(expect.arrayContaining(["$default", "ping"]));
    c.ws.close();
    await c.closed;
  });

  it("falls back to $default for unknown actions and for text that is not JSON", async () => {
    const c = await connect("/prod");
    c.send({ action: "dance" });
    expect(await c.next()).toMatchObject({ type: "error", message: 'unknown action "dance"', actions: ["sendmessage", "join"] });
    c.send("just some words");
    expect(await c.next()).toMatchObject({ type: "error", message: expect.stringMatching(/^unknown action: send JSON like/) });
    c.ws.close();
    await c.closed;
  });

  it("serves @connections POST, GET and DELETE through the real SDK client, then 410 Gone; $disconnect clears the table", async () => {
    const c = await connect("/prod");
    const id = newestConnectionId("prod");
    const api = new ApiGatewayManagementApiClient({ endpoint: `${cloud.url}/prod`, region, credentials });

    await api.send(new PostToConnectionCommand({ ConnectionId: id, Data: JSON.stringify({ pushed: true }) }));
    expect(await c.next()).toEqual({ pushed: true });
    const info = await api.send(new GetConnectionCommand({ ConnectionId: id }));
    expect(info.ConnectedAt).toBeInstanceOf(Date);
    expect(info.LastActiveAt).toBeInstanceOf(Date);
    expect(info.Identity).toMatchObject({ SourceIp: "127.0.0.1", UserAgent: "gateway-stack-test" });
    await expect(api.send(new PostToConnectionCommand({ ConnectionId: id, Data: "x".repeat(128 * 1024 + 1) }))).rejects.toBeInstanceOf(
      PayloadTooLargeException,
    );
    expect(await storedConnections()).toContain(id);

    await api.send(new DeleteConnectionCommand({ ConnectionId: id }));
    await c.closed;
    await until(async () => ((await storedConnections()).includes(id) ? undefined : true), "$disconnect deleting the item after DELETE");
    await expect(api.send(new PostToConnectionCommand({ ConnectionId: id, Data: "late" }))).rejects.toBeInstanceOf(GoneException);
    await expect(api.send(new GetConnectionCommand({ ConnectionId: id }))).rejects.toBeInstanceOf(GoneException);
    await expect(api.send(new DeleteConnectionCommand({ ConnectionId: id }))).rejects.toBeInstanceOf(GoneException);
    await expect(api.send(new PostToConnectionCommand({ ConnectionId: "neverConnected=", Data: "x" }))).rejects.toBeInstanceOf(GoneException);
  });

  it("takes a 120 KB message in 30 KB frames, and closes with 1009 on a 33 KB frame or a 129 KB message", async () => {
    const c = await connect("/prod");
    const body = JSON.stringify({ action: "dance", pad: "p".repeat(120 * 1024) });
    const chunks = [];
    for (let i = 0; i < body.length; i += 30 * 1024) chunks.push(body.slice(i, i + 30 * 1024));
    chunks.forEach((chunk, i) => c.ws.send(chunk, { fin: i === chunks.length - 1 }));
    expect(await c.next()).toMatchObject({ type: "error", message: 'unknown action "dance"' });

    c.ws.send("f".repeat(33 * 1024));
    expect((await c.closed).code).toBe(1009);

    const d = await connect("/prod");
    const big = "m".repeat(129 * 1024);
    for (let i = 0; i < big.length; i += 30 * 1024) d.ws.send(big.slice(i, i + 30 * 1024), { fin: i + 30 * 1024 >= big.length });
    expect((await d.closed).code).toBe(1009);
  });

  it("answers a handler that throws, and one that times out, with API Gateway's error frame; the connection stays usable", async () => {
    const c = await connect("/test?token=let-me-in");
    const id = newestConnectionId("test");
    c.send({ action: "explode" });
    expect(await c.next()).toMatchObject({ message: "Internal server error", connectionId: id, requestId: expect.any(String) });
    c.send({ action: "sleepy" });
    expect(await c.next()).toMatchObject({ message: "Internal server error", connectionId: id });
    c.send({ action: "dance" });
    expect(await c.next()).toMatchObject({ type: "error", message: 'unknown action "dance"' });
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    c.ws.close();
    await c.closed;
  });

  it("fires $disconnect when the client closes and on the idle timeout: the handler deletes the connection's item", async () => {
    const leaving = await connect("/prod");
    const leavingId = newestConnectionId("prod");
    const idle = await connect("/prod", { idle: true });
    const idleId = newestConnectionId("prod");
    expect(await storedConnections()).toEqual(expect.arrayContaining([leavingId, idleId]));

    leaving.ws.close(1000, "bye");
    await leaving.closed;
    await until(async () => ((await storedConnections()).includes(leavingId) ? undefined : true), "$disconnect after the client closed");

    expect(await idle.closed).toEqual({ code: 1001, reason: "Going away" });
    await until(async () => ((await storedConnections()).includes(idleId) ? undefined : true), "$disconnect after the idle timeout");
  });

  it("shows the functions' logs through the CloudWatch Logs API and chatctl lambda-logs", async () => {
    const c = await connect("/prod");
    const id = newestConnectionId("prod");
    c.send({ action: "sendmessage", message: "for the logs" });
    await c.next((f) => f.type === "sent");
    const logs = new CloudWatchLogsClient({ endpoint: cloud.url, region, credentials });
    const line = await until(async () => {
      const out = await logs.send(new FilterLogEventsCommand({ logGroupName: "/aws/lambda/my-chat-sendmessage" }));
      return out.events?.find((e) => e.message?.includes(id))?.message;
    }, "sendmessage's log line through FilterLogEvents");
    expect(JSON.parse(line.slice(line.indexOf("{")))).toMatchObject({ level: "info", route: "sendmessage", connectionId: id, delivered: expect.any(Number) });

    const cli = await runCli(["lambda-logs", "my-chat-sendmessage", ...at]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain(id);
    c.ws.close();
    await c.closed;
  });

  it("lets API Gateway invoke a function only with its Lambda permission; chatctl apply restores it", async () => {
    const lambda = new LambdaClient({ endpoint: cloud.url, region, credentials });
    const c = await connect("/prod");
    await lambda.send(new RemovePermissionCommand({ FunctionName: "my-chat-sendmessage", StatementId: "chatctl-apigateway" }));
    await lambda.send(new RemovePermissionCommand({ FunctionName: "my-chat-connect", StatementId: "chatctl-apigateway" }));

    c.send({ action: "sendmessage", message: "nobody hears this" });
    expect(await c.next()).toMatchObject({ message: "Internal server error" });
    expect(await refusal("/prod")).toBe(500);
    c.send({ action: "dance" }); // other routes' functions keep their permission
    expect(await c.next()).toMatchObject({ type: "error", message: 'unknown action "dance"' });

    const plan = await runCli(["plan", "-f", "specs/chat.yaml", ...at, "--detailed-exitcode"]);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(/\+ create\s+lambda\.permission\s+my-chat-sendmessage/);
    await apply("specs/chat.yaml");

    c.send({ action: "sendmessage", message: "heard again" });
    expect(await c.next((f) => f.type === "message")).toMatchObject({ message: "heard again" });
    const d = await connect("/prod");
    d.ws.close();
    c.ws.close();
    await Promise.all([c.closed, d.closed]);
  });

  it("listens on 127.0.0.1 only, unless told otherwise", async () => {
    expect(cloud.host).toBe("127.0.0.1");
    expect(cloud.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a !== undefined && !a.internal && a.family === "IPv4")?.address;
    if (external === undefined) return; // no other address on this machine to try
    const outcome = await new Promise<string>((resolve) => {
      const socket = tcpConnect({ host: external, port: cloud.port });
      socket.setTimeout(5_000, () => {
        socket.destroy();
        resolve("timeout");
      });
      socket.once("connect", () => {
        socket.destroy();
        resolve("connected");
      });
      socket.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? "error"));
    });
    expect(outcome).not.toBe("connected");
  });
});
