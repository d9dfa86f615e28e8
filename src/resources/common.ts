import type { Actual, Change, Ctx, ResolvedResource, ResourceKind } from "./kind.js";
import type { Tags } from "./props.js";

// Small pieces every resource kind needs in the same form.

/** One change per key that differs: `${prefix}.${key}`. */
export function diffMaps(prefix: string, before: Readonly<Record<string, string>>, after: Readonly<Record<string, string>>): Change[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys.filter((k) => before[k] !== after[k]).map((k) => ({ path: `${prefix}.${k}`, before: before[k], after: after[k] }));
}

/** AWS adds aws:* tags of its own (CloudFormation, ...); they cannot be changed, so they are never diffed. */
export function withoutAwsTags(tags: Readonly<Record<string, string>> | undefined): Tags {
  return Object.fromEntries(Object.entries(tags ?? {}).filter(([k]) => !k.startsWith("aws:")));
}

/** "tags.app" changes between the tags the spec wants and those the resource has. */
export function diffTags(desired: Readonly<Tags>, actual: Readonly<Tags>): Change[] {
  return diffMaps("tags", withoutAwsTags(actual), desired);
}

/** What the tag changes of a diff ask for: tags to set and keys to remove. */
export function tagEdits(desired: Readonly<Tags>, changes: readonly Change[]): { set: Tags; remove: string[] } {
  const set: Tags = {};
  const remove: string[] = [];
  for (const c of changes) {
    if (!c.path.startsWith("tags.")) continue;
    const key = c.path.slice("tags.".length);
    const value = desired[key];
    if (value === undefined) remove.push(key);
    else set[key] = value;
  }
  return { set, remove };
}

/** Tags as the [{ Key, Value }] lists IAM and DynamoDB take. */
export function tagList(tags: Readonly<Tags>): { Key: string; Value: string }[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/** How one kind creates a resource, and what AWS answers when its name is taken. */
export interface CreateOrAdoptSteps<A, T> {
  /** The create call itself: only its errors are checked with `isTaken`. */
  readonly create: () => Promise<T>;
  /** What follows a create that succeeded (settings, waits, a read), outside the conflict check. */
  readonly created: (out: T) => Actual<A> | Promise<Actual<A>>;
  /** True for the error AWS gives when the name is taken ("already exists", "conflict"). */
  readonly isTaken: (err: unknown) => boolean;
  /** Finds the resource holding the name. Default: the kind's read. */
  readonly find?: () => Promise<Actual<A> | undefined>;
  /**
   * Whether a found resource may be taken over. May throw to say why not; false
   * lets the create's own error through. Default: yes.
   */
  readonly adopt?: (found: Actual<A>) => boolean;
  /** Brings an adopted resource to what the spec says. Default: update it when diff finds changes. */
  readonly converge?: (found: Actual<A>) => Promise<Actual<A>>;
  /**
   * For creates AWS never refuses (API and integration names are not unique): look
   * before creating, or a retried create makes a second one.
   */
  readonly lookFirst?: boolean;
  /** When the name was taken but nothing is found: fail with the create's error (default), or create again (it was being deleted). */
  readonly whenGone?: "fail" | "create-again";
}

/**
 * Create, or take over what an earlier, interrupted run (or a concurrent one) made
 * under the same name, and converge it: re-runs end where a single run would have
 * (as controller-runtime's CreateOrUpdate). Kinds differ only in the steps they pass.
 */
export async function createOrAdopt<P, A, T>(kind: KindOps<P, A>, ctx: Ctx, d: ResolvedResource<P>, steps: CreateOrAdoptSteps<A, T>): Promise<Actual<A>> {
  const find = steps.find ?? (() => kind.read(ctx, d));
  const adopt = steps.adopt ?? (() => true);
  const converge =
    steps.converge ??
    (async (found: Actual<A>) => {
      const changes = kind.diff(d, found);
      return changes.length === 0 ? found : await kind.update(ctx, d, found, changes);
    });
  if (steps.lookFirst) {
    const earlier = await find();
    if (earlier && adopt(earlier)) return await converge(earlier);
  }
  let out: T;
  try {
    out = await steps.create();
  } catch (err) {
    if (!steps.isTaken(err)) throw err;
    const found = await find();
    if (!found) {
      if (steps.whenGone === "create-again") return await createOrAdopt(kind, ctx, d, { ...steps, lookFirst: false });
      throw err;
    }
    if (!adopt(found)) throw err;
    return await converge(found);
  }
  return await steps.created(out);
}

/** The part of a kind that createOrAdopt uses. */
type KindOps<P, A> = Pick<ResourceKind<P, A>, "read" | "diff" | "update">;

/** An adopt check: a resource tagged for another stack (or none) is never taken over. */
export function refuseOthers(what: string, ctx: Ctx): (found: Actual<unknown>) => boolean {
  return (found) => {
    if (found.ownership.by === "tags" && found.ownership.stack !== ctx.stack) {
      throw new Error(`${what} already exists and belongs to ${found.ownership.stack ? `stack ${found.ownership.stack}` : "no chatctl stack"}; chatctl will not take it over`);
    }
    return true;
  };
}
