import type { IncomingHttpHeaders } from "node:http";
import type { WireAdapter } from "../service.js";
import type { HandshakeFacts } from "./events.js";
import { parseConnectionsPath } from "../wire/connections.js";

/**
 * What the data plane tells whoever watches it (the dev console), beyond the
 * connections' lives, which the ConnectionsModel's `subscribe` reports: each
 * $connect verdict, each incoming message and what became of it, each call to
 * the @connections API with who made it. Every method runs on the hot path of
 * a message, so an implementation must only record: no I/O, no waiting.
 */
export interface GatewayObserver {
  /** A handshake decided: accepted (status 200), or refused with `status` ($connect, or no such stage). */
  connect(c: ObservedConnect): void;
  /** One incoming frame and what became of it. */
  message(m: ObservedMessage): void;
  /** A call to the @connections API: POST (a message out), DELETE (a kick) or GET. */
  managed(m: ObservedManagement): void;
}

export interface ObservedConnect {
  readonly connectionId: string;
  readonly apiId: string;
  readonly stage: string;
  readonly at: number;
  readonly sourceIp: string;
  readonly userAgent: string | undefined;
  /** "?token=abc" as the client sent it, or "". */
  readonly query: string;
  readonly status: number;
  /** The $connect function and how long it took, when there is one. */
  readonly function: string | undefined;
  readonly durationMs: number | undefined;
}

export interface ObservedMessage {
  readonly connectionId: string;
  readonly at: number;
  readonly bytes: number;
  /** The first bytes of the frame as text (the whole frame when short). */
  readonly preview: string;
  readonly routeKey: string | undefined;
  readonly function: string | undefined;
  readonly durationMs: number | undefined;
  /** "ok", the error frame's message sent back ("Forbidden", "Internal server error"...), or "throttled". */
  readonly outcome: string;
}

export interface ObservedManagement {
  readonly connectionId: string;
  readonly at: number;
  readonly method: string;
  readonly status: number;
  readonly bytes: number;
  readonly preview: string;
  /** Which function called, when the caller is one of the local functions (or "console"). */
  readonly caller: string | undefined;
}

export const PREVIEW_BYTES = 2048;

/** The handshake's query string as observers show it: "?a=1&b=2", or "". */
export function queryOf(h: HandshakeFacts): string {
  return h.query.size > 0 ? `?${h.query.toString()}` : "";
}
export const SESSION_TOKEN_PREFIX = "chatctl-local-cloud-session/";

/**
 * The local runner gives each function its own session token
 * ("chatctl-local-cloud-session/{functionName}"), which the SDK sends with every
 * signed call: that is how a PostToConnection is traced to the function that made it.
 * Unsigned calls may name themselves with x-chatctl-caller (the console page does).
 */
export function callerOf(headers: IncomingHttpHeaders): string | undefined {
  const token = headers["x-amz-security-token"];
  if (typeof token === "string" && token.startsWith(SESSION_TOKEN_PREFIX)) return token.slice(SESSION_TOKEN_PREFIX.length) || undefined;
  const named = headers["x-chatctl-caller"];
  return typeof named === "string" && named.length > 0 && named.length <= 64 ? named : undefined;
}

/**
 * The @connections wire adapter, reporting each call with its caller and
 * answer. At the wire rather than in the model: only the request carries who
 * called (the session token) and what status the caller got.
 */
export function observedConnectionsWire(wire: WireAdapter, observer: GatewayObserver, now: () => number = Date.now): WireAdapter {
  return {
    ...wire,
    async handle(req) {
      const out = await wire.handle(req);
      const id = parseConnectionsPath(req.path)?.id;
      if (id !== undefined) {
        const posted = req.method === "POST";
        observer.managed({
          connectionId: id,
          at: now(),
          method: req.method,
          status: out.status,
          bytes: posted ? req.body.length : 0,
          preview: posted ? req.body.toString("utf8", 0, PREVIEW_BYTES) : "",
          caller: callerOf(req.headers),
        });
      }
      return out;
    },
  };
}
