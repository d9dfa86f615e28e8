import { createHmac, timingSafeEqual } from "node:crypto";
import { errorFields, logEvent, since } from "./lib/log.js";

// A Lambda REQUEST authorizer for $connect, checking a short-lived ticket.
//
// Browsers cannot set headers on a WebSocket, so the ticket travels in the query
// string (?ticket=...), and query strings end up in access logs and proxies' logs.
// Hence a ticket, not a session token: your HTTP backend (where the user is already
// signed in) issues `<user>.<expires epoch seconds>.<HMAC-SHA256 of "user.expires">`,
// valid for a minute, and the client connects with it at once. A leaked ticket is
// worth nothing a minute later. CHAT_TICKET_SECRET is shared by the issuer and this
// function (better kept in SSM/Secrets Manager than in chat.yaml).
//
// The answer is an IAM policy: Allow execute-api:Invoke on the $connect route's ARN
// lets the connection in; principalId and `context` reach requestContext.authorizer
// of $connect and of every later message of the connection.

export interface AuthorizerEvent {
  readonly type: "REQUEST";
  readonly methodArn: string;
  readonly queryStringParameters?: Readonly<Record<string, string | undefined>> | null;
  readonly headers?: Readonly<Record<string, string | undefined>> | null;
  readonly requestContext: { readonly connectionId: string; readonly routeKey: string };
}

export interface AuthorizerResult {
  principalId: string;
  policyDocument: { Version: "2012-10-17"; Statement: { Action: string; Effect: "Allow" | "Deny"; Resource: string }[] };
  context?: Record<string, string | number | boolean>;
}

/** A ticket may be at most this far in the future: the issuer's clock, plus its one-minute lifetime. */
export const MAX_TICKET_SECONDS = 5 * 60;

export function signTicket(user: string, expiresAt: number, secret: string): string {
  const payload = `${user}.${expiresAt}`;
  return `${payload}.${createHmac("sha256", secret).update(payload).digest("base64url")}`;
}

/** The user a ticket names, when its signature is right and it has not expired; else undefined. */
export function verifyTicket(ticket: string, secret: string, nowSeconds: number): string | undefined {
  const m = /^([A-Za-z0-9_@.-]{1,128})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(ticket);
  if (!m) return undefined;
  const [, user = "", expires = "", signature = ""] = m;
  const expected = createHmac("sha256", secret).update(`${user}.${expires}`).digest();
  const given = Buffer.from(signature, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  const expiresAt = Number(expires);
  if (expiresAt <= nowSeconds || expiresAt > nowSeconds + MAX_TICKET_SECONDS) return undefined;
  return user;
}

function policy(principalId: string, effect: "Allow" | "Deny", resource: string, context?: AuthorizerResult["context"]): AuthorizerResult {
  return {
    principalId,
    policyDocument: { Version: "2012-10-17", Statement: [{ Action: "execute-api:Invoke", Effect: effect, Resource: resource }] },
    ...(context ? { context } : {}),
  };
}

export async function handler(event: AuthorizerEvent): Promise<AuthorizerResult> {
  const started = performance.now();
  const base = { route: "authorizer", connectionId: event.requestContext.connectionId };
  const secret = process.env.CHAT_TICKET_SECRET;
  if (!secret) {
    // A misconfigured authorizer must fail closed: an error is a 500, never a connection.
    logEvent({ level: "error", ...base, ...errorFields(new Error("CHAT_TICKET_SECRET is not set")), durationMs: since(started) });
    throw new Error("authorizer is not configured");
  }
  const ticket = event.queryStringParameters?.ticket ?? "";
  const user = verifyTicket(ticket, secret, Math.floor(Date.now() / 1000));
  // Never log the ticket itself.
  logEvent({ level: user ? "info" : "warn", ...base, allowed: user !== undefined, durationMs: since(started) });
  if (!user) return policy("anonymous", "Deny", event.methodArn);
  return policy(user, "Allow", event.methodArn, { user, issuedBy: "ticket" });
}
