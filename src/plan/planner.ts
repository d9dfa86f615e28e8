import { ref, type Actual, type AnyResourceKind, type Change, type Ctx, type DesiredResource, type Ref } from "../resources/kind.js";
import { collectRefs, mapRefs, resolveProps, resolveRef, type Outputs } from "../resources/refs.js";
import { topologicalOrder } from "../graph/order.js";
import { compareStrings, fingerprintSnapshot, type Orphan, type StateSnapshot } from "./snapshot.js";
import type { Action, Conflict, Kept, Plan, PlanSummary, Step } from "./types.js";

export interface PlanInput {
  readonly mode: "apply" | "destroy";
  readonly stack: string;
  readonly region: string;
  readonly accountId: string;
  /** For outputs kinds derive from props (ARNs); "aws" when omitted. */
  readonly partition?: string;
  readonly desired: readonly DesiredResource[];
  readonly state: StateSnapshot;
  /** Used only for `diff`, which is pure. */
  readonly registry: Readonly<Record<string, AnyResourceKind>>;
  readonly options: { readonly deleteData: boolean };
  /** ISO time stamped on the plan; pass it to keep planning fully deterministic. */
  readonly createdAt?: string;
}

export const REASON_ORPHAN = "no longer in chat.yaml";
export const REASON_HOLDS_DATA = "holds items; pass --delete-data to delete it";
export const REASON_RETAIN = "onDestroy is retain";

/**
 * Desired vs actual -> steps. Pure: everything it knows comes in `input`, so
 * its tests are literal objects in, steps out.
 */
export function planChanges(input: PlanInput): Plan {
  const { stack, state } = input;
  const byId = new Map(input.desired.map((d) => [d.id, d]));
  const depsOf = (d: DesiredResource) => unique([...d.dependsOn, ...collectRefs(d.props).map((r) => r.$ref)]);
  const order = topologicalOrder([...byId.keys()], (id) => depsOf(byId.get(id)!));

  const drafts = new Map<string, Draft>();
  const derived = derivedOutputs(input, byId);
  const conflicts: Conflict[] = [];
  const kept: Kept[] = [];
  const foreign = new Map<string, ForeignOwner>(); // desired ids we must not touch, and why
  const replaced = new Set<string>(); // ids whose outputs change during apply

  for (const id of order) {
    const d = byId.get(id)!;
    const read = state.resources[id] ?? { status: "absent" as const };
    if (read.status !== "present") {
      if (input.mode === "apply") drafts.set(id, { id, kind: d.kind, name: d.name, action: "create", changes: createChanges(d.props), desired: d });
      continue;
    }
    const actual = read.actual;
    const owner = foreignOwner(d, actual, stack, foreign, byId);
    if (owner) {
      foreign.set(id, owner);
      if (input.mode === "apply") conflicts.push({ id, kind: d.kind, name: d.name, owner: owner.stack, message: owner.message });
      else kept.push({ id, kind: d.kind, name: d.name, reason: owner.why });
      continue;
    }

    if (input.mode === "destroy") {
      if (d.retainOnDestroy) kept.push({ id, kind: d.kind, name: d.name, reason: REASON_RETAIN });
      else if (actual.deletionBlocked) kept.push({ id, kind: d.kind, name: d.name, reason: actual.deletionBlocked });
      else if (actual.holdsData && !input.options.deleteData) kept.push({ id, kind: d.kind, name: d.name, reason: REASON_HOLDS_DATA });
      else drafts.set(id, { id, kind: d.kind, name: d.name, action: "delete", changes: [], actual, ...(actual.holdsData ? { destroysData: true } : {}) });
      continue;
    }

    const kind = input.registry[d.kind];
    if (kind === undefined) throw new Error(`no resource kind "${d.kind}" is registered (needed by ${id})`);
    const changes = diffAgainst(d, actual, kind, state.outputs, replaced, derived);
    if (changes.length === 0) {
      drafts.set(id, { id, kind: d.kind, name: d.name, action: "noop", changes, desired: d, actual });
      continue;
    }
    const forcing = changes.find((c) => c.forcesReplacement);
    if (forcing === undefined) {
      drafts.set(id, { id, kind: d.kind, name: d.name, action: "update", changes, desired: d, actual });
      continue;
    }
    const reason = forcing.reason ?? `${forcing.path} cannot change in place`;
    if (actual.deletionBlocked) {
      kept.push({ id, kind: d.kind, name: d.name, reason: `must be replaced (${reason}) but ${actual.deletionBlocked}` });
      continue;
    }
    if (actual.holdsData && !input.options.deleteData) {
      kept.push({ id, kind: d.kind, name: d.name, reason: `must be replaced (${reason}) but holds items; pass --delete-data to replace it` });
      continue;
    }
    const destroysData = actual.holdsData === true || changes.some((c) => c.destroysData);
    drafts.set(id, { id, kind: d.kind, name: d.name, action: "replace", changes, reason, desired: d, actual, ...(destroysData ? { destroysData } : {}) });
    replaced.add(id);
  }

  for (const orphan of state.orphans) {
    if (!orphanIsOurs(orphan, stack)) continue;
    const id = uniqueId(orphanStepId(orphan), drafts, byId);
    const name = orphan.actual.physicalId;
    if (orphan.actual.deletionBlocked) {
      kept.push({ id, kind: orphan.kind, name, reason: orphan.actual.deletionBlocked });
      continue;
    }
    if (orphan.actual.holdsData && !input.options.deleteData) {
      kept.push({ id, kind: orphan.kind, name, reason: REASON_HOLDS_DATA });
      continue;
    }
    drafts.set(id, {
      id,
      kind: orphan.kind,
      name,
      action: "delete",
      changes: [],
      reason: REASON_ORPHAN,
      actual: orphan.actual,
      orphan: true,
      ...(orphan.actual.holdsData ? { destroysData: true } : {}),
    });
  }

  if (input.mode === "apply") redeployWhatCaptures(drafts);
  const dependsOn = dependencies(drafts, byId, depsOf);
  const stepOrder = topologicalOrder([...drafts.keys()], (id) => dependsOn.get(id) ?? []);
  const steps: Step[] = stepOrder.map((id) => toStep(drafts.get(id)!, dependsOn.get(id) ?? []));

  return {
    version: 1,
    mode: input.mode,
    stack,
    region: input.region,
    accountId: input.accountId,
    createdAt: input.createdAt ?? new Date().toISOString(),
    fingerprint: fingerprintSnapshot(state),
    steps,
    conflicts: conflicts.sort((a, b) => compareStrings(a.id, b.id)),
    kept: kept.sort((a, b) => compareStrings(a.id, b.id)),
    outputs: state.outputs,
  };
}

