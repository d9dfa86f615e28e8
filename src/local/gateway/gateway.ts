import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer, type RawData } from "ws";
import { ConnectionsModel, type ConnectionInfo } from "../models/connections.js";
import type { ApiView, GatewayDirectory, InvokeFunction } from "./directory.js";
import { errorFrame, gatewayId, type ConnectionFacts, type HandshakeFacts } from "./events.js";
import { guardFrames } from "./frames.js";
import type { SignedRequest } from "./sigv4.js";
import { lambdaProxyIntegration } from "./integration.js";
import { PREVIEW_BYTES, queryOf, type GatewayObserver } from "./observer.js";
import { API_GATEWAY_LIMITS, type Limits } from "./limits.js";
import { createRoutes } from "./routing.js";
import { sendMessage } from "./sending.js";
import { isWebSocketHandshake, newConnection, refuse, targetOf } from "./upgrade.js";
import { connectAuthorization } from "./authorization.js";
import { accessLogger, stageThrottle } from "./stage-limits.js";

export { API_GATEWAY_LIMITS, type Limits } from "./limits.js";
export type { ConnectionInfo } from "../models/connections.js";

export interface GatewayOptions {
  readonly directory: GatewayDirectory;
  readonly invoke: InvokeFunction;
  /** The @connections model the gateway's connections are registered with; a new one when absent. */
  readonly connections?: ConnectionsModel;
  readonly limits?: Partial<Limits>;
  readonly now?: () => number;
  readonly logger?: (line: string) => void;
  /** Told of each $connect verdict and each message (the dev console); connections themselves: the model's subscribe. */
  readonly observer?: GatewayObserver;
  /** The region the APIs live in: SigV4 scope of IAM-authorized connections, and requestContext.domainName `{apiId}.execute-api.{region}.amazonaws.com` as on AWS. */
  readonly region?: string;
  /** The secret of an access key, for IAM authorization; undefined: unknown key (403). */
  readonly secretFor?: (accessKeyId: string) => string | undefined;
  /** Where a stage with access logging writes its lines (the local Logs model). */
  readonly accessLog?: (destinationArn: string, line: string, at: number) => void;
}

export interface Gateway {
  /** For `server.on("upgrade", ...)`: WebSocket at `/{stage}` or `/{apiId}/{stage}`. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** The @connections model: serve it with `connectionsWire`, observe it with `subscribe`. */
  readonly connectionsModel: ConnectionsModel;
  connections(): ConnectionInfo[];
  /** Closes every connection (each gets its $disconnect) and waits for those invocations. */
  close(): Promise<void>;
}

interface Connection {
  readonly facts: ConnectionFacts;
  readonly ws: WebSocket;
  /** Resolves once "close" has fired and the $disconnect invocation is under way. */
  readonly closed: Promise<void>;
  tokens: number;
  tokensAt: number;
  /** Set when we end the connection, so $disconnect reports our reason, not the echo. */
  endedBy: { code: number; reason: string } | undefined;
  readonly timers: NodeJS.Timeout[];
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** The close code `ws` sends after a protocol error (1002, 1007 invalid UTF-8, 1008, 1009 too big). */
function closeCodeOf(err: Error & { code?: string }): number {
  const symbol = Object.getOwnPropertySymbols(err).find((s) => s.description === "status-code");
  const carried = symbol ? (err as unknown as Record<symbol, unknown>)[symbol] : undefined;
  if (typeof carried === "number") return carried;
  if (err.code === "WS_ERR_INVALID_UTF8") return 1007;
  return err.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH" ? 1009 : 1002;
}

const message = (text: string): string => JSON.stringify({ message: text });

/** The upgrade request as SigV4 reads it: method, the path still encoded, query, lower-case headers. */
function signedRequestOf(req: IncomingMessage, url: URL): SignedRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(",") : v;
  return { method: req.method ?? "GET", rawPath: (req.url ?? "/").split("?")[0] ?? "/", query: url.searchParams, headers };
}

