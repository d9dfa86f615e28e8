import { describe, expect, it } from "vitest";
import { ref, type DesiredResource } from "../../src/resources/kind.js";
import { readState } from "../../src/plan/read.js";
import { planChanges } from "../../src/plan/planner.js";
import type { Plan } from "../../src/plan/types.js";
import { executePlan, type ApplyEvent, type ExecuteDeps } from "../../src/apply/executor.js";
import { createProgressRenderer, summarizeApply } from "../../src/apply/progress.js";
import { ctx, desired, newWorld, STACK, worldKind, type FakeWorld } from "../plan/fake-kinds.js";

const throttled = () => Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" });
const denied = () => Object.assign(new Error("not allowed"), { name: "AccessDeniedException" });

function registryOf(world: FakeWorld) {
  return {
    "t.box": worldKind("t.box", world),
    "t.table": worldKind("t.table", world, { replaceOn: ["key"] }),
  };
}

async function planFor(world: FakeWorld, graph: readonly DesiredResource[], mode: "apply" | "destroy" = "apply"): Promise<Plan> {
  const registry = registryOf(world);
  const state = await readState(ctx, graph, registry);
  return planChanges({ mode, stack: STACK, region: ctx.region, accountId: ctx.accountId, desired: graph, state, registry, options: { deleteData: true } });
}

