// Which AWS failures are worth another try, and why. The executor is generic and
// gets this predicate injected; it never looks at AWS error names itself.

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

function fields(err: unknown): { name: string; message: string; status: number | undefined; code: string | undefined } {
  if (typeof err !== "object" || err === null) return { name: "", message: String(err), status: undefined, code: undefined };
  const e = err as { name?: unknown; message?: unknown; code?: unknown; $metadata?: { httpStatusCode?: unknown } };
  return {
    name: typeof e.name === "string" ? e.name : "",
    message: typeof e.message === "string" ? e.message : "",
    status: typeof e.$metadata?.httpStatusCode === "number" ? e.$metadata.httpStatusCode : undefined,
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
