import type { Actual, AnyResourceKind, Ctx } from "../resources/kind.js";
import { registry as allKinds } from "../resources/registry.js";
import type { Plan, Step } from "../plan/types.js";
import type { StateSnapshot } from "../plan/snapshot.js";
import { stackUrl } from "./run.js";

export interface ComponentStatus {
  readonly id: string;
  readonly kind: string;
  readonly name: string;
  /** ok: exists and matches chat.yaml; drift: exists but differs; missing; conflict: someone else's; orphan: ours, no longer in the spec. */
  readonly state: "ok" | "drift" | "missing" | "conflict" | "orphan";
  readonly health?: string; // "Active", "ACTIVE, 12 items", "deployed 2026-11-25T10:00:00Z"
  readonly drift?: readonly string[]; // attributes that differ
}

export interface StackStatus {
  readonly stack: string;
  readonly region: string;
  readonly url: string | undefined;
  readonly components: readonly ComponentStatus[];
  readonly healthy: boolean;
}

function stateOf(step: Step | undefined, present: boolean, conflict: boolean): ComponentStatus["state"] {
  if (conflict) return "conflict";
  if (!present) return "missing";
  if (step && (step.action === "update" || step.action === "replace")) return "drift";
  return "ok";
}

export interface StatusOptions {
  readonly codeChecked: boolean;
  /** The kinds asked for health (default: every kind chatctl manages). */
  readonly registry?: Readonly<Record<string, AnyResourceKind>>;
}

export async function stackStatus(ctx: Ctx, plan: Plan, state: StateSnapshot, opts: StatusOptions): Promise<StackStatus> {
  const registry = opts.registry ?? allKinds;
  const steps = new Map(plan.steps.map((s) => [s.id, s]));
  const conflicts = new Set(plan.conflicts.map((c) => c.id));
  const components: ComponentStatus[] = [];
  for (const [id, read] of Object.entries(state.resources)) {
    const step = steps.get(id);
    const present = read.status === "present";
    let drift = step && (step.action === "update" || step.action === "replace") ? step.changes.map((c) => c.path) : [];
    // Without bundling, the code's identity is unknown: never report it as drift.
    if (!opts.codeChecked) drift = drift.filter((p) => !p.startsWith("code"));
    const s = stateOf(step, present, conflicts.has(id));
    components.push({
      id,
      kind: step?.kind ?? plan.conflicts.find((c) => c.id === id)?.kind ?? "",
      name: step?.name ?? plan.conflicts.find((c) => c.id === id)?.name ?? id,
      state: s === "drift" && drift.length === 0 ? "ok" : s,
      ...(drift.length > 0 ? { drift } : {}),
      ...(present ? { health: await healthOf(ctx, step && registry[step.kind], read.actual) } : {}),
    });
  }
  for (const o of state.orphans) {
    components.push({ id: o.logicalId, kind: o.kind, name: o.actual.physicalId, state: "orphan" });
  }
  components.sort((a, b) => (a.kind === b.kind ? (a.id < b.id ? -1 : 1) : a.kind < b.kind ? -1 : 1));
  return {
    stack: plan.stack,
    region: plan.region,
    url: stackUrl(state.outputs),
    components,
    healthy: components.every((c) => c.state === "ok"),
  };
}

async function healthOf(ctx: Ctx, kind: AnyResourceKind | undefined, actual: Actual<unknown>): Promise<string | undefined> {
  try {
    return await kind?.health?.(ctx, actual);
  } catch {
    return undefined; // health is a courtesy: a failed extra read never fails status
  }
}
