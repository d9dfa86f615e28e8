import { randomBytes } from "node:crypto";

/**
 * Ids shaped like API Gateway's ("L0SM9cOFvHcCIhw="): base64 of 11 bytes. "+" and
 * "/" are swapped for letters because the id travels in URL paths
 * (/@connections/{id}) and handlers rarely encode it.
 */
export function gatewayId(): string {
  if (poolAt + ID_BYTES > pool.length) {
    pool = randomBytes(ID_BYTES * IDS_PER_DRAW);
    poolAt = 0;
  }
  const id = pool.toString("base64", poolAt, poolAt + ID_BYTES);
  poolAt += ID_BYTES;
  return id.replace(SWAPPED, (c) => (c === "+" ? "P" : "S"));
}

// Every handshake draws two ids (the connection's and its $connect's request id): one
// draw from the CSPRNG per 64 ids instead of one per id. Each id still uses its own bytes.
const ID_BYTES = 11;
const IDS_PER_DRAW = 64;
const SWAPPED = /[+/]/g;
let pool = Buffer.alloc(0);
let poolAt = 0;

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** API Gateway's requestTime: "09/Feb/2026:12:34:56 +0000". */
export function requestTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number): string => String(n).padStart(2, "0");
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

// "$request.body.action", "$request.body.meta.action", "${request.body.action}"
const BODY_REF = /\$\{request\.body\.([A-Za-z0-9_$.-]+)\}|\$request\.body\.([A-Za-z0-9_$.-]+)/g;

function valueAt(root: unknown, path: string): string | undefined {
  let value = root;
  for (const key of path.split(".")) {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

/**
 * The route key a message selects, or undefined (then $default applies): the
 * API's selection expression evaluated against the JSON body. A body that is
 * not a JSON object, or lacks a referenced field, selects nothing.
 */
export function selectRouteKey(expression: string, body: string | undefined): string | undefined {
  if (body === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
  let missing = false;
  let matched = false;
  const key = expression.replace(BODY_REF, (_whole, braced: string | undefined, bare: string | undefined) => {
    matched = true;
    const value = valueAt(parsed, braced ?? bare ?? "");
    if (value === undefined) missing = true;
    return value ?? "";
  });
  return matched && !missing ? key : undefined;
}

export interface ConnectionFacts {
  readonly apiId: string;
  readonly stage: string;
  readonly connectionId: string;
  readonly connectedAt: number;
  readonly domainName: string;
  readonly sourceIp: string;
  readonly userAgent: string | undefined;
  /**
   * requestContext.authorizer: principalId and the context $connect's authorizer
   * returned, kept with the connection so every later route sees it too.
   */
  readonly authorizer?: Readonly<Record<string, unknown>>;
}

function requestContext(
  c: ConnectionFacts,
  routeKey: string,
  eventType: "CONNECT" | "MESSAGE" | "DISCONNECT",
  now: number,
  requestId: string,
): Record<string, unknown> {
  return {
    routeKey,
    eventType,
    extendedRequestId: requestId,
    requestTime: requestTime(now),
    messageDirection: "IN",
    stage: c.stage,
    connectedAt: c.connectedAt,
    requestTimeEpoch: now,
    identity: { sourceIp: c.sourceIp, ...(c.userAgent === undefined ? {} : { userAgent: c.userAgent }) },
    requestId,
    domainName: c.domainName,
    connectionId: c.connectionId,
    apiId: c.apiId,
    ...(c.authorizer !== undefined ? { authorizer: { ...c.authorizer } } : {}),
  };
}

export interface HandshakeFacts {
  /** Single-valued headers, names as the client spelled them; repeated ones joined with ",". */
  readonly headers: Record<string, string>;
  readonly multiValueHeaders: Record<string, string[]>;
  readonly query: URLSearchParams;
}

export function connectEvent(c: ConnectionFacts, h: HandshakeFacts, now: number, requestId: string): Record<string, unknown> {
  const event: Record<string, unknown> = { headers: h.headers, multiValueHeaders: h.multiValueHeaders };
  if ([...h.query.keys()].length > 0) {
    const single: Record<string, string> = {};
    const multi: Record<string, string[]> = {};
    for (const [k, v] of h.query) {
      single[k] = v; // the last value wins, as in API Gateway
      (multi[k] ??= []).push(v);
    }
    event.queryStringParameters = single;
    event.multiValueQueryStringParameters = multi;
  }
  event.requestContext = requestContext(c, "$connect", "CONNECT", now, requestId);
  event.isBase64Encoded = false;
  return event;
}

export function messageEvent(
  c: ConnectionFacts,
  routeKey: string,
  body: Buffer,
  isBinary: boolean,
  now: number,
  requestId: string,
  messageId: string,
): Record<string, unknown> {
  return {
    requestContext: { ...requestContext(c, routeKey, "MESSAGE", now, requestId), messageId },
    body: isBinary ? body.toString("base64") : body.toString("utf8"),
    isBase64Encoded: isBinary,
  };
}

export function disconnectEvent(
  c: ConnectionFacts,
  h: HandshakeFacts,
  code: number,
  reason: string,
  now: number,
  requestId: string,
): Record<string, unknown> {
  const host = h.headers.Host ?? h.headers.host ?? c.domainName;
  const headers: Record<string, string> = { Host: host, "X-Forwarded-For": c.sourceIp };
  return {
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    requestContext: { ...requestContext(c, "$disconnect", "DISCONNECT", now, requestId), disconnectStatusCode: code, disconnectReason: reason },
    isBase64Encoded: false,
  };
}

/** An error frame as API Gateway sends it to the client. */
export function errorFrame(message: string, connectionId: string, requestId: string): string {
  return JSON.stringify({ message, connectionId, requestId });
}
