import type { Actual, AnyResourceKind, Ctx, DesiredResource, ResolvedResource } from "../resources/kind.js";
import { collectRefs, resolveProps, type Outputs } from "../resources/refs.js";
import { DependencyCycleError, walk } from "../graph/walk.js";
import { errorMessage } from "../errors.js";
import { compareStrings, type Orphan, type ReadState, type StateSnapshot } from "./snapshot.js";

export interface ReadStateOptions {
  /** How many reads may be in flight at once (default 8). */
  readonly concurrency?: number;
  /**
   * Turns the outputs of what this stack owns into the `parents` passed to each
   * kind's `list`. The default flattens them: `{ apiId, "api.apiId", ... }`.
   */
  readonly listParents?: (ownedOutputs: Outputs) => Readonly<Record<string, string>>;
}

/** Reading failed for some resources; all failures are reported together. */
export class ReadStateError extends Error {
  constructor(readonly failures: ReadonlyArray<{ readonly id: string; readonly kind: string; readonly error: unknown }>) {
    super(
      `could not read ${failures.length === 1 ? "1 resource" : `${failures.length} resources`}: ` +
        failures.map((f) => `${f.id} (${f.kind}): ${errorMessage(f.error)}`).join("; "),
    );
    this.name = "ReadStateError";
  }
}

export class UnknownKindError extends Error {
  constructor(readonly kind: string, readonly id: string) {
    super(`no resource kind "${kind}" is registered (needed by ${id})`);
    this.name = "UnknownKindError";
  }
}

/**
 * The impure half of planning: reads every desired resource, and lists what the
 * stack owns to find orphans. A resource is read once the resources its Refs
 * name have been read, so its Refs resolve from their outputs; independent
 * reads run in parallel. Both `plan` and `destroy` use the same snapshot: the
 * desired graph is what tells us where to look.
 */
export async function readState(
  ctx: Ctx,
  desired: readonly DesiredResource[],
  registry: Readonly<Record<string, AnyResourceKind>>,
  opts: ReadStateOptions = {},
): Promise<StateSnapshot> {
  const concurrency = opts.concurrency ?? 8;
  const byId = new Map(desired.map((d) => [d.id, d]));
  for (const d of desired) if (registry[d.kind] === undefined) throw new UnknownKindError(d.kind, d.id);

  const refTargets = (id: string) => collectRefs(byId.get(id)!.props).map((r) => r.$ref);
  const states = new Map<string, ReadState>();
  const outputs: Record<string, Record<string, string>> = {};
  const failures: Array<{ id: string; kind: string; error: unknown }> = [];

  // A resource is read after those its Refs name, so the Refs resolve from their outputs.
  const readOne = async (id: string): Promise<void> => {
    const d = byId.get(id)!;
    const resolution = resolveProps(d.props, outputs);
    if (!resolution.resolved) {
      states.set(d.id, { status: "unknown-parent", missing: resolution.missing });
      return;
    }
    const kind = registry[d.kind]!;
    const resolved: ResolvedResource = { id: d.id, kind: d.kind, name: d.name, props: resolution.value };
    const known = kind.knownOutputs?.(ctx, resolved) ?? {};
    const actual = await kind.read(ctx, resolved);
    if (Object.keys(known).length > 0 || actual !== undefined) outputs[d.id] = { ...known, ...actual?.outputs };
    states.set(d.id, actual === undefined ? { status: "absent" } : { status: "present", actual });
  };
  const reads = await walk(
    desired.map((d) => ({ id: d.id, dependsOn: refTargets(d.id) })),
    readOne,
    { concurrency },
  );
  // No order of reads could resolve a cycle of Refs.
  if (reads.cycle.length > 0) throw new DependencyCycleError([...reads.cycle].sort(compareStrings));
  // Only root causes: what waits on a failed read is skipped, and says nothing new.
  for (const { id, error } of reads.errors) failures.push({ id, kind: byId.get(id)!.kind, error });
  if (failures.length > 0) throw new ReadStateError(sortFailures(failures));

  const owned: Record<string, Record<string, string>> = {};
  for (const [id, state] of states) {
    if (state.status === "present" && isOurs(state.actual, ctx.stack)) owned[id] = { ...outputs[id] };
  }
  const parents = (opts.listParents ?? flattenOutputs)(owned);

  const orphans: Orphan[] = [];
  const listable = Object.keys(registry)
    .sort(compareStrings)
    .filter((kindName) => registry[kindName]!.list !== undefined);
  const listOne = async (kindName: string): Promise<void> => {
    const found = await registry[kindName]!.list!(ctx, parents);
    for (const { logicalId, ...actual } of found) {
      // Not in the spec, a second copy of something that is (a create whose answer
      // was lost and that was sent again), or what a rename leaves behind (the spec's
      // resource, read by its new name, is absent): not the resource the plan manages.
      const managed = states.get(logicalId);
      const elsewhere =
        byId.get(logicalId)?.kind === kindName &&
        (managed?.status === "absent" || (managed?.status === "present" && managed.actual.physicalId !== actual.physicalId));
      if (!byId.has(logicalId) || elsewhere) orphans.push({ kind: kindName, logicalId, actual });
    }
  };
  const listing = await walk(
    listable.map((id) => ({ id, dependsOn: [] })),
    listOne,
    { concurrency },
  );
  for (const { id, error } of listing.errors) failures.push({ id: `(every ${id})`, kind: id, error });
  if (failures.length > 0) throw new ReadStateError(sortFailures(failures));

  const resources: Record<string, ReadState> = {};
  for (const d of desired) resources[d.id] = states.get(d.id)!;
  orphans.sort((a, b) => compareStrings(orphanKey(a), orphanKey(b)));
  return { resources, outputs, orphans };
}

/** `{ api: { apiId } }` -> `{ apiId, "api.apiId" }`; the qualified keys settle name clashes. */
export function flattenOutputs(outputs: Outputs): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const id of Object.keys(outputs).sort(compareStrings)) {
    for (const [name, value] of Object.entries(outputs[id]!)) {
      flat[name] ??= value;
      flat[`${id}.${name}`] = value;
    }
  }
  return flat;
}

function isOurs(actual: Actual<unknown>, stack: string): boolean {
  return actual.ownership.by === "parent" || actual.ownership.stack === stack;
}

function orphanKey(o: Orphan): string {
  return `${o.kind}\0${o.logicalId}\0${o.actual.physicalId}`;
}

function sortFailures<T extends { id: string }>(failures: T[]): T[] {
  return failures.sort((a, b) => compareStrings(a.id, b.id));
}
