import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import type { AwsCredentialIdentity } from "@smithy/types";
import { credentialsFromEnv, errorDetails, errorName, fixedHeaderLines, regionFromEnv, RETRYABLE_CODES, sessionTokenProblem, sleep } from "./aws-common.js";
import { poolForEndpoint, REQUEST_TIMEOUT, requestBytes, type Http1Pool, type Http1Response } from "./http1.js";
import { sha256Hex } from "./sha256.js";
import { cachedSigner, type PostSigner } from "./sigv4.js";

/**
 * DynamoDB's PutItem and DeleteItem without the SDK client, for the $connect and
 * $disconnect handlers: the SDK's DynamoDBClient spent most of a $connect's CPU in
 * its middleware stack and node's http client. The call is DynamoDB's low-level
 * JSON protocol: `POST /` with `Content-Type: application/x-amz-json-1.0`,
 * `X-Amz-Target: DynamoDB_20120810.<Operation>`, a JSON body, SigV4-signed for the
 * service `dynamodb`; the answer is JSON, an error an HTTP status with
 * `{"__type": "...#<Name>", "message": ...}`.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.LowLevelAPI.html
 * Errors and retries follow DynamoDB's error handling page and the SDK's standard
 * strategy: at most 3 attempts, throttling, 5xx and broken connections retried with
 * jittered exponential backoff; other errors thrown with the AWS name and message.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html
 * Left out, as the handlers do not need them: the SDK's retry quota, clock-skew
 * correction, account-based and FIPS/dual-stack endpoints, response CRC32 checks.
 */

export const SIGNING_SERVICE = "dynamodb";

const CONTENT_TYPE = "application/x-amz-json-1.0";
const TARGET_PREFIX = "DynamoDB_20120810.";

export type Item = Record<string, AttributeValue>;

export interface PutItemInput {
  readonly TableName: string;
  readonly Item: Item;
}

export interface DeleteItemInput {
  readonly TableName: string;
  readonly Key: Item;
  readonly ReturnValues?: "NONE" | "ALL_OLD";
}

export interface DeleteItemOutput {
  /** The item as it was, with ReturnValues ALL_OLD and an item there to delete. */
  readonly Attributes?: Item;
}

/** A call DynamoDB refused, named and worded as DynamoDB (and the SDK's exceptions) name it. */
export class DynamoDBError extends Error {
  readonly $fault: "client" | "server";
  readonly $metadata: { readonly httpStatusCode: number; readonly attempts: number };

  constructor(name: string, message: string, httpStatusCode: number, attempts: number) {
    super(message);
    this.name = name;
    this.$fault = httpStatusCode >= 500 ? "server" : "client";
    this.$metadata = { httpStatusCode, attempts };
  }
}

/**
 * Where the SDK's DynamoDBClient sends its calls: AWS_ENDPOINT_URL_DYNAMODB, then
 * AWS_ENDPOINT_URL (unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS), then the region's
 * public endpoint.
 */
export function dynamodbEndpoint(env: NodeJS.ProcessEnv = process.env): URL {
  const configured = env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS === "true" ? undefined : env.AWS_ENDPOINT_URL_DYNAMODB || env.AWS_ENDPOINT_URL;
  if (configured) return new URL(configured);
  const region = regionFromEnv(env);
  return new URL(`https://dynamodb.${region}.${region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com"}`);
}

// The SDK's standard retry strategy: throttling (by name or 429), transient errors and
// statuses. Other 5xx (501, 505) and all other 4xx are not retried.
const THROTTLING = new Set([
  "BandwidthLimitExceeded",
  "LimitExceededException",
  "PriorRequestNotComplete",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
  "ThrottledException",
  "Throttling",
  "ThrottlingException",
  "TooManyRequestsException",
  "TransactionInProgressException",
]);
const TRANSIENT = new Set(["TimeoutError", "RequestTimeout", "RequestTimeoutException"]);
const TRANSIENT_STATUS = new Set([500, 502, 503, 504]);
// Its backoff bases (ms): a random delay below base * 2^retry, at most 20 s.
const BASE_DELAY_MS = 50;
const THROTTLING_DELAY_MS = 1_000;
const MAX_DELAY_MS = 20_000;

export interface ItemClientOptions {
  readonly endpoint: URL;
  readonly region: string;
  readonly credentials: AwsCredentialIdentity;
  readonly maxAttempts?: number;
  readonly maxSockets?: number;
  readonly requestTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
  /** Backoff bases, the SDK's by default; tests shorten them. */
  readonly baseDelayMs?: number;
  readonly throttlingDelayMs?: number;
}

type Retry = "no" | "transient" | "throttling";

// A binary attribute travels base64-encoded; read the holder's own value, since a
// Buffer's toJSON runs before the replacer sees it.
function wireValue(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  return raw instanceof Uint8Array ? Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("base64") : value;
}

interface WireValue {
  readonly B?: unknown;
  readonly BS?: unknown;
  readonly M?: unknown;
  readonly L?: unknown;
}

