import type { AwsCredentialIdentity } from "@smithy/types";

/**
 * What the handlers' direct AWS clients (poster.ts for PostToConnection,
 * dynamodb-items.ts for DynamoDB's item calls) share: the Lambda environment's
 * credentials and region, and how a failed call is read and retried.
 */

export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): AwsCredentialIdentity {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new Error("no credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set (Lambda sets them)");
  }
  const sessionToken = env.AWS_SESSION_TOKEN;
  return sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
}

export function regionFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (!region) throw new Error("no region: AWS_REGION is not set (Lambda sets it)");
  return region;
}

/**
 * encodeURIComponent plus RFC 3986's reserved !'()*: what the SDK does to a path label
 * (extendedEncodeURIComponent: connection ids end in "=") and what its signer does to
 * the canonical URI (@smithy/core's escapeUri); the two are the same function.
 */
export function escapeUri(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The headers every request of the handlers' direct clients carries, as HTTP/1.1 lines. */
export function fixedHeaderLines(host: string, contentType: string, sessionToken: string | undefined): string {
  return `host: ${host}\r\ncontent-type: ${contentType}\r\n${sessionToken ? `x-amz-security-token: ${sessionToken}\r\n` : ""}user-agent: chatctl-handlers\r\nconnection: keep-alive\r\n`;
}

/** What node's http client refuses in a header value (ERR_INVALID_CHAR), and anything outside latin1. */
const INVALID_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/** Why the session token cannot be sent as a header, if it cannot (node's http client would throw ERR_INVALID_CHAR). */
export function sessionTokenProblem(sessionToken: string | undefined): string | undefined {
  return sessionToken !== undefined && INVALID_HEADER_VALUE.test(sessionToken) ? "AWS_SESSION_TOKEN holds characters not allowed in an HTTP header" : undefined;
}

/** Socket errors the SDK's standard retry strategy retries: the connection broke, the request may be sent again. */
export const RETRYABLE_CODES: ReadonlySet<string> = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "ECONNABORTED", "EAI_AGAIN"]);

export interface ErrorDetails {
  /** The AWS error name the body gives (`__type` or `code`), without its namespace ("com.amazonaws.dynamodb.v20120810#"). */
  readonly type: string | undefined;
  /** Its `message` (or `Message`); else the body's first 200 characters. */
  readonly message: string | undefined;
}

/** An AWS error name as the SDK reads it from a header or body: no ":"-suffix, no "#"-namespace. */
export function errorName(raw: string): string | undefined {
  const name = raw.split(":")[0] ?? "";
  return name.slice(name.lastIndexOf("#") + 1).trim() || undefined;
}

export function errorDetails(body: string): ErrorDetails {
  if (!body) return { type: undefined, message: undefined };
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === "object" && parsed !== null) {
      const fields = parsed as { __type?: unknown; code?: unknown; Code?: unknown; message?: unknown; Message?: unknown };
      const type = fields.__type ?? fields.code ?? fields.Code;
      const message = fields.message ?? fields.Message;
      if (typeof type === "string" || typeof message === "string") {
        return { type: typeof type === "string" ? errorName(type) : undefined, message: typeof message === "string" ? message : body.slice(0, 200) };
      }
    }
  } catch {
    // not JSON: use the text itself
  }
  return { type: undefined, message: body.slice(0, 200) };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