export function summarize(plan: Plan): PlanSummary {
  const count = (a: Action) => plan.steps.filter((s) => s.action === a).length;
  return { create: count("create"), update: count("update"), replace: count("replace"), delete: count("delete"), noop: count("noop") };
}

export function hasChanges(plan: Plan): boolean {
  return plan.steps.some((s) => s.action !== "noop");
}

interface Draft {
  readonly id: string;
  readonly kind: string;
  readonly name: string;
  readonly action: Action;
  readonly changes: readonly Change[];
  readonly reason?: string;
  readonly destroysData?: boolean;
  readonly desired?: DesiredResource;
  readonly actual?: Actual<unknown>;
  readonly orphan?: boolean;
}

function toStep(d: Draft, dependsOn: readonly string[]): Step {
  return {
    id: d.id,
    kind: d.kind,
    name: d.name,
    action: d.action,
    changes: d.changes,
    dependsOn,
    ...(d.reason !== undefined ? { reason: d.reason } : {}),
    ...(d.destroysData ? { destroysData: true } : {}),
    ...(d.desired !== undefined ? { desired: d.desired } : {}),
    ...(d.actual !== undefined ? { actual: d.actual } : {}),
  };
}

// ---------------------------------------------------------------- ownership

interface ForeignOwner {
  readonly stack: string | undefined;
  readonly message: string; // a whole sentence, for conflicts
  readonly why: string; // its tail, for resources destroy leaves alone
}

