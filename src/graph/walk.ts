// A generic walker over a dependency graph, in the spirit of terraform's dag.Walker.
// It knows nodes by id and nothing else: reading state and executing a plan give it
// their own visit function and their own meaning of a result.

export interface WalkNode {
  readonly id: string;
  /** Ids that must be done first. Ids that are not nodes of this walk, and the node itself, are ignored. */
  readonly dependsOn: readonly string[];
}

export type NodeResult<R> =
  | { readonly status: "done"; readonly value: R }
  | { readonly status: "failed"; readonly error: unknown }
  /** Never visited because `cause` (a failed node it depends on, maybe indirectly) failed. */
  | { readonly status: "skipped"; readonly cause: string }
  /** Never visited because the walk was aborted first. */
  | { readonly status: "cancelled" }
  /** Never visited because it waits, directly or not, on itself. */
  | { readonly status: "cycle" };

export interface WalkOptions<R> {
  /** Visits in flight at once (default 8). */
  readonly concurrency?: number;
  /** Once aborted, no new visit starts; visits in flight finish and are awaited. */
  readonly signal?: AbortSignal;
  /** Called once per node, as its result becomes known, in that order. */
  readonly onSettled?: (id: string, result: NodeResult<R>) => void;
}

export interface WalkResult<R> {
  /** One per node, in the order the nodes were given. */
  readonly results: ReadonlyMap<string, NodeResult<R>>;
  /** The failures of visits, in the order they happened. Skipped nodes add nothing here: their cause is here already. */
  readonly errors: ReadonlyArray<{ readonly id: string; readonly error: unknown }>;
  /** Nodes that could never start: the members of a cycle and what waits on them. Empty for a proper graph. */
  readonly cycle: readonly string[];
  readonly interrupted: boolean;
}

export class DependencyCycleError extends Error {
  constructor(readonly members: readonly string[]) {
    super(`dependency cycle between ${members.join(", ")}`);
    this.name = "DependencyCycleError";
  }
}

/**
 * Visits every node once all it depends on are done, at most `concurrency` at a
 * time; among the nodes ready together, the one given first starts first. When a
 * visit fails, every node that depends on it (maybe indirectly) is skipped with
 * that failure as its cause, and the rest of the graph goes on. Never throws:
 * what went wrong is in the result.
 */
export async function walk<R>(nodes: readonly WalkNode[], visit: (id: string) => Promise<R>, opts: WalkOptions<R> = {}): Promise<WalkResult<R>> {
  const bound = Math.max(1, Math.floor(opts.concurrency ?? 8));
  const index = new Map(nodes.map((n, i) => [n.id, i]));
  if (index.size !== nodes.length) throw new Error("walk: node ids must be unique");

  const byId = new Map(nodes.map((n) => [n.id, n]));
  const { waitingOn, dependents } = edges([...index.keys()], (id) => byId.get(id)!.dependsOn);

  const results = new Map<string, NodeResult<R>>();
  const errors: Array<{ id: string; error: unknown }> = [];
  const ready: string[] = nodes.filter((n) => waitingOn.get(n.id) === 0).map((n) => n.id);
  let running = 0;
  let finished: () => void = () => {};
  const allSettled = new Promise<void>((resolve) => (finished = resolve));

  const settle = (id: string, result: NodeResult<R>) => {
    results.set(id, result);
    opts.onSettled?.(id, result);
  };
  const byIndex = (a: string, b: string) => index.get(a)! - index.get(b)!;

  const skipDependentsOf = (failed: string) => {
    // Everything downstream, reported in node order so the report reads like the graph.
    const reached = new Set<string>();
    const stack = [...(dependents.get(failed) ?? [])];
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (reached.has(id) || results.has(id)) continue;
      reached.add(id);
      stack.push(...(dependents.get(id) ?? []));
    }
    for (const id of [...reached].sort(byIndex)) settle(id, { status: "skipped", cause: failed });
  };

  const release = (id: string) => {
    for (const next of dependents.get(id) ?? []) {
      const left = waitingOn.get(next)! - 1;
      waitingOn.set(next, left);
      if (left === 0 && !results.has(next)) insertSorted(ready, next, byIndex);
    }
  };

  const pump = () => {
    while (running < bound && ready.length > 0 && opts.signal?.aborted !== true) {
      const id = ready.shift()!;
      if (results.has(id)) continue; // skipped while it waited for a slot
      running++;
      void run(id);
    }
    if (running === 0) finished();
  };

  const run = async (id: string) => {
    try {
      const value = await visit(id);
      settle(id, { status: "done", value });
      release(id);
    } catch (error) {
      errors.push({ id, error });
      settle(id, { status: "failed", error });
      skipDependentsOf(id);
    } finally {
      running--;
      pump();
    }
  };

  pump();
  await allSettled;

  const interrupted = opts.signal?.aborted === true;
  const cycle: string[] = [];
  for (const n of nodes) {
    if (results.has(n.id)) continue;
    if (interrupted) settle(n.id, { status: "cancelled" });
    else {
      cycle.push(n.id);
      settle(n.id, { status: "cycle" });
    }
  }
  const ordered = new Map(nodes.map((n) => [n.id, results.get(n.id)!]));
  return { results: ordered, errors, cycle, interrupted };
}

/**
 * For each node, how many distinct nodes it waits on, and who waits on it. Ids
 * that are not nodes, and a node's dependency on itself, are left out.
 */
export function edges(ids: readonly string[], dependsOn: (id: string) => readonly string[]) {
  const nodes = new Set(ids);
  const waitingOn = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const id of nodes) {
    const deps = new Set(dependsOn(id).filter((d) => d !== id && nodes.has(d)));
    waitingOn.set(id, deps.size);
    for (const d of deps) {
      const list = dependents.get(d) ?? [];
      list.push(id);
      dependents.set(d, list);
    }
  }
  return { waitingOn, dependents };
}

/** Inserts `id` before the first element that sorts after it. */
export function insertSorted(list: string[], id: string, compare: (a: string, b: string) => number): void {
  let i = 0;
  while (i < list.length && compare(list[i]!, id) < 0) i++;
  list.splice(i, 0, id);
}
