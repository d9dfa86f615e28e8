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
