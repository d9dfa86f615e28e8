import { STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import { WebSocket, WebSocketServer, type RawData } from "ws";
import { readBody, sendWire, toWireRequest } from "../front-door.js";
import type { InvokeResult, WireAdapter, WireRequest, WireResponse } from "../service.js";
import type { ApiTarget, ApiView, GatewayDirectory, InvokeFunction } from "./directory.js";
import type { InvokeSource } from "./permission.js";
import {
  connectEvent,
  disconnectEvent,
  errorFrame,
  gatewayId,
  messageEvent,
  selectRouteKey,
  type ConnectionFacts,
  type HandshakeFacts,
} from "./events.js";
import { guardFrames } from "./frames.js";

/** API Gateway's WebSocket quotas; tests shorten the timeouts. */
export interface Limits {
  /** A whole message, in or out (128 KB); larger incoming ones close the connection with 1009. */
  readonly maxMessageBytes: number;
  /** One frame (32 KB); a larger incoming frame closes the connection with 1009. Outgoing messages are split into frames this size. */
  readonly maxFrameBytes: number;
  /** No incoming message (or ping) for this long closes the connection (10 min). */
  readonly idleTimeoutMs: number;
  /** Connection lifetime (2 h). */
  readonly maxConnectionMs: number;
  /** API Gateway gives up on an integration after 29 s. */
  readonly integrationTimeoutMs: number;
  /**
   * Per-connection token bucket for incoming messages. Not an API Gateway quota
   * (AWS throttles per account and route); here it keeps one runaway client
   * from starving the machine. Over the bound, a message is dropped and the
   * client gets a "Too Many Requests" error frame.
   */
  readonly messagesPerSecond: number;
  readonly messageBurst: number;
  /**
   * Bytes queued for one client beyond what its socket has taken (a reader that
   * stops reading). Not an API Gateway quota: AWS's side is not ours to see.
   * Here, a connection over it is dropped (its $disconnect reports 1006) and the
   * @connections POST that overflowed answers 410 Gone, so one stalled client
   * can neither hold the memory of the process nor slow anyone else.
   */
  readonly maxSendBufferBytes: number;
}

export const API_GATEWAY_LIMITS: Limits = {
  maxMessageBytes: 128 * 1024,
  maxFrameBytes: 32 * 1024,
  idleTimeoutMs: 10 * 60 * 1000,
  maxConnectionMs: 2 * 60 * 60 * 1000,
  integrationTimeoutMs: 29_000,
  messagesPerSecond: 500,
  messageBurst: 1000,
  maxSendBufferBytes: 4 * 1024 * 1024,
};

export interface GatewayOptions {
  readonly directory: GatewayDirectory;
  readonly invoke: InvokeFunction;
  readonly limits?: Partial<Limits>;
  readonly now?: () => number;
  readonly logger?: (line: string) => void;
}

export interface ConnectionInfo {
  readonly connectionId: string;
  readonly apiId: string;
  readonly stage: string;
  readonly connectedAt: number;
  readonly lastActiveAt: number;
  readonly sourceIp: string;
  readonly userAgent: string | undefined;
}

export interface Gateway {
  /** For `server.on("upgrade", ...)`: WebSocket at `/{stage}` or `/{apiId}/{stage}`. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Serves `[/{apiId}][/{stage}]/@connections/{id}` and returns true; false for any other path. */
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean;
  /** The @connections API for requests the front door routes by SigV4 scope ("execute-api"). */
  readonly connectionsWire: WireAdapter;
  connections(): ConnectionInfo[];
  /** Closes every connection (each gets its $disconnect) and waits for those invocations. */
  close(): Promise<void>;
}

interface Connection {
  readonly facts: ConnectionFacts;
  readonly handshake: HandshakeFacts;
  readonly ws: WebSocket;
  /** Resolves once "close" has fired and the $disconnect invocation is under way. */
  readonly closed: Promise<void>;
  lastActiveAt: number;
  tokens: number;
  tokensAt: number;
  /** Set when we end the connection, so $disconnect reports our reason, not the echo. */
  endedBy: { code: number; reason: string } | undefined;
  readonly timers: NodeJS.Timeout[];
}

type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message: string };

const CONNECTIONS = "@connections";
const BODY_LIMIT = 8 * 1024 * 1024; // beyond any sane POST; larger bodies are cut off rather than buffered