// Plain Uint8Arrays, as the SDK gives binaries back.
function bytes(base64: unknown): Uint8Array {
  const buf = Buffer.from(String(base64), "base64");
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

function fromWire(value: WireValue): AttributeValue {
  if (value.B !== undefined) return { B: bytes(value.B) };
  if (Array.isArray(value.BS)) return { BS: value.BS.map(bytes) };
  if (typeof value.M === "object" && value.M !== null) return { M: itemFromWire(value.M) };
  if (Array.isArray(value.L)) return { L: value.L.map((v) => fromWire(v as WireValue)) };
  return value as AttributeValue;
}

function itemFromWire(item: object): Item {
  const out: Item = {};
  for (const [name, value] of Object.entries(item)) out[name] = fromWire(value as WireValue);
  return out;
}

export class ItemClient {
  private readonly pool: Http1Pool;
  private readonly signer: PostSigner;
  private readonly path: string;
  private readonly fixedHead: string;
  private readonly invalid: string | undefined;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly throttlingDelayMs: number;

  constructor(options: ItemClientOptions) {
    const { endpoint, credentials } = options;
    this.pool = poolForEndpoint(endpoint, {
      // The SDK's node handler allows 50 sockets; a sandbox runs one invocation at a time.
      maxSockets: options.maxSockets ?? 50,
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      idleTimeoutMs: options.idleTimeoutMs ?? 4_000,
    });
    this.signer = cachedSigner({ credentials, region: options.region, service: SIGNING_SERVICE, host: endpoint.host, contentType: CONTENT_TYPE });
    this.path = `${endpoint.pathname.replace(/\/+$/, "")}/`;
    this.maxAttempts = options.maxAttempts ?? 3;
    this.baseDelayMs = options.baseDelayMs ?? BASE_DELAY_MS;
    this.throttlingDelayMs = options.throttlingDelayMs ?? THROTTLING_DELAY_MS;
    this.invalid = sessionTokenProblem(credentials.sessionToken);
    this.fixedHead = `POST ${this.path} HTTP/1.1\r\n${fixedHeaderLines(endpoint.host, CONTENT_TYPE, credentials.sessionToken)}`;
  }

  async putItem(input: PutItemInput): Promise<void> {
    await this.call("PutItem", input, false);
  }

  async deleteItem(input: DeleteItemInput): Promise<DeleteItemOutput> {
    const body = await this.call("DeleteItem", input, input.ReturnValues === "ALL_OLD");
    if (!body) return {};
    const out = JSON.parse(body) as { Attributes?: unknown };
    return typeof out.Attributes === "object" && out.Attributes !== null ? { Attributes: itemFromWire(out.Attributes) } : {};
  }

  /** Sends the call, retrying as the SDK does; resolves with a 2xx answer's body when `keepBody`. */
  private async call(operation: string, input: object, keepBody: boolean): Promise<string> {
    if (this.invalid) throw Object.assign(new Error(this.invalid), { code: "ERR_INVALID_CHAR" });
    const target = TARGET_PREFIX + operation;
    const body = Buffer.from(JSON.stringify(input, wireValue), "utf8");
    const hash = sha256Hex(body);
    for (let attempt = 1; ; attempt++) {
      let retry: Retry;
      let failure: Error;
      try {
        const res = await this.pool.request(this.request(target, body, hash), keepBody);
        if (res.statusCode >= 200 && res.statusCode < 300) return res.body;
        failure = refusal(res, attempt);
        retry = retryOf(failure.name, res.statusCode);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // Both item calls write a fixed key to a fixed value: sent twice, they leave the
        // same table, so a request that timed out (and may have been applied) is re-sent.
        retry = code !== undefined && (RETRYABLE_CODES.has(code) || code === REQUEST_TIMEOUT) ? "transient" : "no";
        failure = err instanceof Error ? err : new Error(String(err));
      }
      if (retry === "no" || attempt >= this.maxAttempts) throw failure;
      const base = retry === "throttling" ? this.throttlingDelayMs : this.baseDelayMs;
      await sleep(Math.floor(Math.random() * Math.min(base * 2 ** (attempt - 1), MAX_DELAY_MS)));
    }
  }

  /** The whole request in one buffer, signed now (each attempt is signed afresh, as the SDK does). */
  private request(target: string, body: Buffer, hash: string): Buffer {
    const signed = this.signer.sign(this.path, body.byteLength, hash, Date.now(), target);
    const head =
      `${this.fixedHead}x-amz-target: ${target}\r\ncontent-length: ${body.byteLength}\r\nx-amz-content-sha256: ${hash}\r\n` +
      `x-amz-date: ${signed.date}\r\nauthorization: ${signed.authorization}\r\n\r\n`;
    return requestBytes(head, body);
  }
}

function refusal(res: Http1Response, attempts: number): DynamoDBError {
  const details = errorDetails(res.body);
  // The header leads, as in the SDK's JSON-protocol error parser; either may carry a namespace.
  const name = (res.errorType !== undefined ? errorName(res.errorType) : undefined) ?? details.type ?? (res.statusCode >= 500 ? "InternalServerError" : "UnknownError");
  return new DynamoDBError(name, details.message ?? `HTTP ${res.statusCode}`, res.statusCode, attempts);
}

function retryOf(name: string, statusCode: number): Retry {
  if (statusCode === 429 || THROTTLING.has(name)) return "throttling";
  return TRANSIENT_STATUS.has(statusCode) || TRANSIENT.has(name) ? "transient" : "no";
}

let cached: { key: string; client: ItemClient } | undefined;

/**
 * One client per warm Lambda sandbox (its pool's keep-alive sockets are reused across
 * invocations), built from the environment as the SDK's client would be; a change
 * there (tests, the local runner) builds a new one.
 */
export function itemClient(env: NodeJS.ProcessEnv = process.env): ItemClient {
  const key = [
    env.AWS_REGION,
    env.AWS_DEFAULT_REGION,
    env.AWS_ENDPOINT_URL_DYNAMODB,
    env.AWS_ENDPOINT_URL,
    env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS,
    env.AWS_ACCESS_KEY_ID,
    env.AWS_SECRET_ACCESS_KEY,
    env.AWS_SESSION_TOKEN,
  ].join("\n");
  if (!cached || cached.key !== key) {
    cached = { key, client: new ItemClient({ endpoint: dynamodbEndpoint(env), region: regionFromEnv(env), credentials: credentialsFromEnv(env) }) };
  }
  return cached.client;
}