/** Why we must not touch an existing resource, or undefined when it is ours. */
function foreignOwner(
  d: DesiredResource,
  actual: Actual<unknown>,
  stack: string,
  foreign: ReadonlyMap<string, ForeignOwner>,
  byId: ReadonlyMap<string, DesiredResource>,
): ForeignOwner | undefined {
  const own = actual.ownership;
  if (own.by === "tags") {
    if (own.stack === stack) return undefined;
    const carries = own.stack === undefined ? "it carries no chatctl tag" : `it carries chatctl:stack=${own.stack}`;
    return foreignBecause(d, own.stack, `not managed by stack ${stack} (${carries})`);
  }
  // Owned through a parent: as foreign as the parent it lives under.
  for (const r of collectRefs(d.props)) {
    const parentOwner = foreign.get(r.$ref);
    const parent = byId.get(r.$ref);
    if (parentOwner === undefined || parent === undefined) continue;
    return foreignBecause(d, parentOwner.stack, `not managed by stack ${stack} (it belongs to ${noun(parent.kind)} ${parent.name}, which is not)`);
  }
  return undefined;
}

function foreignBecause(d: DesiredResource, owner: string | undefined, why: string): ForeignOwner {
  return { stack: owner, why, message: `${article(noun(d.kind))} ${noun(d.kind)} named ${d.name} exists and is ${why}` };
}

function orphanIsOurs(o: Orphan, stack: string): boolean {
  return o.actual.ownership.by === "parent" || o.actual.ownership.stack === stack;
}

const NOUNS: Readonly<Record<string, string>> = { "logs.group": "log group", "apigw.api": "API" };

/** "iam.role" -> "role": how a person would name the kind in a sentence. */
export function noun(kind: string): string {
  return NOUNS[kind] ?? kind.slice(kind.lastIndexOf(".") + 1);
}

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? "an" : "a";
}

function orphanStepId(o: Orphan): string {
  return o.logicalId !== "" ? o.logicalId : `${o.kind}:${o.actual.physicalId}`;
}

function uniqueId(id: string, drafts: ReadonlyMap<string, Draft>, byId: ReadonlyMap<string, DesiredResource>): string {
  if (!drafts.has(id) && !byId.has(id)) return id;
  for (let n = 2; ; n++) if (!drafts.has(`${id}#${n}`) && !byId.has(`${id}#${n}`)) return `${id}#${n}`;
}

// ---------------------------------------------------------------- changes

function createChanges(props: unknown): Change[] {
  if (typeof props !== "object" || props === null || Array.isArray(props)) return [{ path: "", before: undefined, after: props }];
  return Object.keys(props)
    .sort(compareStrings)
    .filter((k) => (props as Record<string, unknown>)[k] !== undefined)
    .map((k) => ({ path: k, before: undefined, after: (props as Record<string, unknown>)[k] }));
}

// Stand-ins for values that will only be known once apply has run: the kind
// diffs against them like any other string, and each one found in a change is
// turned back into the Ref it stands for.
const UNKNOWN_MARK = "\u0000chatctl-unknown:";

/**
 * The kind's diff, with Refs to resources being replaced (or not readable)
 * treated as unknown. A resource that takes such a Ref is updated even when
 * its diff would not say so, because the value it holds is about to change.
 */
function diffAgainst(
  d: DesiredResource,
  actual: Actual<unknown>,
  kind: AnyResourceKind,
  outputs: Outputs,
  replaced: ReadonlySet<string>,
  derived: (id: string) => Readonly<Record<string, string>>,
): Change[] {
  const unknowns: Ref[] = [];
  const placeholder = (r: Ref): string => {
    let i = unknowns.findIndex((u) => u.$ref === r.$ref && u.output === r.output);
    if (i < 0) i = unknowns.push(ref(r.$ref, r.output)) - 1;
    const mark = `${UNKNOWN_MARK}${i}\u0000`;
    return r.format === undefined ? mark : r.format.split("{}").join(mark);
  };
  // A replacement keeps what its kind derives from props alone (a table's ARN, from its name).
  const survivesReplacement = (r: Ref) => {
    const value = derived(r.$ref)[r.output];
    return value !== undefined && value === outputs[r.$ref]?.[r.output];
  };
  const isUnknown = (r: Ref) => (replaced.has(r.$ref) && !survivesReplacement(r)) || resolveRef(r, outputs) === undefined;
  const resolved = mapRefs(d.props, (r) => (isUnknown(r) ? placeholder(r) : resolveRef(r, outputs)));
  const backToRefs = (v: unknown) => mapStrings(v, (s) => unmark(s, unknowns));

  const changes = kind
    .diff({ id: d.id, kind: d.kind, name: d.name, props: resolved }, actual)
    .map((c) => ({ ...c, after: backToRefs(c.after) }));
  if (unknowns.length === 0 || typeof d.props !== "object" || d.props === null) return changes;

  const covered = (key: string) => changes.some((c) => c.path === key || c.path.startsWith(`${key}.`) || c.path === "");
  const before = resolveProps<Record<string, unknown>>(d.props, outputs);
  for (const key of Object.keys(d.props).sort(compareStrings)) {
    const value = (d.props as Record<string, unknown>)[key];
    if (!collectRefs(value).some(isUnknown) || covered(key)) continue;
    changes.push({
      path: key,
      before: before.resolved ? before.value[key] : undefined,
      after: backToRefs((resolved as Record<string, unknown>)[key]),
    });
  }
  return changes;
}

