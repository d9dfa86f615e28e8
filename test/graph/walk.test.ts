import { describe, expect, it } from "vitest";
import { walk, type NodeResult, type WalkNode } from "../../src/graph/walk.js";

const node = (id: string, ...dependsOn: string[]): WalkNode => ({ id, dependsOn });
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

function statuses<R>(results: ReadonlyMap<string, NodeResult<R>>): Record<string, string> {
  return Object.fromEntries([...results].map(([id, r]) => [id, r.status === "skipped" ? `skipped by ${r.cause}` : r.status]));
}

describe("walk", () => {
  it("visits a node only after everything it depends on is done", async () => {
    const visited: string[] = [];
    const graph = [node("c", "b"), node("b", "a"), node("a"), node("d", "a", "c")];
    const result = await walk(graph, async (id) => {
      await tick();
      visited.push(id);
      return id.toUpperCase();
    });
    expect(visited).toEqual(["a", "b", "c", "d"]);
    expect([...result.results.keys()]).toEqual(["c", "b", "a", "d"]); // the order nodes were given
    expect(result.results.get("d")).toEqual({ status: "done", value: "D" });
    expect(result.errors).toEqual([]);
  });

  it("never has more visits in flight than the bound, and uses all of it", async () => {
    let inFlight = 0;
    let most = 0;
    const graph = Array.from({ length: 12 }, (_, i) => node(`n${i}`));
    await walk(
      graph,
      async () => {
        inFlight++;
        most = Math.max(most, inFlight);
        await tick();
        inFlight--;
      },
      { concurrency: 3 },
    );
    expect(most).toBe(3);
  });

  it("skips everything downstream of a failure, with the failure as cause, and finishes the rest", async () => {
    const visited: string[] = [];
    const boom = new Error("boom");
    const graph = [node("a"), node("b", "a"), node("c", "b"), node("d"), node("e", "d", "c")];
    const settled: string[] = [];
    const result = await walk(
      graph,
      async (id) => {
        visited.push(id);
        if (id === "a") throw boom;
      },
      { onSettled: (id, r) => settled.push(`${id}:${r.status}`) },
    );
    expect(statuses(result.results)).toEqual({ a: "failed", b: "skipped by a", c: "skipped by a", d: "done", e: "skipped by a" });
    expect(visited.sort()).toEqual(["a", "d"]);
    // Follow-on skips are not errors of their own: only the root cause is reported.
    expect(result.errors).toEqual([{ id: "a", error: boom }]);
    expect(settled.slice(0, 4)).toEqual(["a:failed", "b:skipped", "c:skipped", "e:skipped"]);
  });

  it("names the first failure as the cause when two branches fail", async () => {
    const graph = [node("a"), node("b"), node("c", "a", "b")];
    const result = await walk(
      graph,
      async (id) => {
        if (id === "b") throw new Error("b first");
        await tick();
        if (id === "a") throw new Error("a later");
      },
    );
    expect(statuses(result.results)).toEqual({ a: "failed", b: "failed", c: "skipped by b" });
    expect(result.errors.map((e) => e.id)).toEqual(["b", "a"]);
  });

  it("reports a cycle and what waits on it without visiting them, and runs the rest", async () => {
    const visited: string[] = [];
    const graph = [node("a", "b"), node("b", "a"), node("c", "a"), node("d"), node("e", "e")];
    const result = await walk(graph, async (id) => {
      visited.push(id);
    });
    expect(result.cycle).toEqual(["a", "b", "c"]);
    expect(statuses(result.results)).toEqual({ a: "cycle", b: "cycle", c: "cycle", d: "done", e: "done" });
    expect(visited.sort()).toEqual(["d", "e"]); // a dependency on itself is ignored
  });

  it("ignores dependencies on ids that are not nodes", async () => {
    const result = await walk([node("a", "elsewhere")], async () => 1);
    expect(statuses(result.results)).toEqual({ a: "done" });
  });

  it("starts nothing new once aborted, and waits for the visits in flight", async () => {
    const controller = new AbortController();
    let finishedA = false;
    const graph = [node("a"), node("b", "a"), node("c")];
    const result = await walk(
      graph,
      async (id) => {
        if (id === "a") {
          controller.abort();
          await tick();
          finishedA = true;
        }
      },
      { concurrency: 1, signal: controller.signal },
    );
    expect(finishedA).toBe(true);
    expect(result.interrupted).toBe(true);
    expect(statuses(result.results)).toEqual({ a: "done", b: "cancelled", c: "cancelled" });
  });
});
