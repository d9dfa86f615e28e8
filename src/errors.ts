/**
 * A mistake the user can fix (bad spec, wrong id, missing flag, no credentials).
 * The CLI prints its message alone, without a stack trace, and exits 1.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    /** The message already reads like a compiler's (file:line:col: error: ...): print it as is. */
    readonly formatted = false,
  ) {
    super(message);
    this.name = "UserError";
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The message led by the error's name when it adds something: AWS errors are named by their code, which says more than the message alone. */
export function namedErrorMessage(err: unknown): string {
  if (err instanceof Error) {
    return err.name && err.name !== "Error" && !err.message.startsWith(err.name) ? `${err.name}: ${err.message}` : err.message;
  }
  return String(err);
}

/**
 * Failures a user can act on, in one sentence. Undefined means "our bug":
 * the CLI then prints the stack so it can be reported.
 */
export function describeFailure(error: unknown): string | undefined {
  if (error instanceof UserError) return error.formatted ? error.message : `error: ${error.message}`;
  if (!(error instanceof Error)) return undefined;
  const name = error.name;
  if (name === "CredentialsProviderError" || /Could not load credentials/.test(error.message)) {
    return "error: no AWS credentials found: set AWS_PROFILE (after `aws configure` or `aws sso login`) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; or run `chatctl dev` and add --local to reach it.";
  }
  if (name === "ExpiredTokenException" || name === "ExpiredToken") return "error: your AWS credentials have expired; refresh them (e.g. aws sso login) and try again.";
  if (name === "UnrecognizedClientException" || name === "InvalidClientTokenId" || name === "InvalidSignatureException") {
    return `error: AWS rejected the credentials (${name}). Check AWS_PROFILE / AWS_ACCESS_KEY_ID.`;
  }
  if (name === "AccessDeniedException" || name === "AccessDenied") return `error: access denied by AWS: ${error.message}`;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EAI_AGAIN" || name === "TimeoutError") {
    return `error: cannot reach the AWS endpoint (${code ?? name}): ${errorMessage(error)}. Offline? Try --local with chatctl dev running.`;
  }
  // Any other AWS service error is the service's own sentence: show it, without a stack.
  const metadata = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
  if (metadata && typeof metadata.httpStatusCode === "number") return `error: ${name}: ${error.message}`;
  return undefined;
}
