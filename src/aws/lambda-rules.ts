// Rules of the Lambda service that both the spec checks (before any call) and the
// local Lambda model (which must refuse what AWS refuses) need.

/** Environment variable names Lambda refuses: its runtime sets them. */
export const RESERVED_LAMBDA_ENVIRONMENT: ReadonlySet<string> = new Set([
  "_HANDLER",
  "_X_AMZN_TRACE_ID",
  "AWS_DEFAULT_REGION",
  "AWS_REGION",
  "AWS_EXECUTION_ENV",
  "AWS_LAMBDA_FUNCTION_NAME",
  "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
  "AWS_LAMBDA_FUNCTION_VERSION",
  "AWS_LAMBDA_INITIALIZATION_TYPE",
  "AWS_LAMBDA_LOG_GROUP_NAME",
  "AWS_LAMBDA_LOG_STREAM_NAME",
  "AWS_ACCESS_KEY",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_LAMBDA_RUNTIME_API",
  "LAMBDA_TASK_ROOT",
  "LAMBDA_RUNTIME_DIR",
]);

/** Lambda's longest function name: 64 of [A-Za-z0-9_-] (a name, not an ARN). */
export const FUNCTION_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The phases of Lambda's runtime deprecation, each from its date (UTC, inclusive):
 * after `deprecated` a runtime gets no more patches; from `createBlocked` no new
 * function may use it; from `updateBlocked` no existing one may be updated.
 * Dates from the "Supported runtimes" table of
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html and the policy in
 * https://docs.aws.amazon.com/lambda/latest/dg/runtime-support-policy.html
 * (Node.js 20 reached end of life on 2026-04-30).
 */
export interface RuntimeSchedule {
  readonly deprecated: string;
  readonly createBlocked: string;
  readonly updateBlocked: string;
}

export const NODE_RUNTIMES: Readonly<Record<string, RuntimeSchedule>> = {
  "nodejs18.x": { deprecated: "2025-09-01", createBlocked: "2026-02-03", updateBlocked: "2026-03-09" },
  "nodejs20.x": { deprecated: "2026-04-30", createBlocked: "2026-08-31", updateBlocked: "2026-09-30" },
  "nodejs22.x": { deprecated: "2027-04-30", createBlocked: "2027-06-01", updateBlocked: "2027-07-01" },
  "nodejs24.x": { deprecated: "2028-04-30", createBlocked: "2028-06-01", updateBlocked: "2028-07-01" },
};

/** What chatctl picks when nothing says otherwise: the newest runtime with the longest support ahead. */
export const DEFAULT_NODE_RUNTIME = "nodejs22.x" as const;

export type RuntimePhase = "supported" | "deprecated" | "create-blocked" | "update-blocked" | "unknown";

/** Where `runtime` stands on `day` (a Date, compared by its UTC calendar day). */
export function runtimePhase(runtime: string, day: Date): RuntimePhase {
  const schedule = NODE_RUNTIMES[runtime];
  if (schedule === undefined) return "unknown";
  const today = day.toISOString().slice(0, 10);
  if (today >= schedule.updateBlocked) return "update-blocked";
  if (today >= schedule.createBlocked) return "create-blocked";
  if (today >= schedule.deprecated) return "deprecated";
  return "supported";
}

/** Runtimes a new function may use on `day`, oldest first. */
export function creatableRuntimes(day: Date): string[] {
  return Object.keys(NODE_RUNTIMES).filter((r) => {
    const phase = runtimePhase(r, day);
    return phase === "supported" || phase === "deprecated";
  });
}

/** One sentence on a runtime Lambda no longer takes (or will soon stop taking), for errors and warnings. */
export function runtimeAdvice(runtime: string, day: Date): string | undefined {
  const schedule = NODE_RUNTIMES[runtime];
  if (schedule === undefined) return undefined;
  const phase = runtimePhase(runtime, day);
  const use = `use ${creatableRuntimes(day).filter((r) => runtimePhase(r, day) === "supported").join(" or ") || "a supported runtime"}`;
  switch (phase) {
    case "update-blocked":
      return `Lambda has refused new functions on ${runtime} since ${schedule.createBlocked} and updates since ${schedule.updateBlocked}; ${use}`;
    case "create-blocked":
      return `Lambda has refused new functions on ${runtime} since ${schedule.createBlocked}, and refuses updates from ${schedule.updateBlocked}; ${use}`;
    case "deprecated":
      return `${runtime} has been deprecated since ${schedule.deprecated}: Lambda refuses new functions on it from ${schedule.createBlocked} and updates from ${schedule.updateBlocked}; ${use}`;
    default:
      return undefined;
  }
}
