import { DependencyCycleError, edges, insertSorted } from "./walk.js";

// Only the planner needs an order (the order steps are shown in, and diffing a resource
// after those it depends on); running anything in dependency order is walk.ts's job.

/**
 * Kahn's algorithm; among the nodes ready at the same time the smallest id goes
 * first, so the same graph always gives the same order. Dependencies on ids
 * that are not nodes are ignored (they are satisfied elsewhere).
 */
export function topologicalOrder(ids: readonly string[], dependsOn: (id: string) => readonly string[]): string[] {
  const nodes = new Set(ids);
  const { waitingOn, dependents } = edges(ids, dependsOn);
  const ready = [...nodes].filter((id) => waitingOn.get(id) === 0).sort(compareStrings);
  const order: string[] = [];
  while (ready.length > 0) {
    const id = ready.shift()!;
    order.push(id);
    for (const next of dependents.get(id) ?? []) {
      const left = waitingOn.get(next)! - 1;
      waitingOn.set(next, left);
      if (left === 0) insertSorted(ready, next, compareStrings);
    }
  }
  if (order.length < nodes.size) {
    const placed = new Set(order);
    throw new DependencyCycleError([...nodes].filter((id) => !placed.has(id)).sort(compareStrings));
  }
  return order;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