// A kind may show a value as JSON text (a policy document), where the mark's NULs
// are escaped: both spellings are found.
const MARKS = /\u0000chatctl-unknown:(\d+)\u0000|\\u0000chatctl-unknown:(\d+)\\u0000/g;

/**
 * The string with its marks turned back: one Ref (with a format when there is
 * text around it) when they all stand for one value, else text that says which
 * values are not known yet. The marks themselves never reach a plan.
 */
function unmark(s: string, unknowns: readonly Ref[]): unknown {
  const found = [...s.matchAll(MARKS)].map((m) => Number(m[1] ?? m[2]));
  if (found.length === 0) return s;
  const distinct = [...new Set(found)];
  const target = unknowns[distinct[0]!]!;
  if (distinct.length === 1) {
    const format = s.replace(MARKS, "{}");
    return format === "{}" ? target : ref(target.$ref, target.output, format);
  }
  return s.replace(MARKS, (_m, a: string | undefined, b: string | undefined) => {
    const r = unknowns[Number(a ?? b)]!;
    return `(${r.$ref}.${r.output}, known after apply)`;
  });
}

/**
 * What each desired resource's kind derives from its props alone (knownOutputs),
 * memoized. Those outputs do not depend on the resource's identity in AWS, so they
 * stay the same across a replacement. The planner makes no AWS call: a kind that
 * reached for a client here would be wrong, and is told so.
 */
function derivedOutputs(input: PlanInput, byId: ReadonlyMap<string, DesiredResource>): (id: string) => Readonly<Record<string, string>> {
  const ctx: Ctx = {
    region: input.region,
    accountId: input.accountId,
    partition: input.partition ?? "aws",
    stack: input.stack,
    get clients(): never {
      throw new Error("knownOutputs must not call AWS");
    },
  };
  const memo = new Map<string, Readonly<Record<string, string>>>();
  return (id) => {
    const known = memo.get(id);
    if (known) return known;
    const d = byId.get(id);
    const kind = d === undefined ? undefined : input.registry[d.kind];
    let out: Record<string, string> = {};
    if (d !== undefined && kind?.knownOutputs !== undefined) {
      const props = resolveProps(d.props, input.state.outputs);
      if (props.resolved) out = kind.knownOutputs(ctx, { id: d.id, kind: d.kind, name: d.name, props: props.value });
    }
    memo.set(id, out);
    return out;
  };
}

function mapStrings(value: unknown, f: (s: string) => unknown): unknown {
  if (typeof value === "string") return f(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, f));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, f)]));
  }
  return value;
}

// ---------------------------------------------------------------- ordering

/**
 * A snapshot (a deployment) holds what it captured when it was made: a route,
 * integration or authorizer changed in any way, also out of band, is live only
 * in a new one. So a snapshot that would otherwise stay as it is is made anew
 * when anything it captures changes.
 */
function redeployWhatCaptures(drafts: Map<string, Draft>): void {
  for (const draft of drafts.values()) {
    const captures = draft.desired?.captures;
    if (draft.action !== "noop" || captures === undefined) continue;
    const changed = [...drafts.values()].find((other) => other.action !== "noop" && captures.includes(other.kind));
    if (changed === undefined) continue;
    drafts.set(draft.id, { ...draft, action: "update", reason: `${changed.kind} ${changed.name} changes, and only a new deployment serves it` });
  }
}