/**
 * API Gateway's WebSocket data plane: the upgrade (with $connect deciding),
 * route selection and Lambda-proxy events, $disconnect, and the service
 * limits. It keeps the sockets; the connections themselves, and the
 * @connections calls on them, are the ConnectionsModel's.
 */
export function createGateway(options: GatewayOptions): Gateway {
  const limits: Limits = { ...API_GATEWAY_LIMITS, ...options.limits };
  const now = options.now ?? Date.now;
  const log = options.logger ?? ((): void => undefined);
  const model = options.connections ?? new ConnectionsModel({ maxPostBytes: limits.maxMessageBytes, now });
  const observer = options.observer;
  const access = accessLogger(options.accessLog, now, log);
  const throttle = stageThrottle(now);
  const routes = createRoutes(options.directory, lambdaProxyIntegration(options.invoke, limits.integrationTimeoutMs, log), now, log, { throttle, access, ...(observer ? { observer } : {}) });
  const authorize = connectAuthorization({
    integrate: lambdaProxyIntegration(options.invoke, limits.authorizerTimeoutMs, log),
    region: options.region ?? "us-east-1",
    secretFor: options.secretFor ?? ((): undefined => undefined),
    now,
    log,
  });
  const live = new Set<Connection>();
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

  /** From now on @connections answers 410 for it; its $disconnect reports `code` and `reason` unless told otherwise before. */
  function ending(conn: Connection, code: number, reason: string): void {
    conn.endedBy ??= { code, reason };
    model.disconnect(conn.facts.connectionId, conn.endedBy.code, conn.endedBy.reason);
  }

  /** False when the message was not queued: the connection is not open, or it is dropped now for not reading. */
  function send(conn: Connection, data: Buffer | string): boolean {
    const result = sendMessage(conn.ws, data, limits.maxFrameBytes, limits.maxSendBufferBytes);
    if (result !== "overflow") return result === "queued";
    log(`${conn.facts.connectionId}: dropped, ${conn.ws.bufferedAmount} bytes unread (limit ${limits.maxSendBufferBytes})`);
    // A close frame would queue behind what the client is not reading: cut the socket instead.
    ending(conn, 1006, "Slow consumer: send buffer full");
    conn.ws.terminate();
    return false;
  }

  function end(conn: Connection, code: number, reason: string): void {
    ending(conn, code, reason);
    if (conn.ws.readyState === WebSocket.OPEN) conn.ws.close(code, reason);
    else conn.ws.terminate();
  }

  function allowMessage(conn: Connection, at: number): boolean {
    const refill = ((at - conn.tokensAt) / 1000) * limits.messagesPerSecond;
    conn.tokens = Math.min(limits.messageBurst, conn.tokens + refill);
    conn.tokensAt = at;
    if (conn.tokens < 1) return false;
    conn.tokens -= 1;
    return true;
  }

  async function onMessage(conn: Connection, data: RawData, isBinary: boolean): Promise<void> {
    const at = now();
    const id = conn.facts.connectionId;
    model.touch(id, at);
    conn.timers[0]?.refresh();
    const requestId = gatewayId();
    if (isBinary) {
      if (observer) observeDropped(id, at, toBuffer(data), "Binary frames are not supported");
      // API Gateway takes text frames only: "If a client app sends a binary frame, API Gateway
      // rejects it and disconnects the client with code 1003" (WebSocket binary media types).
      end(conn, 1003, "Binary frames are not supported");
      return;
    }
    if (!allowMessage(conn, at)) {
      if (observer) observeDropped(id, at, toBuffer(data), "throttled");
      send(conn, errorFrame("Too Many Requests", id, requestId));
      return;
    }
    const failed = await routes.message(conn.facts, toBuffer(data), requestId);
    if (failed !== undefined) send(conn, errorFrame(failed, id, requestId));
  }

  /** A frame the gateway itself turned away, before any route. */
  function observeDropped(connectionId: string, at: number, body: Buffer, outcome: string): void {
    const preview = outcome === "throttled" ? body.toString("utf8", 0, PREVIEW_BYTES) : `(binary, ${body.length} bytes)`;
    observer?.message({ connectionId, at, bytes: body.length, preview, routeKey: undefined, function: undefined, durationMs: undefined, outcome });
  }

  function onOpen(ws: WebSocket, facts: ConnectionFacts, handshake: HandshakeFacts, socket: Duplex): void {
    const at = now();
    let markClosed = (): void => undefined;
    const closed = new Promise<void>((resolve) => (markClosed = resolve));
    const conn: Connection = { facts, ws, closed, tokens: limits.messageBurst, tokensAt: at, endedBy: undefined, timers: [] };
    const idle = setTimeout(() => {
      log(`${facts.connectionId}: closed 1001, idle for ${Math.round(limits.idleTimeoutMs / 1000)} s (API Gateway's idle timeout)`);
      end(conn, 1001, "Going away");
    }, limits.idleTimeoutMs);
    const lifetime = setTimeout(() => {
      log(`${facts.connectionId}: closed 1001, open for ${Math.round(limits.maxConnectionMs / 60_000)} min (API Gateway's connection duration limit)`);
      end(conn, 1001, "Going away");
    }, limits.maxConnectionMs);
    idle.unref();
    lifetime.unref();
    conn.timers.push(idle, lifetime);
    live.add(conn);
    model.connect(
      {
        connectionId: facts.connectionId,
        apiId: facts.apiId,
        stage: facts.stage,
        connectedAt: facts.connectedAt,
        sourceIp: facts.sourceIp,
        userAgent: facts.userAgent,
        ...(facts.authorizer !== undefined ? { authorizer: facts.authorizer } : {}),
        ...(observer ? { query: queryOf(handshake) } : {}),
      },
      { send: (data) => send(conn, data), close: () => end(conn, 1000, "") },
    );
    model.touch(facts.connectionId, at);

    guardFrames(socket, limits.maxFrameBytes, () => {
      log(`${facts.connectionId}: closed 1009, a frame over ${Math.round(limits.maxFrameBytes / 1024)} KB (API Gateway's frame limit)`);
      ending(conn, 1009, "Message too big");
      if (ws.readyState === WebSocket.OPEN) ws.close(1009, "Message too big");
      socket.end(); // the close handshake cannot finish: we no longer read the client's frames
    });
    ws.on("message", (data, isBinary) => void track(onMessage(conn, data, isBinary)));
    ws.on("ping", () => {
      model.touch(facts.connectionId, now());
      idle.refresh();
    });
    ws.on("error", (err: Error & { code?: string }) => {
      // ws closes the connection itself after a protocol error; remember why.
      const code = closeCodeOf(err);
      if (code === 1009) log(`${facts.connectionId}: closed 1009, a message over ${Math.round(limits.maxMessageBytes / 1024)} KB (API Gateway's message limit)`);
      conn.endedBy ??= { code, reason: code === 1009 ? "Message too big" : err.message };
    });
    ws.once("close", (code: number, reason: Buffer) => {
      for (const t of conn.timers) clearTimeout(t);
      live.delete(conn);
      const why = (conn.endedBy ??= { code, reason: reason.toString("utf8") });
      model.disconnect(facts.connectionId, why.code, why.reason);
      void track(routes.disconnect(facts, handshake, why.code, why.reason));
      markClosed();
    });
  }

  /** A handshake refused before $connect ran (no such stage, throttled, not authorized), as the console shows it. */
  function observeRefusal(facts: ConnectionFacts, handshake: HandshakeFacts, status: number, connectionId: string): void {
    observer?.connect({ ...facts, connectionId, at: facts.connectedAt, query: queryOf(handshake), status, function: undefined, durationMs: undefined });
  }

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on("error", () => undefined); // a client vanishing mid-handshake is not our error
    if (closing) return refuse(socket, 503, message("Service Unavailable"));
    const url = new URL(req.url ?? "/", "http://local");
    if (!isWebSocketHandshake(req)) return refuse(socket, 400, message("Bad Request"));
    const target = targetOf(url.pathname);
    let api: ApiView | undefined;
    try {
      api = target ? await options.directory.resolve(target) : undefined;
    } catch (err) {
      log(`upgrade ${url.pathname}: ${err instanceof Error ? err.message : String(err)}`);
      return refuse(socket, 500, message("Internal server error"));
    }
    if (!api) {
      log(target ? `no deployed API serves ${url.pathname} (a stage shared by two APIs needs /{apiId}/{stage}): 403` : `no API serves ${url.pathname}: 403 (WebSocket URLs are /{apiId}/{stage})`);
      if (observer) {
        const { facts, handshake } = newConnection(req, url, { apiId: target?.apiId ?? "", stage: target?.stage ?? url.pathname, routeSelectionExpression: "", routes: new Map() }, now());
        observeRefusal(facts, handshake, 403, "");
      }
      return refuse(socket, 403, message("Forbidden"));
    }
    const fresh = newConnection(req, url, api, now(), options.region);
    const handshake = fresh.handshake;
    let facts = fresh.facts;
    const requestId = gatewayId();
    if (!throttle(api, "$connect")) {
      access(api, facts, { requestId, eventType: "CONNECT", routeKey: "$connect", status: 429, "error.message": "Too Many Requests" });
      if (observer) observeRefusal(facts, handshake, 429, facts.connectionId);
      return refuse(socket, 429, message("Too Many Requests"));
    }

    pendingSockets.add(socket);
    try {
      const admission = await authorize(api, facts, handshake, () => signedRequestOf(req, url), requestId);
      if (!admission.admit) {
        access(api, facts, { requestId, eventType: "CONNECT", routeKey: "$connect", status: admission.status, "error.message": admission.message, ...admission.log });
        if (observer) observeRefusal(facts, handshake, admission.status, facts.connectionId);
        return refuse(socket, admission.status, message(admission.message));
      }
      // Kept with the connection: every later route (and the ConnectionsModel) sees it.
      if (admission.authorizer !== undefined) facts = { ...facts, authorizer: admission.authorizer };
      const verdict = await routes.connect(api, facts, handshake, requestId);
      if (!verdict.accept) return refuse(socket, verdict.status, verdict.body);
      if (verdict.protocol) chosenProtocol.set(req, verdict.protocol);
      if (closing || socket.destroyed || !socket.readable || !socket.writable) {
        // $connect let it in, but the client left first: its handler may have stored the connection.
        if (api.routes.has("$connect")) void track(routes.disconnect(facts, handshake, 1006, "Connection closed abnormally"));
        socket.destroy();
        return;
      }
      const admitted = facts;
      wss.handleUpgrade(req, socket, head, (ws) => onOpen(ws, admitted, handshake, socket));
    } finally {
      pendingSockets.delete(socket);
    }
  }

  return {
    handleUpgrade(req, socket, head) {
      void upgrade(req, socket, head).catch((err: unknown) => {
        log(`upgrade failed: ${err instanceof Error ? err.message : String(err)}`);
        refuse(socket, 500, message("Internal server error"));
      });
    },
    connectionsModel: model,
    connections: () => model.list(),
    async close() {
      closing = true;
      const conns = [...live];
      for (const conn of conns) {
        ending(conn, 1001, "Going away");
        // Clients are told why (1001 Going Away, as API Gateway sends when it drops a
        // connection); one that does not answer the close frame is cut off after a second.
        conn.ws.close(1001, "Going away");
        setTimeout(() => conn.ws.terminate(), 1000).unref();
      }
      await Promise.all(conns.map((c) => c.closed));
      for (const socket of pendingSockets) socket.destroy();
      // $disconnect handlers may themselves call @connections or take a moment; wait for all of them.
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      wss.close();
    },
  };
}
