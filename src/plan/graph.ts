import { compareStrings } from "./snapshot.js";

export class DependencyCycleError extends Error {
  constructor(readonly members: readonly string[]) {
    super(`dependency cycle between ${members.join(", ")}`);
    this.name = "DependencyCycleError";
  }
}

/**
 * Kahn's algorithm; among the nodes ready at the same time the smallest id goes
 * first, so the same graph always gives the same order. Dependencies on ids
 * that are not nodes are ignored (they are satisfied elsewhere).
 */
export function topologicalOrder(ids: readonly string[], dependsOn: (id: string) => readonly string[]): string[] {
  const nodes = new Set(ids);
  const waitingOn = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const id of nodes) {
    const deps = new Set(dependsOn(id).filter((d) => nodes.has(d) && d !== id));
    waitingOn.set(id, deps.size);
    for (const d of deps) {
      const list = dependents.get(d) ?? [];
      list.push(id);
      dependents.set(d, list);
    }
  }
  const ready = [...nodes].filter((id) => waitingOn.get(id) === 0).sort(compareStrings);
  const order: string[] = [];
  while (ready.length > 0) {
    const id = ready.shift()!;
    order.push(id);
    for (const next of dependents.get(id) ?? []) {
      const left = waitingOn.get(next)! - 1;
      waitingOn.set(next, left);
      if (left === 0) insertSorted(ready, next);
    }
  }
  if (order.length < nodes.size) {
    const placed = new Set(order);
    throw new DependencyCycleError([...nodes].filter((id) => !placed.has(id)).sort(compareStrings));
  }
  return order;
}

function insertSorted(list: string[], id: string): void {
  let i = 0;
  while (i < list.length && compareStrings(list[i]!, id) < 0) i++;
  list.splice(i, 0, id);
}
