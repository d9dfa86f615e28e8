import http from "node:http";
import https from "node:https";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity, HttpRequest } from "@smithy/types";
import { NodeSha256, sha256Hex } from "./sha256.js";

/**
 * PostToConnection without the SDK client: the same request the SDK's
 * ApiGatewayManagementApiClient sends (path, headers, SigV4 signature through the
 * SDK's own signer, session token included) and the same error semantics (410 is
 * GoneException, throttling and 5xx are retried), but posted over a bounded
 * keep-alive agent with far less work per message. A broadcast is billed CPU.
 */

/** API Gateway's limit on one WebSocket message (and on PostToConnection's Data). */
export const MAX_MESSAGE_BYTES = 128 * 1024;

export const SIGNING_SERVICE = "execute-api";

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

// The SDK's extendedEncodeURIComponent: connection ids end in "=", which must be escaped.
function encodeLabel(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function connectionPath(endpoint: URL, connectionId: string): string {
  return `${endpoint.pathname.replace(/\/+$/, "")}/@connections/${encodeLabel(connectionId)}`;
}

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

const signers = new Map<string, SignatureV4>();

function signerFor(region: string, credentials: AwsCredentialIdentity): SignatureV4 {
  const key = `${region}\n${credentials.accessKeyId}\n${credentials.secretAccessKey}\n${credentials.sessionToken ?? ""}`;
  let signer = signers.get(key);
  if (!signer) {
    // Credentials rotate rarely (a new sandbox); a few stale signers cost nothing.
    if (signers.size > 8) signers.clear();
    signer = new SignatureV4({ credentials, region, service: SIGNING_SERVICE, sha256: NodeSha256, uriEscapePath: true });
    signers.set(key, signer);
  }
  return signer;
}

export interface SignArgs {
  readonly endpoint: URL;
  readonly connectionId: string;
  readonly payload: Payload;
  readonly region: string;
  readonly credentials: AwsCredentialIdentity;
  readonly signingDate?: Date;
}

/** The signed PostToConnection request, header for header what the SDK signs (minus its telemetry headers). */
export function signPostToConnection(args: SignArgs): Promise<HttpRequest> {
  const { endpoint } = args;
  const request: HttpRequest = {
    method: "POST",
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
    path: connectionPath(endpoint, args.connectionId),
    query: {},
    headers: {
      "content-type": "application/octet-stream",
      "content-length": String(args.payload.body.byteLength),
      host: endpoint.host,
      "x-amz-content-sha256": args.payload.sha256Hex,
    },
    body: args.payload.body,
  };
  const signer = signerFor(args.region, args.credentials);
  return args.signingDate ? signer.sign(request, { signingDate: args.signingDate }) : signer.sign(request);
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
// Not our own request timeout: PostToConnection is not idempotent, and a request
// that timed out may still be read and delivered by a server slow to accept or
// answer (a late server handles a request whose client already gave up), so a
// re-send would deliver it twice. A timed-out post is reported failed instead.
const REQUEST_TIMEOUT = "RequestTimeout";
const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);
const RETRYABLE_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "ECONNABORTED", "EAI_AGAIN"]);

const agents = new Map<string, http.Agent>();

// One agent per warm sandbox: the next invocation reuses its open sockets.
function agentFor(protocol: string, maxSockets: number): http.Agent {
  const key = `${protocol}${maxSockets}`;
  let agent = agents.get(key);
  if (!agent) {
    const options = { keepAlive: true, maxSockets, maxFreeSockets: maxSockets };
    agent = protocol === "https:" ? new https.Agent(options) : new http.Agent(options);
    agents.set(key, agent);
  }
  return agent;
}

interface RawResponse {
  readonly statusCode: number;
  readonly errorType: string | undefined;
  readonly body: string;
}

export interface PosterOptions {
  readonly endpoint: URL;
  readonly region: string;
  readonly credentials: AwsCredentialIdentity;
  /** Upper bound of requests in flight (sockets of the keep-alive agent). */
  readonly maxSockets: number;
  readonly maxAttempts?: number;
  readonly requestTimeoutMs?: number;
}

export class ConnectionPoster {
  private readonly agent: http.Agent;
  private readonly send: typeof http.request;
  private readonly maxAttempts: number;
  private readonly timeoutMs: number;

  constructor(private readonly options: PosterOptions) {
    if (options.endpoint.protocol !== "https:" && options.endpoint.protocol !== "http:") {
      throw new Error(`unsupported endpoint ${options.endpoint.href}: expected http(s)`);
    }
    this.agent = agentFor(options.endpoint.protocol, options.maxSockets);
    this.send = options.endpoint.protocol === "https:" ? https.request : http.request;
    this.maxAttempts = options.maxAttempts ?? 3;
    this.timeoutMs = options.requestTimeoutMs ?? 10_000;
  }

  /** Never rejects: a broadcast counts outcomes, one bad connection must not stop it. */
  async post(connectionId: string, data: Payload): Promise<PostResult> {
    for (let attempt = 1; ; attempt++) {
      let retryable: boolean;
      let failure: PostResult;
      try {
        const signed = await signPostToConnection({
          endpoint: this.options.endpoint,
          connectionId,
          payload: data,
          region: this.options.region,
          credentials: this.options.credentials,
        });
        const res = await this.exchange(signed, data.body);
        if (res.statusCode >= 200 && res.statusCode < 300) return DELIVERED;
        if (res.statusCode === 410) return GONE;
        retryable = RETRYABLE_STATUS.has(res.statusCode);
        failure = {
          outcome: "failed",
          errorName: res.errorType ?? ERROR_BY_STATUS[res.statusCode] ?? (res.statusCode >= 500 ? "InternalServerError" : "UnknownError"),
          statusCode: res.statusCode,
          message: errorMessage(res.body) ?? `HTTP ${res.statusCode}`,
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

  private exchange(signed: HttpRequest, body: Uint8Array): Promise<RawResponse> {
    return new Promise<RawResponse>((resolve, reject) => {
      const req = this.send(
        {
          agent: this.agent,
          method: signed.method,
          hostname: signed.hostname,
          port: signed.port,
          path: signed.path,
          headers: { ...signed.headers, "user-agent": "chatctl-handlers" },
          timeout: this.timeoutMs,
        },
        (res) => {
          const statusCode = res.statusCode ?? 0;
          if (statusCode >= 200 && statusCode < 300) {
            // Drain so the socket goes back to the pool.
            res.resume();
            res.on("end", () => resolve({ statusCode, errorType: undefined, body: "" }));
            res.on("error", reject);
            return;
          }
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const header = res.headers["x-amzn-errortype"];
            const errorType = (Array.isArray(header) ? header[0] : header)?.split(":")[0];
            resolve({ statusCode, errorType: errorType || undefined, body: Buffer.concat(chunks).toString("utf8") });
          });
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(Object.assign(new Error(`no answer within ${this.timeoutMs} ms`), { code: REQUEST_TIMEOUT })));
      req.on("error", reject);
      req.end(body);
    });
  }
}

function errorMessage(body: string): string | undefined {
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
