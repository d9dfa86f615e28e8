// Tiny generic resource kinds for planner and executor tests. They model no AWS
// service: a kind here is a named box of props kept in a Map, which is all the
// generic core may rely on.
import type { Actual, AnyResourceKind, Change, Ctx, DesiredResource, Ownership, ResolvedResource } from "../../src/resources/kind.js";
import { stableStringify } from "../../src/plan/snapshot.js";

export type Attrs = Record<string, unknown>;

export const STACK = "my-chat";

export const ctx: Ctx = {
  region: "ap-northeast-1",
  accountId: "123456789012",
  partition: "aws",
  stack: STACK,
  // The generic core never touches clients; a kind that did would fail loudly here.
  clients: new Proxy({} as Ctx["clients"], {
    get() {
      throw new Error("fake kinds use no AWS clients");
    },
  }),
};

export function actual(
  physicalId: string,
  attributes: Attrs,
  opts: { stack?: string | null; parent?: boolean; outputs?: Record<string, string>; holdsData?: boolean; deletionBlocked?: string } = {},
): Actual<unknown> {
  const ownership: Ownership = opts.parent
    ? { by: "parent" }
    : { by: "tags", stack: opts.stack === null ? undefined : (opts.stack ?? STACK), id: undefined };
  return {
    physicalId,
    attributes,
    outputs: opts.outputs ?? { id: physicalId },
    ownership,
    ...(opts.holdsData !== undefined ? { holdsData: opts.holdsData } : {}),
    ...(opts.deletionBlocked !== undefined ? { deletionBlocked: opts.deletionBlocked } : {}),
  };
}

export function desired(id: string, kind: string, props: Attrs, extra: { dependsOn?: string[]; retainOnDestroy?: boolean; name?: string } = {}): DesiredResource {
  return {
    id,
    kind,
    name: extra.name ?? `${STACK}-${id.replace(/^[^.]*\./, "")}`,
    props,
    dependsOn: extra.dependsOn ?? [],
    ...(extra.retainOnDestroy ? { retainOnDestroy: true } : {}),
  };
}

/** Attribute-by-attribute diff over top-level props; the listed keys cannot change in place. */
export function diffProps(d: ResolvedResource, a: Actual<unknown>, replaceOn: readonly string[] = []): Change[] {
  const props = d.props as Attrs;
  const attrs = a.attributes as Attrs;
  return Object.keys(props)
    .sort()
    .filter((k) => stableStringify(props[k]) !== stableStringify(attrs[k]))
    .map((k) => ({
      path: k,
      before: attrs[k],
      after: props[k],
      ...(replaceOn.includes(k) ? { forcesReplacement: true, reason: `${k} changed` } : {}),
    }));
}

/** A kind that only diffs: enough for the pure planner. */
export function diffOnlyKind(kind: string, replaceOn: readonly string[] = []): AnyResourceKind {
  const unused = () => Promise.reject(new Error(`${kind}: the planner must not call kinds`));
  return { kind, read: unused, create: unused, update: unused, delete: unused, diff: (d, a) => diffProps(d, a, replaceOn) };
}

/** Something that happens in the fake world, in order: "create box.a", "delete box.b"... */
export interface FakeWorld {
  readonly resources: Map<string, Actual<unknown>>; // by logical id
  readonly log: string[];
  inFlight: number;
  maxInFlight: number;
  serial: number; // physical ids are numbered across the whole world, so a replacement is visibly new
  /** Called before every create/update/delete; throw to fail the call, await to hold it. */
  hook?: (op: "create" | "update" | "delete", id: string) => Promise<void> | void;
}

export function newWorld(): FakeWorld {
  return { resources: new Map(), log: [], inFlight: 0, maxInFlight: 0, serial: 0 };
}

/**
 * A kind whose resources live in `world`. Outputs are `{ id, name, arn }`, the
 * physical id is `<name>-<n>` so a replacement is visibly a new resource.
 */
export function worldKind(kind: string, world: FakeWorld, opts: { replaceOn?: readonly string[]; listable?: boolean } = {}): AnyResourceKind {
  const make = (d: ResolvedResource): Actual<unknown> => {
    const physicalId = `${d.name}-${++world.serial}`;
    return actual(physicalId, { ...(d.props as Attrs) }, { outputs: { id: physicalId, name: d.name, arn: `arn:fake:${kind}:${physicalId}` } });
  };
  const op = async <T>(name: "create" | "update" | "delete", id: string, body: () => T): Promise<T> => {
    world.inFlight++;
    world.maxInFlight = Math.max(world.maxInFlight, world.inFlight);
    try {
      await world.hook?.(name, id);
      const result = body();
      world.log.push(`${name} ${id}`);
      return result;
    } finally {
      world.inFlight--;
    }
  };
  const byPhysicalId = (physicalId: string) => [...world.resources.entries()].find(([, a]) => a.physicalId === physicalId)?.[0];
  const k: AnyResourceKind = {
    kind,
    async read(_ctx, d) {
      return world.resources.get(d.id);
    },
    diff: (d, a) => diffProps(d, a, opts.replaceOn),
    create: (_ctx, d) =>
      op("create", d.id, () => {
        const a = make(d);
        world.resources.set(d.id, a);
        return a;
      }),
    update: (_ctx, d, a) =>
      op("update", d.id, () => {
        const next = { ...a, attributes: { ...(d.props as Attrs) } };
        world.resources.set(d.id, next);
        return next;
      }),
    delete: (_ctx, a) =>
      op("delete", byPhysicalId(a.physicalId) ?? a.physicalId, () => {
        const id = byPhysicalId(a.physicalId);
        if (id !== undefined) world.resources.delete(id);
      }),
  };
  if (opts.listable) {
    k.list = async () => [...world.resources.entries()].filter(([, a]) => a.outputs.arn?.startsWith(`arn:fake:${kind}:`)).map(([logicalId, a]) => ({ ...a, logicalId }));
  }
  return k;
}
