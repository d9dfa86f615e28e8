import type { Change } from "../resources/kind.js";
import { isRef } from "../resources/refs.js";
import { hasChanges, summarize } from "./planner.js";
import { planNotices } from "./notices.js";
import type { Plan, PlanSummary, Step } from "./types.js";
import { redactChange } from "./sensitive.js";

export const PLAN_JSON_FORMAT_VERSION = "1.0";

/** A value that will only be known once apply has run. */
export interface UnknownValueJson {
  readonly unknown: true;
  readonly ref: string; // "<logical id>.<output>"
  readonly format?: string;
}

export interface ChangeJson {
  readonly path: string;
  readonly before: unknown; // null when absent
  readonly after: unknown; // null when absent; Refs as UnknownValueJson
  readonly forces_replacement: boolean;
  readonly destroys_data: boolean;
  readonly reason?: string;
}

export interface StepJson {
  readonly id: string;
  readonly kind: string;
  readonly name: string;
  readonly action: Step["action"];
  readonly reason?: string;
  readonly destroys_data: boolean;
  readonly depends_on: readonly string[];
  readonly physical_id?: string;
  readonly changes: readonly ChangeJson[];
}

export interface PlanJson {
  readonly format_version: string;
  readonly mode: Plan["mode"];
  readonly stack: string;
  readonly region: string;
  readonly account_id: string;
  /** Present when the spec declares environments. */
  readonly environment?: string;
  readonly created_at: string;
  readonly fingerprint: string;
  readonly has_changes: boolean;
  readonly summary: PlanSummary;
  readonly steps: readonly StepJson[];
  readonly conflicts: ReadonlyArray<{ id: string; kind: string; name: string; owner: string | null; message: string }>;
  readonly kept: ReadonlyArray<{ id: string; kind: string; name: string; reason: string }>;
  /** Account-wide settings the stack needs that are missing (they are no step: no stack owns them). */
  readonly notices: ReadonlyArray<{ id: string; message: string }>;
}

/**
 * The plan for machines (`chatctl plan --json`): stable keys, steps in plan
 * order (noop steps included), unknown values marked rather than guessed.
 */
export function planToJson(plan: Plan): PlanJson {
  return {
    format_version: PLAN_JSON_FORMAT_VERSION,
    mode: plan.mode,
    stack: plan.stack,
    region: plan.region,
    account_id: plan.accountId,
    ...(plan.environment !== undefined ? { environment: plan.environment } : {}),
    created_at: plan.createdAt,
    fingerprint: plan.fingerprint,
    has_changes: hasChanges(plan),
    summary: summarize(plan),
    steps: plan.steps.map(stepToJson),
    conflicts: plan.conflicts.map((c) => ({ id: c.id, kind: c.kind, name: c.name, owner: c.owner ?? null, message: c.message })),
    kept: plan.kept.map((k) => ({ id: k.id, kind: k.kind, name: k.name, reason: k.reason })),
    notices: planNotices(plan).map((n) => ({ id: n.id, message: n.lines.join(" ") })),
  };
}

function stepToJson(s: Step): StepJson {
  return {
    id: s.id,
    kind: s.kind,
    name: s.name,
    action: s.action,
    ...(s.reason !== undefined ? { reason: s.reason } : {}),
    destroys_data: s.destroysData === true,
    depends_on: [...s.dependsOn],
    ...(s.actual !== undefined ? { physical_id: s.actual.physicalId } : {}),
    changes: s.changes.map((c) => changeToJson(redactChange(c))),
  };
}

function changeToJson(c: Change): ChangeJson {
  return {
    path: c.path,
    before: toJsonValue(c.before),
    after: toJsonValue(c.after),
    forces_replacement: c.forcesReplacement === true,
    destroys_data: c.destroysData === true,
    ...(c.reason !== undefined ? { reason: c.reason } : {}),
  };
}

function toJsonValue(value: unknown): unknown {
  if (value === undefined) return null;
  if (isRef(value)) {
    return { unknown: true, ref: `${value.$ref}.${value.output}`, ...(value.format !== undefined ? { format: value.format } : {}) } satisfies UnknownValueJson;
  }
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJsonValue(v);
    return out;
  }
  return value;
}
