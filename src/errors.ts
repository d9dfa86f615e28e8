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
