// The Lambda proxy event API Gateway sends for WebSocket routes, reduced to what
// the handlers read. (@types/aws-lambda is not a dependency; these mirror
// APIGatewayProxyWebsocketEventV2 and its $connect variant.)

export interface WebSocketRequestContext {
  readonly connectionId: string;
  readonly routeKey: string;
  readonly eventType?: "CONNECT" | "MESSAGE" | "DISCONNECT";
  readonly domainName: string;
  readonly stage: string;
  readonly requestId?: string;
  readonly connectedAt?: number;
  readonly identity?: { readonly sourceIp?: string; readonly userAgent?: string };
}

export interface WebSocketEvent {
  readonly requestContext: WebSocketRequestContext;
  readonly body?: string | null;
  readonly isBase64Encoded?: boolean;
  readonly headers?: Readonly<Record<string, string | undefined>> | null;
  readonly queryStringParameters?: Readonly<Record<string, string | undefined>> | null;
}

export interface ProxyResult {
  statusCode: number;
  body?: string;
  headers?: Record<string, string>;
}

/** The frame's text: binary frames arrive base64-encoded. */
export function bodyText(event: WebSocketEvent): string {
  const body = event.body ?? "";
  return event.isBase64Encoded ? Buffer.from(body, "base64").toString("utf8") : body;
}

export function jsonResult(statusCode: number, value: unknown): ProxyResult {
  return { statusCode, headers: { "content-type": "application/json" }, body: JSON.stringify(value) };
}