function deps(world: FakeWorld, extra: Partial<ExecuteDeps> = {}): ExecuteDeps & { events: ApplyEvent[]; sleeps: number[] } {
  const events: ApplyEvent[] = [];
  const sleeps: number[] = [];
  return {
    ctx,
    registry: registryOf(world),
    isRetryable: (err) => ((err as Error).name === "ThrottlingException" ? { retry: true, reason: "throttled by AWS" } : { retry: false }),
    backoff: (attempt) => attempt * 100,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    onEvent: (e) => events.push(e),
    now: () => 0,
    ...extra,
    events,
    sleeps,
  };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("executePlan", () => {
  it("never has more steps in flight than the bound", async () => {
    const world = newWorld();
    world.hook = tick;
    const graph = Array.from({ length: 10 }, (_, i) => desired(`box.${i}`, "t.box", { n: i }));
    const result = await executePlan(await planFor(world, graph), deps(world, { concurrency: 3 }));
    expect(result.ok).toBe(true);
    expect(world.maxInFlight).toBe(3);
    expect(world.resources.size).toBe(10);
  });

  it("skips what depends on a failed step, reports only the failure, and finishes independent branches", async () => {
    const world = newWorld();
    world.hook = (op, id) => {
      if (id === "box.a") throw denied();
    };
    const graph = [
      desired("box.a", "t.box", {}),
      desired("box.b", "t.box", { parent: ref("box.a", "id") }),
      desired("box.c", "t.box", { parent: ref("box.b", "id") }),
      desired("box.d", "t.box", {}),
    ];
    const d = deps(world);
    const result = await executePlan(await planFor(world, graph), d);
    expect(result.ok).toBe(false);
    expect(result.outcomes).toEqual({ "box.a": "failed", "box.b": "skipped", "box.c": "skipped", "box.d": "created" });
    expect(result.errors.map((e) => [e.step.id, e.message])).toEqual([["box.a", "AccessDeniedException: not allowed"]]);
    const skipped = d.events.filter((e) => e.type === "finished" && e.outcome === "skipped");
    expect(skipped.map((e) => e.type === "finished" && [e.step.id, e.blockedBy?.id])).toEqual([
      ["box.b", "box.a"],
      ["box.c", "box.a"],
    ]);
    expect([...world.resources.keys()]).toEqual(["box.d"]);
  });

  it("retries what isRetryable allows, with backoff, then succeeds", async () => {
    const world = newWorld();
    let failures = 2;
    world.hook = () => {
      if (failures-- > 0) throw throttled();
    };
    const d = deps(world);
    const result = await executePlan(await planFor(world, [desired("box.a", "t.box", {})]), d);
    expect(result.outcomes).toEqual({ "box.a": "created" });
    expect(d.sleeps).toEqual([100, 200]);
    expect(d.events.filter((e) => e.type === "retrying")).toMatchObject([
      { attempt: 2, reason: "throttled by AWS", delayMs: 100, error: "ThrottlingException: Rate exceeded" },
      { attempt: 3, reason: "throttled by AWS", delayMs: 200 },
    ]);
    expect(result.steps[0]!.attempts).toBe(3);
  });

  it("fails fast on an error that is not retryable, and gives up after maxAttempts", async () => {
    const world = newWorld();
    world.hook = () => {
      throw denied();
    };
    const d = deps(world);
    const result = await executePlan(await planFor(world, [desired("box.a", "t.box", {})]), d);
    expect(result.outcomes).toEqual({ "box.a": "failed" });
    expect(d.sleeps).toEqual([]);

    world.hook = () => {
      throw throttled();
    };
    const again = await executePlan(await planFor(world, [desired("box.a", "t.box", {})]), deps(world, { maxAttempts: 3 }));
    expect(again.steps[0]).toMatchObject({ outcome: "failed", attempts: 3, error: "ThrottlingException: Rate exceeded" });
  });

  it("resolves Refs from the outputs of earlier steps and of unchanged resources", async () => {
    const world = newWorld();
    await executePlan(await planFor(world, [desired("box.parent", "t.box", {})]), deps(world));
    const graph = [
      desired("box.parent", "t.box", {}),
      desired("box.child", "t.box", { parentArn: ref("box.parent", "arn") }),
      desired("box.grandchild", "t.box", { target: ref("box.child", "id", "boxes/{}") }),
    ];
    const plan = await planFor(world, graph);
    expect(plan.steps.map((s) => `${s.action} ${s.id}`)).toEqual(["noop box.parent", "create box.child", "create box.grandchild"]);
    const result = await executePlan(plan, deps(world));
    expect(result.ok).toBe(true);
    expect(world.resources.get("box.child")?.attributes).toEqual({ parentArn: "arn:fake:t.box:my-chat-parent-1" });
    expect(world.resources.get("box.grandchild")?.attributes).toEqual({ target: "boxes/my-chat-child-2" });
    expect(result.outputs["box.grandchild"]?.id).toBe("my-chat-grandchild-3");
  });

  it("replaces by deleting then creating, and updates what took the old resource's outputs", async () => {
    const world = newWorld();
    const v1 = [desired("table.t", "t.table", { key: "id" }), desired("box.user", "t.box", { table: ref("table.t", "id") })];
    await executePlan(await planFor(world, v1), deps(world));
    world.log.length = 0;

    const v2 = [desired("table.t", "t.table", { key: "connectionId" }), v1[1]!];
    const plan = await planFor(world, v2);
    expect(plan.steps.map((s) => `${s.action} ${s.id}`)).toEqual(["replace table.t", "update box.user"]);
    const result = await executePlan(plan, deps(world));
    expect(result.outcomes).toEqual({ "table.t": "replaced", "box.user": "updated" });
    expect(world.log).toEqual(["delete table.t", "create table.t", "update box.user"]);
    expect(world.resources.get("box.user")?.attributes).toEqual({ table: "my-chat-t-3" });
  });

  it("deletes in reverse dependency order on destroy", async () => {
    const world = newWorld();
    const graph = [
      desired("box.a", "t.box", {}),
      desired("box.b", "t.box", { a: ref("box.a", "id") }),
      desired("box.c", "t.box", { b: ref("box.b", "id") }),
    ];
    await executePlan(await planFor(world, graph), deps(world));
    world.log.length = 0;
    const result = await executePlan(await planFor(world, graph, "destroy"), deps(world));
    expect(result.ok).toBe(true);
    expect(world.log).toEqual(["delete box.c", "delete box.b", "delete box.a"]);
    expect(summarizeApply(result)).toBe("Destroy complete: 3 deleted.");
  });

  it("starts nothing once aborted", async () => {
    const world = newWorld();
    const controller = new AbortController();
    controller.abort();
    const result = await executePlan(await planFor(world, [desired("box.a", "t.box", {})]), deps(world, { signal: controller.signal }));
    expect(result).toMatchObject({ ok: false, interrupted: true, outcomes: { "box.a": "skipped" } });
    expect(world.log).toEqual([]);
  });
});

describe("progress", () => {
  it("prints one line per finished step and a summary of what was and was not done", async () => {
    const world = newWorld();
    let throttles = 1;
    world.hook = (op, id) => {
      if (id === "box.b" && throttles-- > 0) throw throttled();
      if (id === "box.c") throw denied();
    };
    const lines: string[] = [];
    const render = createProgressRenderer((l) => lines.push(l), { color: false });
    let clock = 0;
    const graph = [
      desired("box.b", "t.box", {}),
      desired("box.c", "t.box", {}),
      desired("box.d", "t.box", { c: ref("box.c", "id") }),
    ];
    const result = await executePlan(await planFor(world, graph), deps(world, { onEvent: render, now: () => (clock += 600), concurrency: 1 }));
    expect(lines).toEqual([
      "  ↻ t.box my-chat-b retrying in 0.1s (attempt 2 of 5): throttled by AWS — ThrottlingException: Rate exceeded",
      "  ✓ t.box my-chat-b created (0.6s)",
      "  ✗ t.box my-chat-c failed: AccessDeniedException: not allowed",
      "  - t.box my-chat-d skipped (depends on t.box my-chat-c, which failed)",
    ]);
    expect(summarizeApply(result)).toBe(
      "Apply failed (1 failed, 1 skipped): done 1 created, 0 updated, 0 replaced, 0 deleted; not done: t.box my-chat-c (failed), t.box my-chat-d (skipped).",
    );
  });

  it("sums up a complete apply", async () => {
    const world = newWorld();
    const result = await executePlan(await planFor(world, [desired("box.a", "t.box", {})]), deps(world));
    expect(summarizeApply(result)).toBe("Apply complete: 1 created, 0 updated, 0 replaced, 0 deleted.");
  });
});
