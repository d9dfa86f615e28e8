import { describe, expect, it } from "vitest";
import { ref, type Actual, type AnyResourceKind, type ResolvedResource } from "../../src/resources/kind.js";
import { readState, ReadStateError } from "../../src/plan/read.js";
import { actual, ctx, desired, diffProps } from "./fake-kinds.js";

/** A read-only kind over a fixed world; records what each read was asked with. */
function readableKind(
  kind: string,
  world: Record<string, Actual<unknown>>,
  extra: Partial<AnyResourceKind> & { seen?: ResolvedResource[] } = {},
): AnyResourceKind {
  const never = () => Promise.reject(new Error("not in read tests"));
  return {
    kind,
    async read(_ctx, d) {
      extra.seen?.push(d);
      return world[d.id];
    },
    diff: (d, a) => diffProps(d, a),
    create: never,
    update: never,
    delete: never,
    ...extra,
  };
}

describe("readState", () => {
  it("reads a child once its parent is read, resolving its Refs from the parent's outputs", async () => {
    const seen: ResolvedResource[] = [];
    const world = {
      api: actual("a1", {}, { outputs: { apiId: "a1" } }),
      "route.x": actual("r1", {}, { parent: true, outputs: { routeId: "r1" } }),
    };
    const registry = { "t.api": readableKind("t.api", world), "t.route": readableKind("t.route", world, { seen }) };
    const snap = await readState(ctx, [desired("route.x", "t.route", { apiId: ref("api", "apiId"), target: ref("api", "apiId", "apis/{}") }), desired("api", "t.api", {})], registry);
    expect(seen.map((d) => d.props)).toEqual([{ apiId: "a1", target: "apis/a1" }]);
    expect(snap.resources["route.x"]).toMatchObject({ status: "present", actual: { physicalId: "r1" } });
    expect(snap.outputs).toEqual({ api: { apiId: "a1" }, "route.x": { routeId: "r1" } });
  });

  it("marks children of a missing parent unknown-parent without reading them", async () => {
    const seen: ResolvedResource[] = [];
    const registry = { "t.api": readableKind("t.api", {}), "t.route": readableKind("t.route", {}, { seen }) };
    const snap = await readState(ctx, [desired("api", "t.api", {}), desired("route.x", "t.route", { apiId: ref("api", "apiId") })], registry);
    expect(snap.resources).toEqual({ api: { status: "absent" }, "route.x": { status: "unknown-parent", missing: [ref("api", "apiId")] } });
    expect(seen).toEqual([]);
  });

  it("merges outputs a kind can derive, so a child of an absent parent can still be found", async () => {
    const world = { fn: actual("f1", {}, { outputs: { functionArn: "arn:f1" } }) };
    const registry = {
      "t.role": readableKind("t.role", {}, { knownOutputs: (_c, d) => ({ arn: `arn:role/${d.name}` }) }),
      "t.fn": readableKind("t.fn", world),
    };
    const snap = await readState(ctx, [desired("role", "t.role", {}, { name: "r" }), desired("fn", "t.fn", { roleArn: ref("role", "arn") })], registry);
    expect(snap.resources["role"]).toEqual({ status: "absent" });
    expect(snap.resources["fn"]?.status).toBe("present");
    expect(snap.outputs["role"]).toEqual({ arn: "arn:role/r" });
  });

  it("finds orphans through the kinds' list, under parents this stack owns", async () => {
    const world = {
      api: actual("a1", {}, { outputs: { apiId: "a1" } }),
      other: actual("a2", {}, { stack: "someone-else", outputs: { apiId: "a2" } }),
    };
    const parentsSeen: Record<string, string>[] = [];
    const registry = {
      "t.api": readableKind("t.api", world),
      "t.route": readableKind("t.route", { "route.kept": actual("r1", {}, { parent: true }) }, {
        list: async (_c, parents) => {
          parentsSeen.push({ ...parents });
          return [
            { ...actual("r1", {}, { parent: true }), logicalId: "route.kept" },
            { ...actual("r2", {}, { parent: true }), logicalId: "route.gone" },
          ];
        },
      }),
    };
    const snap = await readState(ctx, [desired("api", "t.api", {}), desired("other", "t.api", {}), desired("route.kept", "t.route", { apiId: ref("api", "apiId") })], registry);
    expect(parentsSeen).toEqual([{ apiId: "a1", "api.apiId": "a1", id: "r1", "route.kept.id": "r1" }]);
    expect(snap.orphans.map((o) => [o.kind, o.logicalId, o.actual.physicalId])).toEqual([["t.route", "route.gone", "r2"]]);
  });

  it("counts a second copy of a managed resource (a create sent twice) as an orphan, never the one read", async () => {
    const world = { api: actual("a1", {}, { outputs: { apiId: "a1" } }) };
    const registry = {
      "t.api": readableKind("t.api", world, {
        list: async () => [
          { ...actual("a1", {}), logicalId: "api" },
          { ...actual("a9", {}), logicalId: "api" },
        ],
      }),
    };
    const snap = await readState(ctx, [desired("api", "t.api", {})], registry);
    expect(snap.orphans.map((o) => [o.logicalId, o.actual.physicalId])).toEqual([["api", "a9"]]);
  });

  it("counts what a rename leaves behind (the spec's resource is absent under its new name) as an orphan", async () => {
    // The stage was "prod"; the spec now says "live": reading "live" finds nothing, listing finds "prod".
    const registry = {
      "t.stage": readableKind("t.stage", {}, { list: async () => [{ ...actual("prod", {}), logicalId: "stage" }] }),
    };
    const snap = await readState(ctx, [desired("stage", "t.stage", { stageName: "live" })], registry);
    expect(snap.resources.stage).toEqual({ status: "absent" });
    expect(snap.orphans.map((o) => [o.logicalId, o.actual.physicalId])).toEqual([["stage", "prod"]]);
  });

  it("keeps at most `concurrency` reads in flight", async () => {
    let inFlight = 0;
    let most = 0;
    const slow = readableKind("t.box", {}, {
      read: async () => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((r) => setImmediate(r));
        inFlight--;
        return undefined;
      },
    });
    const many = Array.from({ length: 12 }, (_, i) => desired(`box.${i}`, "t.box", {}));
    await readState(ctx, many, { "t.box": slow }, { concurrency: 3 });
    expect(most).toBe(3);
  });

  it("reports every failed read together", async () => {
    const failing = readableKind("t.box", {}, {
      read: async (_c, d) => {
        throw Object.assign(new Error(`denied for ${d.id}`), { name: "AccessDeniedException" });
      },
    });
    const error = await readState(ctx, [desired("box.a", "t.box", {}), desired("box.b", "t.box", {})], { "t.box": failing }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReadStateError);
    expect((error as ReadStateError).failures.map((f) => f.id)).toEqual(["box.a", "box.b"]);
    expect((error as Error).message).toBe("could not read 2 resources: box.a (t.box): denied for box.a; box.b (t.box): denied for box.b");
  });
});
