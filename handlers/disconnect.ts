import { itemClient } from "./lib/dynamodb-items.js";
import { tableName } from "./lib/env.js";
import { jsonResult, type ProxyResult, type WebSocketEvent } from "./lib/event.js";
import { errorFields, logEvent, since } from "./lib/log.js";

export async function handler(event: WebSocketEvent): Promise<ProxyResult> {
  const started = performance.now();
  const ctx = event.requestContext;
  const base = { route: ctx.routeKey || "$disconnect", connectionId: ctx.connectionId };
  try {
    // Deleting an absent item succeeds in DynamoDB: a connection a broadcast already
    // removed as gone disconnects quietly.
    const out = await itemClient().deleteItem({ TableName: tableName("connections"), Key: { connectionId: { S: ctx.connectionId } }, ReturnValues: "ALL_OLD" });
    logEvent({ level: "info", ...base, deleted: out.Attributes ? 1 : 0, durationMs: since(started) });
    return jsonResult(200, { message: "Disconnected" });
  } catch (err) {
    logEvent({ level: "error", ...base, ...errorFields(err), durationMs: since(started) });
    throw err;
  }
}
