import type { JsonEvents } from "../apply/json-events.js";

/**
 * All a use case needs of the terminal. The CLI gives its streams; tests and
 * benchmarks give a recorder. Nothing here knows about flags or clipanion.
 */
export interface AppIO {
  /** One line of the result (stdout). */
  out(line?: string): void;
  /** One line of progress, warning or error (stderr). */
  err(line?: string): void;
  /** Whether `out` may carry ANSI colours. */
  readonly color: boolean;
  /**
   * Asks before changing anything; resolves on "yes", throws a UserError otherwise
   * (also when there is nobody to ask). Not called when the user approved in advance.
   */
  confirm(question: string): Promise<void>;
  /** Set by --json: the run's events go here as JSON lines, and `out` is silent. */
  readonly events?: JsonEvents;
}
