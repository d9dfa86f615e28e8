import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { Result, WebSocketEvent } from "./event.js";

// The Lambda runtime provides the AWS SDK v3; clients made outside the handler are reused while the function stays warm.
const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));

// API Gateway closes a WebSocket connection after two hours; the item expires with it.
const TWO_HOURS = 2 * 60 * 60;

export const handler = async (event: WebSocketEvent): Promise<Result> => {
  const now = Math.floor(Date.now() / 1000);
  await db.send(
    new PutCommand({
      TableName: process.env.TABLE_NAME,
      Item: { connectionId: event.requestContext.connectionId, connectedAt: now, expiresAt: now + TWO_HOURS },
    }),
  );
  return { statusCode: 200, body: "Connected" };
};
