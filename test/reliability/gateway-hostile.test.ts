import { connect as tcpConnect, type Socket } from "node:net";
import { ApiGatewayManagementApiClient, GoneException, PostToConnectionCommand } from "@aws-sdk/client-apigatewaymanagementapi";
import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { runCli, startTestCloud, type TestCloud } from "../support/cloud.js";

// Issue 7, the local gateway as a hostile client sees it (loopback only, bounded):
// bad frames, binary, floods, a reader that never reads, bytes that are not HTTP.
// After each, the server is still up and an ordinary client still chats.
//
// Binary frames: API Gateway WebSocket APIs take text frames only; "If a client app
// sends a binary frame, API Gateway rejects it and disconnects the client with code
// 1003" (developer guide, "Binary media types for WebSocket APIs"). So does ours:
// no event with isBase64Encoded reaches a handler.

const MESSAGES_PER_SECOND = 20;
const SEND_BUFFER = 1024 * 1024;
const credentials = { accessKeyId: "test", secretAccessKey: "test" };
const region = "ap-northeast-1";

let cloud: TestCloud;
const sockets = new Set<Socket | WebSocket>();

beforeAll(async () => {
  cloud = await startTestCloud({
    limits: { messagesPerSecond: MESSAGES_PER_SECOND, messageBurst: MESSAGES_PER_SECOND, maxSendBufferBytes: SEND_BUFFER },
  });
  const applied = await runCli(["apply", "-f", "specs/chat.yaml", "--endpoint-url", cloud.url, "--auto-approve"]);
  if (applied.code !== 0) throw new Error(`apply failed:\n${applied.stdout}\n${applied.stderr}`);
}, 60_000);

afterAll(async () => {
  for (const s of sockets) (s instanceof WebSocket ? s.terminate() : s.destroy());
  await cloud?.stop();
});

interface Client {
  readonly ws: WebSocket;
  readonly frames: Array<Record<string, unknown>>;
  readonly closed: Promise<number>;
  next(match: (f: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
}

function wsUrl(path = "/prod"): string {
  return `${cloud.url.replace(/^http/, "ws")}${path}`;
}

function connect(): Promise<Client> {
  const ws = new WebSocket(wsUrl());
  sockets.add(ws);
  const frames: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  ws.on("message", (data: Buffer) => {
    try {
      frames.push(JSON.parse(data.toString("utf8")) as Record<string, unknown>);
    } catch {
      frames.push({ raw: data.toString("utf8") });
    }
    for (const w of waiters.splice(0)) w();
  });
  ws.on("error", () => undefined);
  const closed = new Promise<number>((resolve) =>
    ws.once("close", (code: number) => {
      sockets.delete(ws);
      for (const w of waiters.splice(0)) w();
      resolve(code);
    }),
  );
  const next = (match: (f: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const look = (): void => {
        const found = frames.find(match);
        if (found) resolve(found);
        else if (ws.readyState === WebSocket.CLOSED) reject(new Error(`closed; frames so far: ${JSON.stringify(frames.slice(-5))}`));
        else waiters.push(look);
      };
      look();
    });
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve({ ws, frames, closed, next }));
    ws.once("unexpected-response", (_req, res) => reject(new Error(`refused with ${res.statusCode}`)));
    ws.once("error", reject);
  });
}

/** The check every test ends with: a newcomer broadcasts and gets its message and its receipt. */
async function stillChats(): Promise<void> {
  const c = await connect();
  const text = `still here ${Math.random()}`;
  c.ws.send(JSON.stringify({ action: "sendmessage", message: text }));
  expect(await c.next((f) => f.type === "message" && f.message === text)).toBeTruthy();
  expect(await c.next((f) => f.type === "sent")).toMatchObject({ failed: 0 });
  c.ws.close();
  await c.closed;
}

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never happened: ${what}`);
}

async function storedConnections(): Promise<string[]> {
  const db = new DynamoDBClient({ endpoint: cloud.url, region, credentials });
  const out = await db.send(new ScanCommand({ TableName: "my-chat-connections" }));
  return (out.Items ?? []).map((i) => i.connectionId?.S ?? "");
}

function tcp(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: "127.0.0.1", port: cloud.port }, () => resolve(socket));
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.once("error", reject);
  });
}

/** Everything the server sends until it closes the socket (or `ms` pass, for a server that keeps it open). */
function drain(socket: Socket, ms = 10_000): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const done = (): void => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    };
    const timer = setTimeout(() => {
      socket.destroy();
      done();
    }, ms);
    socket.on("data", (d: Buffer) => chunks.push(d));
    socket.once("close", done);
    socket.on("error", () => undefined);
  });
}

/** A WebSocket opened by hand, so the test can write frames no library would. */
async function rawWebSocket(): Promise<{ socket: Socket; received: Buffer[] }> {
  const socket = await tcp();
  const received: Buffer[] = [];
  socket.write(
    `GET /prod HTTP/1.1\r\nHost: 127.0.0.1:${cloud.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await new Promise<void>((resolve, reject) => {
    let head = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      head = Buffer.concat([head, d]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      socket.off("data", onData);
      if (!head.subarray(0, 12).toString().includes("101")) reject(new Error(`not upgraded: ${head.toString()}`));
      if (head.length > end + 4) received.push(head.subarray(end + 4));
      socket.on("data", (more: Buffer) => received.push(more));
      resolve();
    };
    socket.on("data", onData);
  });
  return { socket, received };
}

