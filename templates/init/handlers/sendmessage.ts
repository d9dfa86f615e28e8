import { ApiGatewayManagementApiClient, GoneException, PostToConnectionCommand } from "@aws-sdk/client-apigatewaymanagementapi";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, DynamoDBDocumentClient, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { bodyText, type Result, type WebSocketEvent } from "./event.js";

const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));

// {"action":"sendmessage","message":"hi"} is sent to every connection as
// {"type":"message","from":<connection id>,"message":"hi","sentAt":<ms>}; the sender then gets
// {"type":"sent","delivered":n,"recipients":n,"gone":n,"failed":n}.
export const handler = async (event: WebSocketEvent): Promise<Result> => {
  const { connectionId, domainName, stage } = event.requestContext;
  const api = new ApiGatewayManagementApiClient({ endpoint: `https://${domainName}/${stage}` });
  const post = (to: string, data: unknown) => api.send(new PostToConnectionCommand({ ConnectionId: to, Data: JSON.stringify(data) }));

  let message: unknown;
  try {
    message = (JSON.parse(bodyText(event)) as { message?: unknown }).message;
  } catch {
    message = undefined;
  }
  if (typeof message !== "string") {
    const error = { type: "error", code: "InvalidMessage", message: 'send {"action":"sendmessage","message":"..."}' };
    await post(connectionId, error);
    return { statusCode: 400, body: JSON.stringify(error) };
  }

  const outgoing = { type: "message", from: connectionId, message, sentAt: Date.now() };
  const receipt = { type: "sent", delivered: 0, recipients: 0, gone: 0, failed: 0 };
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.send(new ScanCommand({ TableName: process.env.TABLE_NAME, ProjectionExpression: "connectionId", ExclusiveStartKey: startKey }));
    startKey = page.LastEvaluatedKey;
    await Promise.all(
      (page.Items ?? []).map(async (item) => {
        const to = String(item.connectionId);
        receipt.recipients++;
        try {
          await post(to, outgoing);
          receipt.delivered++;
        } catch (err) {
          if (!(err instanceof GoneException)) {
            receipt.failed++;
            console.error(`could not post to ${to}:`, err);
            return;
          }
          // 410: the client left without a $disconnect reaching us yet.
          receipt.gone++;
          await db.send(new DeleteCommand({ TableName: process.env.TABLE_NAME, Key: { connectionId: to } }));
        }
      }),
    );
  } while (startKey);

  await post(connectionId, receipt).catch(() => undefined); // the sender may have left meanwhile
  return { statusCode: 200, body: JSON.stringify(receipt) };
};
