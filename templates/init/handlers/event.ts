// The part of API Gateway's WebSocket event these handlers read
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-mapping-template-reference.html).
export interface WebSocketEvent {
  readonly requestContext: {
    readonly connectionId: string;
    readonly routeKey: string;
    readonly domainName: string;
    readonly stage: string;
  };
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
}

export interface Result {
  readonly statusCode: number;
  readonly body?: string;
}

export function bodyText(event: WebSocketEvent): string {
  const body = event.body ?? "";
  return event.isBase64Encoded ? Buffer.from(body, "base64").toString("utf8") : body;
}
