export type LogLevel = "info" | "warn" | "error";

export interface LogLine {
  readonly level: LogLevel;
  readonly route: string;
  readonly connectionId?: string; // absent in invocations no connection made (a broadcast segment)
  readonly durationMs: number;
  readonly [field: string]: unknown;
}

/**
 * One JSON line per event, so CloudWatch Logs Insights (and `chatctl lambda-logs`)
 * can filter on fields. Errors go to stderr, as Lambda's own runtime does.
 */
export function logEvent(line: LogLine): void {
  const text = JSON.stringify(line);
  if (line.level === "error") console.error(text);
  else console.log(text);
}

export function errorFields(err: unknown): { errorName: string; errorMessage: string } {
  if (err instanceof Error) return { errorName: err.name, errorMessage: err.message };
  return { errorName: "Error", errorMessage: String(err) };
}

/** Milliseconds since `started` (a performance.now() reading), to 0.01 ms. */
export function since(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}
