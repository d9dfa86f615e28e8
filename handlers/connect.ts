import { createHash, timingSafeEqual } from "node:crypto";
import { itemClient } from "./lib/dynamodb-items.js";
import { tableName } from "./lib/env.js";
import { jsonResult, type ProxyResult, type WebSocketEvent } from "./lib/event.js";
import { errorFields, logEvent, since } from "./lib/log.js";

/** API Gateway closes a WebSocket connection after two hours at most; the TTL follows it. */
export const CONNECTION_TTL_SECONDS = 2 * 60 * 60;

function sameSecret(given: string, expected: string): boolean {
  // Compare digests: equal length always, and no early exit that leaks the token's prefix.
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

export async function handler(event: WebSocketEvent): Promise<ProxyResult> {
  const started = performance.now();
  const ctx = event.requestContext;
  const base = { route: ctx.routeKey || "$connect", connectionId: ctx.connectionId };
  const requiredToken = process.env.CHAT_REQUIRE_TOKEN;
  if (requiredToken) {
    const token = event.queryStringParameters?.token;
    if (!token || !sameSecret(token, requiredToken)) {
      const statusCode = token ? 403 : 401;
      logEvent({ level: "warn", ...base, rejected: statusCode, reason: token ? "wrong token" : "no token", durationMs: since(started) });
      return jsonResult(statusCode, { message: token ? "Forbidden" : "Unauthorized" });
    }
  }
  try {
    const now = Date.now();
    const sourceIp = ctx.identity?.sourceIp;
    const userAgent = ctx.identity?.userAgent;
    await itemClient().putItem({
      TableName: tableName("connections"),
      Item: {
        connectionId: { S: ctx.connectionId },
        connectedAt: { N: String(now) },
        expiresAt: { N: String(Math.floor(now / 1000) + CONNECTION_TTL_SECONDS) },
        ...(sourceIp ? { sourceIp: { S: sourceIp } } : {}),
        ...(userAgent ? { userAgent: { S: userAgent } } : {}),
      },
    });
    logEvent({ level: "info", ...base, stored: 1, durationMs: since(started) });
    return jsonResult(200, { message: "Connected" });
  } catch (err) {
    logEvent({ level: "error", ...base, ...errorFields(err), durationMs: since(started) });
    throw err;
  }
}
