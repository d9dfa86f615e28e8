import { describe, expect, it } from "vitest";
import { createOrAdopt, refuseOthers } from "../../src/resources/common.js";
import type { Actual, Change, Ctx, ResolvedResource } from "../../src/resources/kind.js";

// A one-attribute resource whose name may already be taken in a pretend AWS.
type Attrs = { size: number };
const ctx = { stack: "mine" } as Ctx;
const d: ResolvedResource<Attrs> = { id: "thing", kind: "t.thing", name: "thing", props: { size: 2 } };
const taken = () => Object.assign(new Error("name taken"), { name: "AlreadyExists" });
const actual = (size: number, stack = "mine"): Actual<Attrs> => ({
  physicalId: "p-1",
  attributes: { size },
  outputs: {},
  ownership: { by: "tags", stack, id: "thing" },
});

function fakeKind(existing: Actual<Attrs> | undefined) {
  const calls: string[] = [];
  const kind = {
    read: async () => {
      calls.push("read");
      return existing;
    },
    diff: (want: ResolvedResource<Attrs>, a: Actual<Attrs>): Change[] =>
      want.props.size === a.attributes.size ? [] : [{ path: "size", before: a.attributes.size, after: want.props.size }],
    update: async (_c: Ctx, want: ResolvedResource<Attrs>) => {
      calls.push("update");
      return actual(want.props.size);
    },
  };
  return { kind, calls };
}

const isTaken = (err: unknown) => (err as Error).name === "AlreadyExists";

describe("createOrAdopt", () => {
  it("returns what the create made, without reading", async () => {
    const { kind, calls } = fakeKind(undefined);
    const out = await createOrAdopt(kind, ctx, d, { create: async () => 2, created: (size) => actual(size), isTaken });
    expect(out.attributes.size).toBe(2);
    expect(calls).toEqual([]);
  });

  it("adopts what holds the name and updates it to the spec", async () => {
    const { kind, calls } = fakeKind(actual(1));
    const out = await createOrAdopt(kind, ctx, d, { create: () => Promise.reject(taken()), created: actual, isTaken });
    expect(out.attributes.size).toBe(2);
    expect(calls).toEqual(["read", "update"]);
  });

  it("does not update an adopted resource that already matches", async () => {
    const { kind, calls } = fakeKind(actual(2));
    await createOrAdopt(kind, ctx, d, { create: () => Promise.reject(taken()), created: actual, isTaken });
    expect(calls).toEqual(["read"]);
  });

  it("lets other errors, and the create's error when nothing is found, through", async () => {
    const { kind } = fakeKind(undefined);
    await expect(createOrAdopt(kind, ctx, d, { create: () => Promise.reject(new Error("denied")), created: actual, isTaken })).rejects.toThrow("denied");
    await expect(createOrAdopt(kind, ctx, d, { create: () => Promise.reject(taken()), created: actual, isTaken })).rejects.toThrow("name taken");
  });

  it("creates again when the name's holder is gone by the time it is read, if the kind says so", async () => {
    const { kind } = fakeKind(undefined);
    let tries = 0;
    const create = async () => {
      if (tries++ === 0) throw taken();
      return 2;
    };
    const out = await createOrAdopt(kind, ctx, d, { create, created: actual, isTaken, whenGone: "create-again" });
    expect([tries, out.attributes.size]).toEqual([2, 2]);
  });

  it("never takes over another stack's resource", async () => {
    const { kind, calls } = fakeKind(actual(1, "theirs"));
    await expect(
      createOrAdopt(kind, ctx, d, { create: () => Promise.reject(taken()), created: actual, isTaken, adopt: refuseOthers("thing t1", ctx) }),
    ).rejects.toThrow("thing t1 already exists and belongs to stack theirs; chatctl will not take it over");
    expect(calls).toEqual(["read"]);
  });

  it("looks first when asked, and creates nothing when an earlier attempt's resource is there", async () => {
    const { kind, calls } = fakeKind(actual(2));
    let created = 0;
    await createOrAdopt(kind, ctx, d, { lookFirst: true, create: async () => ++created, created: actual, isTaken });
    expect([created, calls]).toEqual([0, ["read"]]);
  });
});
