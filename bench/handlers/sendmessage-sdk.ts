// The baseline for bench/fanout.mjs: sendmessage as most AWS samples write it.
// One SDK ApiGatewayManagementApiClient, one PostToConnectionCommand per
// connection, all posts at once with Promise.all, then a receipt to the sender
// in the same shape as handlers/sendmessage.ts's so the bench client reads both.
import { DynamoDBClient, ScanCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import { ApiGatewayManagementApiClient, GoneException, PostToConnectionCommand } from "@aws-sdk/client-apigatewaymanagementapi";
import type { ProxyResult, WebSocketEvent } from "../../handlers/lib/event.js";

const db = new DynamoDBClient({});
let management: { endpoint: string; client: ApiGatewayManagementApiClient } | undefined;

// The same endpoint rule as the default handlers (the environment's endpoint leads),
// so both variants post over the same plain-HTTP loopback path.
function managementClient(event: WebSocketEvent): ApiGatewayManagementApiClient {
  const ctx = event.requestContext;
  const endpoint = process.env.AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI || process.env.AWS_ENDPOINT_URL || `https://${ctx.domainName}/${ctx.stage}`;
  if (!management || management.endpoint !== endpoint) management = { endpoint, client: new ApiGatewayManagementApiClient({ endpoint }) };
  return management.client;
}

async function connectionIds(table: string): Promise<string[]> {
  const ids: string[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await db.send(new ScanCommand({ TableName: table, ProjectionExpression: "connectionId", ...(start ? { ExclusiveStartKey: start } : {}) }));
    for (const item of page.Items ?? []) if (item.connectionId?.S) ids.push(item.connectionId.S);
    start = page.LastEvaluatedKey;
  } while (start);
  return ids;
}

export async function handler(event: WebSocketEvent): Promise<ProxyResult> {
  const table = process.env.TABLE_CONNECTIONS ?? process.env.TABLE_NAME ?? "";
  const ctx = event.requestContext;
  const parsed: unknown = JSON.parse(event.body ?? "{}");
  const message = typeof parsed === "object" && parsed !== null ? (parsed as { message?: unknown }).message : undefined;
  const data = JSON.stringify({ type: "message", from: ctx.connectionId, message, sentAt: Date.now() });
  const client = managementClient(event);
  const ids = await connectionIds(table);
  let delivered = 0;
  let gone = 0;
  let failed = 0;
  await Promise.all(
    ids.map(async (id) => {
      try {
        await client.send(new PostToConnectionCommand({ ConnectionId: id, Data: data }));
        delivered++;
      } catch (err) {
        if (err instanceof GoneException) gone++;
        else failed++;
      }
    }),
  );
  const receipt = { type: "sent", delivered, recipients: ids.length, gone, failed };
  await client.send(new PostToConnectionCommand({ ConnectionId: ctx.connectionId, Data: JSON.stringify(receipt) })).catch(() => undefined);
  return { statusCode: 200, body: JSON.stringify(receipt) };
}
