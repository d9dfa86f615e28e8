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

/** The `message` (or `Message`) of an AWS JSON error body; the text itself when it is not JSON. */
export function errorMessage(body: string): string | undefined {
  if (!body) return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === "object" && parsed !== null) {
      const m = (parsed as { message?: unknown; Message?: unknown }).message ?? (parsed as { Message?: unknown }).Message;
      if (typeof m === "string") return m;
    }
  } catch {
    // not JSON: use the text itself
  }
  return body.slice(0, 200);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