/**
 * Creates and updates wait for what they depend on; deletes wait for the
 * deletes of everything that depended on them (reverse order). Orphans carry
 * no graph, so they are ordered by kind, as learnt from the desired graph: an
 * orphan integration is deleted after routes (which may still point at it) have
 * been changed or deleted. A resource that captures a kind (a deployment, of
 * routes and integrations) waits for that kind's orphan deletes instead.
 */
function dependencies(
  drafts: ReadonlyMap<string, Draft>,
  byId: ReadonlyMap<string, DesiredResource>,
  depsOf: (d: DesiredResource) => string[],
): Map<string, string[]> {
  const result = new Map<string, Set<string>>();
  const add = (from: string, to: string) => {
    if (from === to) return;
    const set = result.get(from) ?? new Set<string>();
    set.add(to);
    result.set(from, set);
  };

  const dependents = new Map<string, string[]>();
  for (const d of byId.values()) {
    for (const dep of depsOf(d)) dependents.set(dep, [...(dependents.get(dep) ?? []), d.id]);
  }

  for (const draft of drafts.values()) {
    if (draft.action !== "delete") {
      for (const dep of depsOf(draft.desired!)) {
        const target = drafts.get(dep);
        if (target !== undefined && target.action !== "delete") add(draft.id, dep);
      }
    } else if (!draft.orphan) {
      // Walk through dependents that have no delete step (kept ones) to those that do.
      const seen = new Set<string>();
      const queue = [...(dependents.get(draft.id) ?? [])];
      while (queue.length > 0) {
        const next = queue.shift()!;
        if (seen.has(next)) continue;
        seen.add(next);
        if (drafts.get(next)?.action === "delete") add(draft.id, next);
        else queue.push(...(dependents.get(next) ?? []));
      }
    }
  }

  const dependsOnKind = kindReach(byId, depsOf);
  const strictlyDepends = (a: string, b: string) => a !== b && dependsOnKind(a, b) && !dependsOnKind(b, a);
  const orphanDeletes = [...drafts.values()].filter((d) => d.orphan);
  for (const o of orphanDeletes) {
    for (const other of drafts.values()) {
      if (other.id === o.id || other.action === "noop") continue;
      // A snapshot made after the orphan went no longer holds it; one made before would keep it live.
      if (other.action !== "delete" && other.desired?.captures?.includes(o.kind)) {
        add(other.id, o.id);
        continue;
      }
      // Whatever may still use the orphan moves away from it, or goes, first.
      if (strictlyDepends(other.kind, o.kind)) add(o.id, other.id);
      // A desired resource being deleted outlives orphans that depend on its kind.
      if (other.action === "delete" && !other.orphan && strictlyDepends(o.kind, other.kind)) add(other.id, o.id);
    }
  }

  const out = new Map<string, string[]>();
  for (const [id, set] of result) out.set(id, [...set].sort(compareStrings));
  return out;
}

/** kind A depends on kind B when some resource of A depends, directly or not, on one of B. */
function kindReach(byId: ReadonlyMap<string, DesiredResource>, depsOf: (d: DesiredResource) => string[]) {
  const edges = new Map<string, Set<string>>();
  for (const d of byId.values()) {
    for (const dep of depsOf(d)) {
      const target = byId.get(dep);
      if (target === undefined || target.kind === d.kind) continue;
      const set = edges.get(d.kind) ?? new Set<string>();
      set.add(target.kind);
      edges.set(d.kind, set);
    }
  }
  const memo = new Map<string, Set<string>>();
  const reach = (k: string): Set<string> => {
    const known = memo.get(k);
    if (known) return known;
    const seen = new Set<string>();
    memo.set(k, seen);
    const stack = [...(edges.get(k) ?? [])];
    while (stack.length > 0) {
      const next = stack.pop()!;
      if (seen.has(next)) continue;
      seen.add(next);
      stack.push(...(edges.get(next) ?? []));
    }
    return seen;
  };
  return (a: string, b: string) => reach(a).has(b);
}

function unique(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}
