import type { AwsCredentialIdentity } from "@smithy/types";
import { errorDetails, escapeUri, fixedHeaderLines, RETRYABLE_CODES, sessionTokenProblem, sleep } from "./aws-common.js";
import { poolForEndpoint, requestBytes, type Http1Pool } from "./http1.js";
import { sha256Hex } from "./sha256.js";
import { cachedSigner, type PostSigner } from "./sigv4.js";

/**
 * PostToConnection without the SDK client: the same request the SDK's
 * ApiGatewayManagementApiClient sends (path, headers, a SigV4 signature equal to
 * the SDK signer's, session token included) and the same error semantics (410 is
 * GoneException, throttling and 5xx are retried), but signed by a signer for this
 * one request shape (sigv4.ts) and posted over a small bounded keep-alive HTTP/1.1
 * pool (http1.ts) with far less work per message. A broadcast is billed CPU.
 */

/** API Gateway's limit on one WebSocket message (and on PostToConnection's Data). */
export const MAX_MESSAGE_BYTES = 128 * 1024;

export const SIGNING_SERVICE = "execute-api";

const CONTENT_TYPE = "application/octet-stream";

export interface Payload {
  readonly body: Uint8Array;
  /** Hashed once per broadcast, not once per recipient; sent as x-amz-content-sha256 as the SDK does. */
  readonly sha256Hex: string;
}

export function payload(data: string | Uint8Array): Payload {
  const body = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  return { body, sha256Hex: sha256Hex(body) };
}

export interface EndpointSource {
  readonly domainName: string;
  readonly stage: string;
}

/**
 * Where the SDK would post: an endpoint named in the environment (chatctl's
 * CONNECTIONS_ENDPOINT, the local cloud, any AWS-compatible endpoint) leads;
 * otherwise the stage the event came through.
 */
export function managementEndpoint(from: EndpointSource, env: NodeJS.ProcessEnv = process.env): URL {
  const configured = env.AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI || env.CONNECTIONS_ENDPOINT || env.AWS_ENDPOINT_URL;
  return new URL(configured || `https://${from.domainName}/${from.stage}`);
}

export function connectionPath(endpoint: URL, connectionId: string): string {
  return `${endpoint.pathname.replace(/\/+$/, "")}/@connections/${escapeUri(connectionId)}`;
}

function signerFor(region: string, credentials: AwsCredentialIdentity, host: string): PostSigner {
  return cachedSigner({ credentials, region, service: SIGNING_SERVICE, host, contentType: CONTENT_TYPE });
}

export interface SignArgs {
  readonly endpoint: URL;
  readonly connectionId: string;
  readonly payload: Payload;
  readonly region: string;
  readonly credentials: AwsCredentialIdentity;
  readonly signingDate?: Date;
}

export interface SignedPost {
  readonly method: "POST";
  readonly path: string;
  /** Lower-case names, as sent. */
  readonly headers: Readonly<Record<string, string>>;
}

/** The signed PostToConnection request, header for header what the SDK signs (minus its telemetry headers). */
export function signPostToConnection(args: SignArgs): SignedPost {
  const { endpoint, credentials } = args;
  const path = connectionPath(endpoint, args.connectionId);
  const length = args.payload.body.byteLength;
  const signed = signerFor(args.region, credentials, endpoint.host).sign(path, length, args.payload.sha256Hex, (args.signingDate ?? new Date()).getTime());
  return {
    method: "POST",
    path,
    headers: {
      "content-type": CONTENT_TYPE,
      "content-length": String(length),
      host: endpoint.host,
      "x-amz-content-sha256": args.payload.sha256Hex,
      "x-amz-date": signed.date,
      ...(credentials.sessionToken ? { "x-amz-security-token": credentials.sessionToken } : {}),
      authorization: signed.authorization,
    },
  };
}

export type PostResult =
  | { readonly outcome: "delivered" }
  | { readonly outcome: "gone" }
  | { readonly outcome: "failed"; readonly errorName: string; readonly statusCode?: number; readonly message: string };

const DELIVERED: PostResult = { outcome: "delivered" };
const GONE: PostResult = { outcome: "gone" };

