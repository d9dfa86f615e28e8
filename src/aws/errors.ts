// Which AWS failures are worth another try, and why. The executor is generic and
// gets this predicate injected; it never looks at AWS error names itself.

import { UserError } from "../errors.js";

const THROTTLING = new Set([
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "ProvisionedThroughputExceededException",
  "SlowDown",
  "PriorRequestNotComplete",
]);

const TRANSIENT = new Set([
  "InternalFailure",
  "InternalError",
  "InternalServerError",
  "InternalServerException",
  "ServiceException",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "RequestTimeout",
  "RequestTimeoutException",
  "TimeoutError",
]);

const NETWORK_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "ENOTFOUND", "EAI_AGAIN", "ECONNABORTED"]);

export interface RetryVerdict {
  readonly retry: boolean;
  readonly reason?: string;
}

/** The AWS error code SDK v3 exceptions (and the local models) carry as `name`. */
export function errorName(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && typeof (err as { name?: unknown }).name === "string" ? (err as { name: string }).name : undefined;
}

export function isAwsError(err: unknown, ...names: readonly string[]): boolean {
  const name = errorName(err);
  return name !== undefined && names.includes(name);
}

export function httpStatus(err: unknown): number | undefined {
  const status = (err as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata?.httpStatusCode;
  return typeof status === "number" ? status : undefined;
}

/** Each service's name for "there is no such thing": API Gateway; Lambda, DynamoDB and Logs; IAM (query and JSON). */
const NOT_FOUND = ["NotFoundException", "ResourceNotFoundException", "NoSuchEntityException", "NoSuchEntity"] as const;

export function isNotFound(err: unknown): boolean {
  return isAwsError(err, ...NOT_FOUND);
}

/** The call's answer, or undefined when what it asked about does not exist. */
export async function unlessNotFound<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

function fields(err: unknown): { name: string; message: string; status: number | undefined; code: string | undefined } {
  if (typeof err !== "object" || err === null) return { name: "", message: String(err), status: undefined, code: undefined };
  const e = err as { message?: unknown; code?: unknown };
  return {
    name: errorName(err) ?? "",
    message: typeof e.message === "string" ? e.message : "",
    status: httpStatus(err),
    code: typeof e.code === "string" ? e.code : undefined,
  };
}

export function isRetryable(err: unknown): RetryVerdict {
  const { name, message, status, code } = fields(err);
  if (THROTTLING.has(name) || status === 429) return { retry: true, reason: `throttled (${name || status})` };
  // DynamoDB's cap on simultaneous table operations passes; IAM's quotas of the same name do not.
  if (name === "LimitExceededException" && /simultaneous|concurrent/i.test(message)) return { retry: true, reason: "too many table operations at once" };
  // IAM is eventually consistent: a role made seconds ago is not yet assumable by Lambda.
  if (/cannot be assumed by Lambda/i.test(message)) return { retry: true, reason: "waiting for the new IAM role to propagate" };
  // Lambda refuses a change while the previous one is still being applied.
  if (name === "ResourceConflictException" && /in progress/i.test(message)) return { retry: true, reason: "previous update still in progress" };
  // API Gateway: "Unable to complete operation due to concurrent modification".
  if (name === "ConflictException" && /concurrent modification/i.test(message)) return { retry: true, reason: "concurrent modification" };
  if (TRANSIENT.has(name) || (status !== undefined && status >= 500)) return { retry: true, reason: `service error (${name || status})` };
  if ((code && NETWORK_CODES.has(code)) || /socket hang up|ECONNRESET/i.test(message)) return { retry: true, reason: `network (${code ?? "connection dropped"})` };
  return { retry: false };
}

/**
 * An endpoint answered with something that is not an AWS response (an HTML page,
 * plain text): the user aimed chatctl at the wrong place, or at an implementation
 * without this operation. It keeps the HTTP status in $metadata, so a 5xx from a
 * proxy is still retried.
 */
export class NotAnAwsAnswerError extends UserError {
  readonly $metadata: { readonly httpStatusCode: number | undefined };
  constructor(message: string, status: number | undefined) {
    super(message);
    this.name = "NotAnAwsAnswerError";
    this.$metadata = { httpStatusCode: status };
  }
}

interface RawResponse {
  readonly statusCode?: number;
  readonly headers?: Record<string, string | undefined>;
}

/**
 * The SDK attaches the raw response ($response) to what it failed on. It is not
 * AWS's answer when the body would not parse (a SyntaxError: JSON services given
 * HTML), or when it is a web page or plain text (XML services read an HTML page
 * as an error named after its first element). AWS answers in JSON or XML.
 */
export function notAnAwsAnswer(err: unknown, context: Record<string, unknown>): NotAnAwsAnswerError | undefined {
  if (typeof err !== "object" || err === null || err instanceof UserError) return undefined;
  const response = (err as { $response?: RawResponse }).$response;
  if (response === undefined || typeof response !== "object" || response === null) return undefined;
  const contentType = Object.entries(response.headers ?? {}).find(([k]) => k.toLowerCase() === "content-type")?.[1] ?? "";
  const unparsed = (err as { name?: unknown }).name === "SyntaxError";
  if (!unparsed && !/^text\/(html|plain)\b/i.test(contentType)) return undefined;
  const service = String(context.clientName ?? "AWS").replace(/Client$/, "");
  const operation = String(context.commandName ?? "a call").replace(/Command$/, "");
  const endpoint = (context.endpointV2 as { url?: URL } | undefined)?.url?.href;
  const status = typeof response.statusCode === "number" ? response.statusCode : undefined;
  const body = contentType ? `a ${contentType.split(";")[0]?.trim()} body` : "a body";
  return new NotAnAwsAnswerError(
    `${service} ${operation}: ${endpoint ?? "the endpoint"} answered HTTP ${status ?? "?"} with ${body} that is not an AWS response; it may not implement ${operation} (is the endpoint right?)`,
    status,
  );
}