function decodeSegments(path: string): string[] | undefined {
  try {
    return path
      .split("/")
      .filter((s) => s.length > 0)
      .map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}

function json(status: number, body: unknown, errorType?: string): WireResponse {
  return {
    status,
    headers: { "content-type": "application/json", ...(errorType ? { "x-amzn-errortype": errorType } : {}) },
    body: JSON.stringify(body),
  };
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
function isUtf8(bytes: Buffer): boolean {
  try {
    utf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** The close code `ws` sends after a protocol error (1002, 1007 invalid UTF-8, 1008, 1009 too big). */
function closeCodeOf(err: Error & { code?: string }): number {
  const symbol = Object.getOwnPropertySymbols(err).find((s) => s.description === "status-code");
  const carried = symbol ? (err as unknown as Record<symbol, unknown>)[symbol] : undefined;
  if (typeof carried === "number") return carried;
  if (err.code === "WS_ERR_INVALID_UTF8") return 1007;
  return err.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH" ? 1009 : 1002;
}

function sourceIpOf(req: IncomingMessage): string {
  const ip = req.socket.remoteAddress ?? "127.0.0.1";
  return ip.startsWith("::ffff:") ? ip.slice("::ffff:".length) : ip;
}

/** Headers as the client spelled them (API Gateway keeps the case); hop-by-hop ones left out as AWS does. */
function handshakeHeaders(req: IncomingMessage, sourceIp: string): Pick<HandshakeFacts, "headers" | "multiValueHeaders"> {
  const multi: Record<string, string[]> = {};
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? "";
    const lower = name.toLowerCase();
    if (lower === "connection" || lower === "upgrade") continue;
    (multi[name] ??= []).push(raw[i + 1] ?? "");
  }
  const encrypted = (req.socket as Partial<TLSSocket>).encrypted === true;
  multi["X-Forwarded-For"] = [sourceIp];
  multi["X-Forwarded-Port"] = [String(req.socket.localPort ?? "")];
  multi["X-Forwarded-Proto"] = [encrypted ? "https" : "http"];
  const headers = Object.fromEntries(Object.entries(multi).map(([k, v]) => [k, v.join(",")]));
  return { headers, multiValueHeaders: multi };
}

function statusCodeOf(value: unknown): number {
  if (typeof value === "object" && value !== null && "statusCode" in value) {
    const s = (value as { statusCode: unknown }).statusCode;
    const n = typeof s === "number" ? s : typeof s === "string" ? Number(s) : NaN;
    if (Number.isInteger(n) && n >= 100 && n <= 599) return n;
  }
  return 200; // a $connect handler that returns nothing (or no statusCode) accepts the connection
}

function headerOf(value: unknown, name: string): string | undefined {
  if (typeof value !== "object" || value === null || !("headers" in value)) return undefined;
  const headers = (value as { headers: unknown }).headers;
  if (typeof headers !== "object" || headers === null) return undefined;
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name && typeof v === "string") return v;
  return undefined;
}

function refuse(socket: Duplex, status: number, body: string): void {
  if (socket.destroyed) return;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\n` +
      `Connection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/**
 * API Gateway's WebSocket data plane: the upgrade (with $connect deciding),
 * route selection and Lambda-proxy events, $disconnect, the @connections API
 * and the service limits. Mount `handleUpgrade` and `handleRequest` on the
 * server that also answers the control plane.
 */
export function createGateway(options: GatewayOptions): Gateway {
  const limits: Limits = { ...API_GATEWAY_LIMITS, ...options.limits };
  const now = options.now ?? Date.now;
  const log = options.logger ?? ((): void => undefined);
  const open = new Map<string, Connection>();
  const pendingSockets = new Set<Duplex>();
  const inFlight = new Set<Promise<unknown>>();
  const chosenProtocol = new WeakMap<IncomingMessage, string>();
  let closing = false;

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxMessageBytes,
    perMessageDeflate: false, // API Gateway does not negotiate compression
    clientTracking: false,
    handleProtocols: (_offered, req) => chosenProtocol.get(req) ?? false,
  });

  function track<T>(p: Promise<T>): Promise<T> {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p)).catch(() => undefined);
    return p;
  }

  async function integrate(functionName: string, event: object, what: string, source: InvokeSource): Promise<Outcome> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Outcome>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, message: "Endpoint request timed out" }), limits.integrationTimeoutMs);
      timer.unref();
    });
    const call = (async (): Promise<Outcome> => {
      let result: InvokeResult;
      try {
        result = await options.invoke(functionName, event, source);
      } catch (err) {
        log(`${what}: invoking ${functionName} failed: ${err instanceof Error ? err.message : String(err)}`);
        return { ok: false, message: "Internal server error" };
      }
      const text = Buffer.from(result.payload).toString("utf8");
      if (result.functionError) {
        log(`${what}: ${functionName} failed: ${text}`);
        return { ok: false, message: "Internal server error" };
      }
      try {
        return { ok: true, value: text.length > 0 ? (JSON.parse(text) as unknown) : null };
      } catch {
        return { ok: true, value: text };
      }
    })();
    try {
      return await Promise.race([call, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** False when the message was not queued: the connection is not open, or it is dropped now for not reading. */
  function send(conn: Connection, data: Buffer | string): boolean {
    if (conn.ws.readyState !== WebSocket.OPEN) return false;
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    if (conn.ws.bufferedAmount + bytes.length > limits.maxSendBufferBytes) {
      log(`${conn.facts.connectionId}: dropped, ${conn.ws.bufferedAmount} bytes unread (limit ${limits.maxSendBufferBytes})`);
      // A close frame would queue behind what the client is not reading: cut the socket instead.
      conn.endedBy ??= { code: 1006, reason: "Slow consumer: send buffer full" };
      open.delete(conn.facts.connectionId);
      conn.ws.terminate();
      return false;
    }
    const binary = typeof data === "string" ? false : !isUtf8(bytes);
    // Like API Gateway, a message over one frame's size goes out in several frames.
    if (bytes.length <= limits.maxFrameBytes) {
      conn.ws.send(bytes, { binary });
      return true;
    }
    for (let at = 0; at < bytes.length; at += limits.maxFrameBytes) {
      const end = Math.min(bytes.length, at + limits.maxFrameBytes);
      conn.ws.send(bytes.subarray(at, end), { binary, fin: end === bytes.length });
    }
    return true;
  }

  function end(conn: Connection, code: number, reason: string): void {
    conn.endedBy ??= { code, reason };
    open.delete(conn.facts.connectionId); // @connections answers 410 from now on
    if (conn.ws.readyState === WebSocket.OPEN) conn.ws.close(code, reason);
    else conn.ws.terminate();
  }

  async function fireDisconnect(facts: ConnectionFacts, handshake: HandshakeFacts, code: number, reason: string): Promise<void> {
    let api: ApiView | undefined;
    try {
      api = await options.directory.resolve({ apiId: facts.apiId, stage: facts.stage });
    } catch (err) {
      log(`$disconnect ${facts.connectionId}: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    const fn = api?.routes.get("$disconnect");
    if (!fn) return;
    await integrate(fn, disconnectEvent(facts, handshake, code, reason, now(), gatewayId()), `$disconnect ${facts.connectionId}`, {
      apiId: facts.apiId,
      stage: facts.stage,
      routeKey: "$disconnect",
    });
  }

  function allowMessage(conn: Connection): boolean {
    const at = now();
    const refill = ((at - conn.tokensAt) / 1000) * limits.messagesPerSecond;
    conn.tokens = Math.min(limits.messageBurst, conn.tokens + refill);
    conn.tokensAt = at;
    if (conn.tokens < 1) return false;
    conn.tokens -= 1;
    return true;
  }

  async function onMessage(conn: Connection, data: RawData, isBinary: boolean): Promise<void> {
    conn.lastActiveAt = now();
    conn.timers[0]?.refresh();
    const requestId = gatewayId();
    const id = conn.facts.connectionId;
    if (isBinary) {
      // API Gateway takes text frames only: "If a client app sends a binary frame, API Gateway
      // rejects it and disconnects the client with code 1003" (WebSocket binary media types).
      end(conn, 1003, "Binary frames are not supported");
      return;
    }
    if (!allowMessage(conn)) {
      send(conn, errorFrame("Too Many Requests", id, requestId));
      return;
    }
    const body = toBuffer(data);
    let api: ApiView | undefined;
    try {
      api = await options.directory.resolve({ apiId: conn.facts.apiId, stage: conn.facts.stage });
    } catch (err) {
      log(`message on ${id}: ${err instanceof Error ? err.message : String(err)}`);
      send(conn, errorFrame("Internal server error", id, requestId));
      return;
    }
    const selected = api ? selectRouteKey(api.routeSelectionExpression, body.toString("utf8")) : undefined;
    const routeKey = selected !== undefined && api?.routes.has(selected) ? selected : api?.routes.has("$default") ? "$default" : undefined;
    const fn = routeKey ? api?.routes.get(routeKey) : undefined;
    if (!routeKey || !fn) {
      send(conn, errorFrame("Forbidden", id, requestId));
      return;
    }
    const event = messageEvent(conn.facts, routeKey, body, false, now(), requestId, gatewayId());
    const outcome = await integrate(fn, event, `${routeKey} on ${id}`, { apiId: conn.facts.apiId, stage: conn.facts.stage, routeKey });
    // A Lambda-proxy route without a route response sends nothing back; only failures are reported.
    if (!outcome.ok) send(conn, errorFrame(outcome.message, id, requestId));
  }

  function onOpen(ws: WebSocket, facts: ConnectionFacts, handshake: HandshakeFacts, socket: Duplex): void {
    const at = now();
    let markClosed = (): void => undefined;
    const closed = new Promise<void>((resolve) => (markClosed = resolve));
    const conn: Connection = { facts, handshake, ws, closed, lastActiveAt: at, tokens: limits.messageBurst, tokensAt: at, endedBy: undefined, timers: [] };
    const idle = setTimeout(() => end(conn, 1001, "Going away"), limits.idleTimeoutMs);
    const lifetime = setTimeout(() => end(conn, 1001, "Going away"), limits.maxConnectionMs);
    idle.unref();
    lifetime.unref();
    conn.timers.push(idle, lifetime);
    open.set(facts.connectionId, conn);

    guardFrames(socket, limits.maxFrameBytes, () => {
      conn.endedBy ??= { code: 1009, reason: "Message too big" };
      open.delete(facts.connectionId);
      if (ws.readyState === WebSocket.OPEN) ws.close(1009, "Message too big");
      socket.end(); // the close handshake cannot finish: we no longer read the client's frames
    });
    ws.on("message", (data, isBinary) => void track(onMessage(conn, data, isBinary)));
    ws.on("ping", () => {
      conn.lastActiveAt = now();
      idle.refresh();
    });
    ws.on("error", (err: Error & { code?: string }) => {
      // ws closes the connection itself after a protocol error; remember why.
      const code = closeCodeOf(err);
      conn.endedBy ??= { code, reason: code === 1009 ? "Message too big" : err.message };
    });
    ws.once("close", (code: number, reason: Buffer) => {
      for (const t of conn.timers) clearTimeout(t);
      open.delete(facts.connectionId);
      const why = conn.endedBy ?? { code, reason: reason.toString("utf8") };
      void track(fireDisconnect(facts, handshake, why.code, why.reason));
      markClosed();
    });
  }

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on("error", () => undefined); // a client vanishing mid-handshake is not our error
    if (closing) return refuse(socket, 503, JSON.stringify({ message: "Service Unavailable" }));
    const url = new URL(req.url ?? "/", "http://local");
    const segments = decodeSegments(url.pathname);
    const isWebSocket = req.headers.upgrade?.toLowerCase() === "websocket" && typeof req.headers["sec-websocket-key"] === "string";
    if (!isWebSocket) return refuse(socket, 400, JSON.stringify({ message: "Bad Request" }));
    const target: ApiTarget | undefined =
      segments?.length === 1 && segments[0] ? { stage: segments[0] } : segments?.length === 2 && segments[1] ? { apiId: segments[0], stage: segments[1] } : undefined;
    let api: ApiView | undefined;
    try {
      api = target ? await options.directory.resolve(target) : undefined;
    } catch (err) {
      log(`upgrade ${url.pathname}: ${err instanceof Error ? err.message : String(err)}`);
      return refuse(socket, 500, JSON.stringify({ message: "Internal server error" }));
    }
    if (!api) return refuse(socket, 403, JSON.stringify({ message: "Forbidden" }));

    const sourceIp = sourceIpOf(req);
    const ua = req.headers["user-agent"];
    const facts: ConnectionFacts = {
      apiId: api.apiId,
      stage: api.stage,
      connectionId: gatewayId(),
      connectedAt: now(),
      domainName: req.headers.host ?? `127.0.0.1:${req.socket.localPort ?? ""}`,
      sourceIp,
      userAgent: typeof ua === "string" ? ua : undefined,
    };
    const handshake: HandshakeFacts = { ...handshakeHeaders(req, sourceIp), query: url.searchParams };

    pendingSockets.add(socket);
    try {
      const connectFn = api.routes.get("$connect");
      if (connectFn) {
        const outcome = await integrate(connectFn, connectEvent(facts, handshake, now(), gatewayId()), `$connect ${facts.connectionId}`, {
          apiId: facts.apiId,
          stage: facts.stage,
          routeKey: "$connect",
        });
        const status = outcome.ok ? statusCodeOf(outcome.value) : 500;
        if (status < 200 || status > 299) {
          const body = outcome.ok ? "" : JSON.stringify({ message: outcome.message });
          return refuse(socket, status, body);
        }
        const protocol = outcome.ok ? headerOf(outcome.value, "sec-websocket-protocol") : undefined;
        if (protocol) chosenProtocol.set(req, protocol);
      }
      if (closing || socket.destroyed || !socket.readable || !socket.writable) {
        // $connect let it in, but the client left first: its handler may have stored the connection.
        if (connectFn) void track(fireDisconnect(facts, handshake, 1006, "Connection closed abnormally"));
        socket.destroy();
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => onOpen(ws, facts, handshake, socket));
    } finally {
      pendingSockets.delete(socket);
    }
  }

  /** `[apiId/][stage/]@connections/{id}` -> the id and the API/stage the path names, or undefined. */
  function parseConnectionsPath(path: string): { id: string; prefix: string[] } | undefined {
    const segments = decodeSegments(path);
    if (!segments) return undefined;
    const at = segments.indexOf(CONNECTIONS);
    if (at < 0 || at > 2 || at !== segments.length - 2) return undefined;
    const id = segments[at + 1];
    return id ? { id, prefix: segments.slice(0, at) } : undefined;
  }

  function connectionsApi(method: string, path: string, body: Buffer): WireResponse {
    const parsed = parseConnectionsPath(path);
    if (!parsed) return json(403, { message: "Forbidden" }, "ForbiddenException");
    const conn = open.get(parsed.id);
    const [first, second] = parsed.prefix;
    const sameStage =
      conn !== undefined &&
      (parsed.prefix.length === 0 ||
        (parsed.prefix.length === 1 && first === conn.facts.stage) ||
        (parsed.prefix.length === 2 && first === conn.facts.apiId && second === conn.facts.stage));
    if (!conn || !sameStage) return json(410, {}, "GoneException");
    switch (method) {
      case "POST":
        if (body.length > limits.maxMessageBytes) {
          return json(413, { message: `Message too long. Max bytes allowed: ${limits.maxMessageBytes}` }, "PayloadTooLargeException");
        }
        // Not queued means the connection is gone now (dropped for not reading): as AWS would, say 410.
        if (!send(conn, body)) return json(410, {}, "GoneException");
        return { status: 200, headers: {}, body: "" };
      case "GET":
        return json(200, {
          connectedAt: new Date(conn.facts.connectedAt).toISOString(),
          identity: { sourceIp: conn.facts.sourceIp, userAgent: conn.facts.userAgent ?? "" },
          lastActiveAt: new Date(conn.lastActiveAt).toISOString(),
        });
      case "DELETE":
        end(conn, 1000, "");
        return { status: 204, headers: {}, body: "" };
      default:
        return json(403, { message: "Forbidden" }, "ForbiddenException");
    }
  }

  const connectionsWire: WireAdapter = {
    signingName: "execute-api",
    handle: (req: WireRequest) => Promise.resolve(connectionsApi(req.method, req.path, req.body)),
  };

  return {
    handleUpgrade(req, socket, head) {
      void upgrade(req, socket, head).catch((err: unknown) => {
        log(`upgrade failed: ${err instanceof Error ? err.message : String(err)}`);
        refuse(socket, 500, JSON.stringify({ message: "Internal server error" }));
      });
    },
    handleRequest(req, res) {
      const path = new URL(req.url ?? "/", "http://local").pathname;
      if (!parseConnectionsPath(path)) return false;
      void (async () => {
        try {
          const body = await readBody(req, BODY_LIMIT);
          sendWire(res, await connectionsWire.handle(toWireRequest(req, body)));
        } catch {
          sendWire(res, json(413, { message: "Request too large" }, "PayloadTooLargeException"));
        }
      })();
      return true;
    },
    connectionsWire,
    connections: () =>
      [...open.values()].map((c) => ({
        connectionId: c.facts.connectionId,
        apiId: c.facts.apiId,
        stage: c.facts.stage,
        connectedAt: c.facts.connectedAt,
        lastActiveAt: c.lastActiveAt,
        sourceIp: c.facts.sourceIp,
        userAgent: c.facts.userAgent,
      })),
    async close() {
      closing = true;
      const conns = [...open.values()];
      for (const conn of conns) {
        conn.endedBy ??= { code: 1001, reason: "Going away" };
        open.delete(conn.facts.connectionId);
        conn.ws.terminate(); // no close handshake to wait for; "close", hence $disconnect, follows
      }
      await Promise.all(conns.map((c) => c.closed));
      for (const socket of pendingSockets) socket.destroy();
      // $disconnect handlers may themselves call @connections or take a moment; wait for all of them.
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      wss.close();
    },
  };
}
