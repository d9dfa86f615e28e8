import { ApiGatewayManagementApiClient, PostToConnectionCommand } from "@aws-sdk/client-apigatewaymanagementapi";
import type { Result, WebSocketEvent } from "./event.js";

// Any message whose "action" names no route comes here: tell the sender what it can send.
export const handler = async (event: WebSocketEvent): Promise<Result> => {
  const { connectionId, domainName, stage } = event.requestContext;
  const api = new ApiGatewayManagementApiClient({ endpoint: `https://${domainName}/${stage}` });
  const answer = { type: "error", message: 'unknown action: send JSON like {"action":"sendmessage","message":"..."}', actions: ["sendmessage"] };
  await api.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: JSON.stringify(answer) }));
  return { statusCode: 200, body: JSON.stringify(answer) };
};
