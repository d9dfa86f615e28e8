import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Result, WebSocketEvent } from "./event.js";

const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));

export const handler = async (event: WebSocketEvent): Promise<Result> => {
  await db.send(new DeleteCommand({ TableName: process.env.TABLE_NAME, Key: { connectionId: event.requestContext.connectionId } }));
  return { statusCode: 200, body: "Disconnected" };
};
