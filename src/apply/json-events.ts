import type { Plan } from "../plan/types.js";
import { summarize } from "../plan/planner.js";
import type { ApplyEvent, ApplyResult, StepInfo } from "./executor.js";
import { summarizeApply } from "./progress.js";

// `apply --json` / `destroy --json`: one JSON object per line while the run goes
// on, as Terraform's machine-readable UI does. `version` changes only when a
// field changes meaning or goes away; new fields and new types may appear.

export const APPLY_JSON_VERSION = "1.0";

export type JsonSink = (line: string) => void;

interface Common {
  readonly version: string;
  readonly timestamp: string;
  readonly type: string;
}

const step = (s: StepInfo) => ({ id: s.id, kind: s.kind, name: s.name, action: s.action });

export function createJsonEvents(sink: JsonSink, now: () => Date = () => new Date()) {
  const emit = (type: string, body: Record<string, unknown>): void => {
    const common: Common = { version: APPLY_JSON_VERSION, timestamp: now().toISOString(), type };
    sink(JSON.stringify({ ...common, ...body }));
  };
  return {
    plan(plan: Plan): void {
      const changes = plan.steps.filter((s) => s.action !== "noop").map(step);
      emit("plan", { mode: plan.mode, stack: plan.stack, ...(plan.environment ? { environment: plan.environment } : {}), account_id: plan.accountId, region: plan.region, summary: summarize(plan), changes });
    },
    event(e: ApplyEvent): void {
      if (e.type === "started") emit("started", { step: step(e.step) });
      else if (e.type === "retrying") emit("retried", { step: step(e.step), attempt: e.attempt, max_attempts: e.maxAttempts, delay_ms: e.delayMs, reason: e.reason, error: e.error });
      else {
        emit("finished", {
          step: step(e.step),
          outcome: e.outcome,
          ms: e.ms,
          ...(e.error !== undefined ? { error: e.error } : {}),
          ...(e.blockedBy ? { blocked_by: step(e.blockedBy) } : {}),
          ...(e.interrupted ? { interrupted: true } : {}),
        });
      }
    },
    summary(plan: Plan, result: ApplyResult | undefined, exitCode: number): void {
      const outcomes: Record<string, number> = {};
      for (const s of result?.steps ?? []) outcomes[s.outcome] = (outcomes[s.outcome] ?? 0) + 1;
      emit("summary", {
        mode: plan.mode,
        ok: result?.ok ?? true,
        exit_code: exitCode,
        message: result ? summarizeApply(result) : "No changes.",
        outcomes,
        ...(result?.interrupted ? { interrupted: true } : {}),
        ...(plan.mode === "apply" && (result?.outputs ?? plan.outputs).stage?.invokeUrl ? { url: (result?.outputs ?? plan.outputs).stage?.invokeUrl } : {}),
      });
    },
    error(message: string): void {
      emit("error", { message });
    },
  };
}

export type JsonEvents = ReturnType<typeof createJsonEvents>;
