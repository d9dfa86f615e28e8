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

/** Socket errors the SDK's standard retry strategy retries: the connection broke, the request may be sent again. */
export const RETRYABLE_CODES: ReadonlySet<string> = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "ECONNABORTED", "EAI_AGAIN"]);

/** What node's http client refuses in a header value (ERR_INVALID_CHAR), and anything outside latin1. */
export const INVALID_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

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
