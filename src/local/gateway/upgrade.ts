import { STATUS_CODES, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import type { ApiTarget, ApiView } from "./directory.js";
import { gatewayId, type ConnectionFacts, type HandshakeFacts } from "./events.js";

// The WebSocket handshake as API Gateway reads it: which API and stage the URL
// names, who is connecting, what $connect's answer decides. No state here: the
// gateway runs the handshake and keeps the socket.

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

/** `/{stage}` or `/{apiId}/{stage}`; undefined for any other path. */
export function targetOf(pathname: string): ApiTarget | undefined {
  const segments = decodeSegments(pathname);
  if (segments?.length === 1 && segments[0]) return { stage: segments[0] };
  if (segments?.length === 2 && segments[1]) return { apiId: segments[0], stage: segments[1] };
  return undefined;
}

export function isWebSocketHandshake(req: IncomingMessage): boolean {
  return req.headers.upgrade?.toLowerCase() === "websocket" && typeof req.headers["sec-websocket-key"] === "string";
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

/** A new connection's facts (its id drawn now) and its handshake, as $connect and later events carry them. */
export function newConnection(req: IncomingMessage, url: URL, api: ApiView, now: number, region?: string): { facts: ConnectionFacts; handshake: HandshakeFacts } {
  const sourceIp = sourceIpOf(req);
  const ua = req.headers["user-agent"];
  const facts: ConnectionFacts = {
    apiId: api.apiId,
    stage: api.stage,
    connectionId: gatewayId(),
    connectedAt: now,
    // AWS's form, so `https://${domainName}/${stage}` is the API's own @connections endpoint
    // (the local runner sends that host name to the local cloud).
    domainName: region ? executeApiHost(api.apiId, region) : (req.headers.host ?? `127.0.0.1:${req.socket.localPort ?? ""}`),
    sourceIp,
    userAgent: typeof ua === "string" ? ua : undefined,
  };
  return { facts, handshake: { ...handshakeHeaders(req, sourceIp), query: url.searchParams } };
}

/** `{apiId}.execute-api.{region}.amazonaws.com`, the host API Gateway gives each API. */
export function executeApiHost(apiId: string, region: string): string {
  return `${apiId}.execute-api.${region}.${region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com"}`;
}

/** The status $connect's result answers the handshake with. */
export function statusCodeOf(value: unknown): number {
  if (typeof value === "object" && value !== null && "statusCode" in value) {
    const s = (value as { statusCode: unknown }).statusCode;
    const n = typeof s === "number" ? s : typeof s === "string" ? Number(s) : NaN;
    if (Number.isInteger(n) && n >= 100 && n <= 599) return n;
  }
  return 200; // a $connect handler that returns nothing (or no statusCode) accepts the connection
}

/** A header of $connect's result (the subprotocol it chose), any case. */
export function headerOf(value: unknown, name: string): string | undefined {
  if (typeof value !== "object" || value === null || !("headers" in value)) return undefined;
  const headers = (value as { headers: unknown }).headers;
  if (typeof headers !== "object" || headers === null) return undefined;
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name && typeof v === "string") return v;
  return undefined;
}

/** Answers the handshake with an HTTP error and closes the socket. */
export function refuse(socket: Duplex, status: number, body: string): void {
  if (socket.destroyed) return;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\n` +
      `Connection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