const ERROR_BY_STATUS: Readonly<Record<number, string>> = {
  400: "BadRequestException",
  403: "ForbiddenException",
  410: "GoneException",
  413: "PayloadTooLargeException",
  429: "LimitExceededException",
};

// What the SDK's standard retry strategy retries: throttling, transient 5xx, broken connections.
// Not our own request timeout (http1.ts names it RequestTimeout): PostToConnection is
// not idempotent, and a request that timed out may still be read and delivered by a
// server slow to accept or answer, so a re-send would deliver it twice. A timed-out
// post is reported failed instead.
const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);

export interface PosterOptions {
  readonly endpoint: URL;
  readonly region: string;
  readonly credentials: AwsCredentialIdentity;
  /** Upper bound of requests in flight (sockets of the keep-alive pool). */
  readonly maxSockets: number;
  readonly maxAttempts?: number;
  readonly requestTimeoutMs?: number;
  /** Unused sockets are closed after this long (API Gateway and node servers close idle ones too). */
  readonly idleTimeoutMs?: number;
}

export class ConnectionPoster {
  private readonly pool: Http1Pool;
  private readonly signer: PostSigner;
  private readonly maxAttempts: number;
  private readonly prefix: string;
  private readonly fixedHead: string;
  private readonly invalid: string | undefined;

  constructor(options: PosterOptions) {
    const { endpoint, credentials } = options;
    this.pool = poolForEndpoint(endpoint, {
      maxSockets: options.maxSockets,
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      idleTimeoutMs: options.idleTimeoutMs ?? 4_000,
    });
    this.signer = signerFor(options.region, credentials, endpoint.host);
    this.maxAttempts = options.maxAttempts ?? 3;
    this.prefix = `${endpoint.pathname.replace(/\/+$/, "")}/@connections/`;
    this.invalid = sessionTokenProblem(credentials.sessionToken);
    this.fixedHead = fixedHeaderLines(endpoint.host, CONTENT_TYPE, credentials.sessionToken);
  }

  /** Never rejects: a broadcast counts outcomes, one bad connection must not stop it. */
  async post(connectionId: string, data: Payload): Promise<PostResult> {
    if (this.invalid) return { outcome: "failed", errorName: "ERR_INVALID_CHAR", message: this.invalid };
    const path = this.prefix + escapeUri(connectionId);
    for (let attempt = 1; ; attempt++) {
      let retryable: boolean;
      let failure: PostResult;
      try {
        const res = await this.pool.request(this.request(path, data));
        if (res.statusCode >= 200 && res.statusCode < 300) return DELIVERED;
        if (res.statusCode === 410) return GONE;
        retryable = RETRYABLE_STATUS.has(res.statusCode);
        failure = {
          outcome: "failed",
          errorName: res.errorType ?? ERROR_BY_STATUS[res.statusCode] ?? (res.statusCode >= 500 ? "InternalServerError" : "UnknownError"),
          statusCode: res.statusCode,
          message: errorDetails(res.body).message ?? `HTTP ${res.statusCode}`,
        };
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        retryable = code !== undefined && RETRYABLE_CODES.has(code);
        failure = { outcome: "failed", errorName: code ?? (err instanceof Error ? err.name : "Error"), message: err instanceof Error ? err.message : String(err) };
      }
      if (!retryable || attempt >= this.maxAttempts) return failure;
      await sleep(Math.random() * Math.min(20_000, 100 * 2 ** attempt));
    }
  }

  /** The whole request in one buffer, signed now (each attempt is signed afresh, as the SDK does). */
  private request(path: string, data: Payload): Buffer {
    const length = data.body.byteLength;
    const signed = this.signer.sign(path, length, data.sha256Hex, Date.now());
    const head =
      `POST ${path} HTTP/1.1\r\n${this.fixedHead}content-length: ${length}\r\nx-amz-content-sha256: ${data.sha256Hex}\r\n` +
      `x-amz-date: ${signed.date}\r\nauthorization: ${signed.authorization}\r\n\r\n`;
    return requestBytes(head, data.body);
  }
}