/** A client frame (masked, with a zero mask so the payload stays readable); `claimed` lies about the length. */
function frame(opcode: number, payload: Buffer, opts: { fin?: boolean; claimed?: number } = {}): Buffer {
  const length = opts.claimed ?? payload.length;
  const first = ((opts.fin ?? true) ? 0x80 : 0) | opcode;
  let header: Buffer;
  if (length < 126) header = Buffer.from([first, 0x80 | length]);
  else if (length < 65536) {
    header = Buffer.from([first, 0x80 | 126, 0, 0]);
    header.writeUInt16BE(length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = first;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  return Buffer.concat([header, Buffer.alloc(4), payload]);
}

/** The status code of the close frame the server sent, if any. */
function closeCodeIn(bytes: Buffer): number | undefined {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 0x88 && (bytes[i + 1] ?? 0) >= 2 && (bytes[i + 1] ?? 0) < 126) return bytes.readUInt16BE(i + 2);
  }
  return undefined;
}

describe("the local gateway under hostile input", () => {
  it("closes with 1009 on a frame that claims 2^62 bytes, a 40 KB frame and a 200 KB message in small fragments", async () => {
    const liar = await rawWebSocket();
    liar.socket.write(frame(0x1, Buffer.alloc(0), { claimed: 2 ** 62 }));
    await drain(liar.socket);
    expect(closeCodeIn(Buffer.concat(liar.received))).toBe(1009);

    const wide = await rawWebSocket();
    wide.socket.write(frame(0x1, Buffer.alloc(40 * 1024, 0x61)));
    await drain(wide.socket);
    expect(closeCodeIn(Buffer.concat(wide.received))).toBe(1009);

    const known = new Set(cloud.gateway.connections().map((c) => c.connectionId));
    const long = await rawWebSocket();
    const longId = cloud.gateway.connections().find((c) => !known.has(c.connectionId))?.connectionId ?? "";
    const piece = Buffer.alloc(4 * 1024, 0x62);
    for (let i = 0; i < 50; i++) long.socket.write(frame(i === 0 ? 0x1 : 0x0, piece, { fin: i === 49 }));
    await drain(long.socket);
    expect(closeCodeIn(Buffer.concat(long.received))).toBe(1009);
    // Its $disconnect runs now, not after ws's 30 s close timeout (fragments kept arriving after the error).
    await until(async () => ((await storedConnections()).includes(longId) ? undefined : true), "$disconnect after 1009");

    await stillChats();
  });

  it("closes with 1007 on invalid UTF-8 in a text frame, and $disconnect still runs", async () => {
    const c = await connect();
    const id = cloud.gateway.connections().sort((a, b) => a.connectedAt - b.connectedAt).at(-1)?.connectionId ?? "";
    expect(await storedConnections()).toContain(id);
    c.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect(await c.closed).toBe(1007);
    await until(async () => ((await storedConnections()).includes(id) ? undefined : true), "$disconnect after 1007");
    await stillChats();
  });

  it("disconnects a client that sends a binary frame with 1003, as API Gateway does", async () => {
    const c = await connect();
    c.ws.send(Buffer.from(JSON.stringify({ action: "sendmessage", message: "as bytes" })), { binary: true });
    expect(await c.closed).toBe(1003);
    expect(c.frames).toEqual([]);
    await stillChats();
  });

  it("takes a flood of 300 connections, broadcasts to all of them, and lets them all go", async () => {
    // The earlier tests' clients are gone once the server has seen their close and their $disconnect ran.
    await until(() => (cloud.gateway.connections().length === 0 ? true : undefined), `no connections left: ${JSON.stringify(cloud.gateway.connections())}`);
    await until(async () => ((await storedConnections()).length === 0 ? true : undefined), "an empty connections table");
    const flood = await Promise.all(Array.from({ length: 300 }, () => connect()));
    expect(cloud.gateway.connections()).toHaveLength(300);

    const sender = flood[0];
    if (!sender) throw new Error("no connections");
    sender.ws.send(JSON.stringify({ action: "sendmessage", message: "to the crowd" }));
    expect(await sender.next((f) => f.type === "sent")).toMatchObject({ recipients: 300, delivered: 300, failed: 0 });
    await Promise.all(flood.map((c) => c.next((f) => f.message === "to the crowd")));

    for (const c of flood) c.ws.close();
    await Promise.all(flood.map((c) => c.closed));
    await until(async () => ((await storedConnections()).length === 0 ? true : undefined), "every $disconnect");
    await stillChats();
  });

  it("answers a flood of messages from one client with 'Too Many Requests' beyond its rate, and serves everyone else", async () => {
    const c = await connect();
    const count = 1000;
    for (let i = 0; i < count; i++) c.ws.send(JSON.stringify({ action: "dance", i }));
    // Every message gets exactly one answer: the handler's, or the gateway's refusal.
    await until(() => (c.frames.length >= count ? true : undefined), `${count} answers`);
    const throttled = c.frames.filter((f) => f.message === "Too Many Requests" && typeof f.requestId === "string");
    const served = c.frames.filter((f) => f.type === "error" && f.message === 'unknown action "dance"');
    expect(throttled.length + served.length).toBe(count);
    expect(throttled.length).toBeGreaterThan(count / 2);
    expect(served.length).toBeGreaterThanOrEqual(MESSAGES_PER_SECOND);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    await stillChats();
    c.ws.close();
    await c.closed;
  });

  it("drops a reader that never reads once its send buffer passes the bound; posting to it blocks no one", async () => {
    const before = new Set(cloud.gateway.connections().map((c) => c.connectionId));
    const slow = await rawWebSocket();
    slow.socket.pause(); // from now on nothing is read: the kernel's buffers fill, then ours
    const id = cloud.gateway.connections().find((c) => !before.has(c.connectionId))?.connectionId ?? "";
    expect(id).not.toBe("");
    const reader = await connect();
    const readerId = cloud.gateway.connections().find((c) => !before.has(c.connectionId) && c.connectionId !== id)?.connectionId ?? "";

    const api = new ApiGatewayManagementApiClient({ endpoint: `${cloud.url}/prod`, region, credentials });
    const chunk = "s".repeat(128 * 1024);
    let posted = 0;
    let gone = false;
    // Loopback socket buffers take a few MB before anything queues in the process; 400 x 128 KB is far beyond both.
    while (!gone && posted < 400) {
      try {
        await api.send(new PostToConnectionCommand({ ConnectionId: id, Data: chunk }));
        posted++;
      } catch (err) {
        if (!(err instanceof GoneException)) throw err;
        gone = true;
      }
      if (posted % 20 === 0) {
        // Another client is served meanwhile.
        await api.send(new PostToConnectionCommand({ ConnectionId: readerId, Data: JSON.stringify({ tick: posted }) }));
        await reader.next((f) => f.tick === posted);
      }
    }
    expect(gone).toBe(true);
    expect(cloud.gateway.connections().some((c) => c.connectionId === id)).toBe(false);
    await until(async () => ((await storedConnections()).includes(id) ? undefined : true), "$disconnect of the slow reader");
    await expect(api.send(new PostToConnectionCommand({ ConnectionId: id, Data: "more" }))).rejects.toBeInstanceOf(GoneException);

    reader.ws.close();
    await reader.closed;
    await stillChats();
  });

  it("stays up through bytes that are not HTTP, a truncated TLS hello, a half-sent request and a malformed upgrade", async () => {
    const garbage = await tcp();
    garbage.write(Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0d, 0x0a, 0x0d, 0x0a, ...Buffer.from("NOT HTTP AT ALL\r\n\r\n")]));
    expect((await drain(garbage)).toString("latin1")).toMatch(/^HTTP\/1\.1 400/);

    // A ClientHello record header promising 512 bytes, then 5 of them, then the client hangs up.
    const tls = await tcp();
    tls.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03]));
    const held = await tcp();
    held.write("GET /prod HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgr"); // and never finishes
    await stillChats(); // while both are held open
    tls.end();
    await drain(tls);

    const badUpgrade = await tcp();
    badUpgrade.write(`GET /prod HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`);
    expect((await drain(badUpgrade)).toString("latin1")).toMatch(/^HTTP\/1\.1 400/);

    const bloated = await fetch(`${cloud.url}/prod/@connections/nobody`, { method: "POST", body: Buffer.alloc(9 * 1024 * 1024, 0x61) });
    expect(bloated.status).toBe(413);

    held.destroy();
    await stillChats();
  });
});
