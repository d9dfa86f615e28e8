import type { IncomingHttpHeaders } from "node:http";

/**
 * What the data plane reports to whoever watches it (the dev console). Every
 * method runs on the hot path of a message, so an implementation must only
 * record: no I/O, no waiting.
 */
export interface GatewayObserver {
  connected(c: ObservedConnection): void;
  /** $connect (or the stage lookup) said no: the client got `status` instead of an upgrade. */
  refused(c: ObservedRefusal): void;
  disconnected(connectionId: string, code: number, reason: string, at: number): void;
  /** One incoming frame and what became of it. */
  message(m: ObservedMessage): void;
  /** A call to the @connections API: POST (a message out), DELETE (a kick) or GET. */
  managed(c: ObservedManagement): void;
}

export interface ObservedConnection {
  readonly connectionId: string;
  readonly apiId: string;
  readonly stage: string;
  readonly at: number;
  readonly sourceIp: string;
  readonly userAgent: string | undefined;
  /** "?token=abc", or "" without a query string. */
  readonly query: string;
  /** The $connect function and how long it took, when there is one. */
  readonly function: string | undefined;
  readonly durationMs: number | undefined;
}

export interface ObservedRefusal extends ObservedConnection {
  readonly status: number;
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

export const SESSION_TOKEN_PREFIX = "chatctl-local-cloud-session/";
