import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { executePlan } from "../../src/apply/executor.js";
import { hasChanges, planChanges } from "../../src/plan/planner.js";
import { readState } from "../../src/plan/read.js";
import { ref, type DesiredResource } from "../../src/resources/kind.js";
import { actual, ctx, desired, newWorld, worldKind, type FakeWorld } from "./fake-kinds.js";

// Whatever the world looks like before (resources missing, drifted, or left over from
// an older spec), plan + apply makes it match the spec, and the next plan is empty.

const value = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom("a", "b"), fc.boolean());
const props = fc.dictionary(fc.constantFrom("size", "mode", "flag", "key"), value, { maxKeys: 3 });

interface Case {
  readonly boxes: Record<string, Record<string, unknown>>; // desired "box.<name>" resources
  readonly children: Record<string, Record<string, unknown>>; // desired "item.<name>", each under a box
  readonly before: Record<string, Record<string, unknown> | null>; // what exists first, by logical id (null: absent)
  readonly leftovers: string[]; // items of ours the spec no longer names
}

const scenario: fc.Arbitrary<Case> = fc
  .record({
    boxes: fc.dictionary(fc.constantFrom("a", "b", "c"), props, { minKeys: 1, maxKeys: 3 }),
    children: fc.dictionary(fc.constantFrom("x", "y", "z"), props, { maxKeys: 3 }),
    drift: fc.array(fc.tuple(fc.constantFrom("box.a", "box.b", "box.c", "item.x", "item.y", "item.z"), fc.option(props, { nil: null })), { maxLength: 6 }),
    leftovers: fc.uniqueArray(fc.constantFrom("item.old1", "item.old2"), { maxLength: 2 }),
  })
  .map(({ boxes, children, drift, leftovers }) => ({ boxes, children, before: Object.fromEntries(drift), leftovers }));

function graphOf(c: Case): DesiredResource[] {
  const boxIds = Object.keys(c.boxes).sort();
  const out = boxIds.map((b) => desired(`box.${b}`, "t.box", c.boxes[b]!));
  for (const [i, [name, p]] of Object.entries(c.children).entries()) {
    const parent = boxIds[i % boxIds.length]!;
    out.push(desired(`item.${name}`, "t.item", { ...p, parent: ref(`box.${parent}`, "id") }, { dependsOn: [`box.${parent}`] }));
  }
  return out;
}

function seed(world: FakeWorld, c: Case, graph: readonly DesiredResource[]): void {
  for (const [id, props] of Object.entries(c.before)) {
    const d = graph.find((g) => g.id === id);
    if (!d || props === null) continue;
    world.resources.set(id, actual(`${id}-old`, { ...props }, { outputs: { id: `${id}-old`, arn: `arn:fake:${d.kind}:${id}-old` } }));
  }
  for (const id of c.leftovers) world.resources.set(id, actual(`${id}-left`, {}, { outputs: { id: `${id}-left`, arn: `arn:fake:t.item:${id}-left` } }));
}

describe("plan + apply converges from any starting state", () => {
  it("leaves the world matching the spec, with nothing of ours left over, and the next plan empty", async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (c) => {
        const world = newWorld();
        const registry = { "t.box": worldKind("t.box", world, { replaceOn: ["key"] }), "t.item": worldKind("t.item", world, { listable: true }) };
        const graph = graphOf(c);
        seed(world, c, graph);
        const plan = async () =>
          planChanges({ mode: "apply", stack: ctx.stack, region: ctx.region, accountId: ctx.accountId, desired: graph, state: await readState(ctx, graph, registry), registry, options: { deleteData: false } });

        const first = await plan();
        const result = await executePlan(first, { ctx, registry, isRetryable: () => ({ retry: false }), sleep: async () => undefined });
        expect(result.ok).toBe(true);

        const again = await plan();
        expect(hasChanges(again)).toBe(false);
        expect([...world.resources.keys()].sort()).toEqual(graph.map((g) => g.id).sort());
        // Every attribute the spec names has the spec's value (these kinds diff only what the spec names).
        for (const g of graph.filter((d) => d.kind === "t.box")) expect(world.resources.get(g.id)?.attributes).toMatchObject(g.props as object);
      }),
      { numRuns: 150 },
    );
  });
});
