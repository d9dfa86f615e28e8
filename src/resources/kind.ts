import type { AwsClients } from "../aws/clients.js";

// Refs live in refs.ts with the functions that resolve them; re-exported here because
// every kind's props are written in terms of them.
export { isRef, ref, type Ref, type Unresolved } from "./refs.js";
import type { Unresolved } from "./refs.js";

export interface Ctx {
  readonly region: string;
  readonly accountId: string;
  readonly partition: string;
  readonly stack: string;
  readonly clients: AwsClients;
}

/** One attribute-level difference between what the spec wants and what exists. */
export interface Change {
  readonly path: string; // attribute, e.g. "timeout", "policy", "tags.app"
  readonly before: unknown; // undefined when absent
  readonly after: unknown; // may contain Refs ("known after apply")
  readonly forcesReplacement?: boolean;
  readonly reason?: string; // e.g. "partition key changed"
  readonly destroysData?: boolean; // replacing a table loses its items
}

/**
 * Who owns an existing resource. Taggable kinds report their chatctl tags;
 * kinds AWS cannot tag (routes, integrations, permissions, deployments) are owned
 * through their parent (the API, the function) and report "parent".
 */
export type Ownership =
  | { readonly by: "tags"; readonly stack: string | undefined; readonly id: string | undefined }
  | { readonly by: "parent" };

export interface Actual<A> {
  readonly physicalId: string; // ARN, API id, route id...
  readonly attributes: A; // what diff compares against
  readonly outputs: Readonly<Record<string, string>>; // what Refs to this resource resolve to
  readonly ownership: Ownership;
  /** True when deleting this resource would lose user data (a table that holds items). */
  readonly holdsData?: boolean;
  /** Why AWS would refuse to delete it (deletion protection): the plan keeps it and says so. */
  readonly deletionBlocked?: string;
}

/** A resource of the desired graph. Props may hold Refs until the executor resolves them. */
export interface DesiredResource<P = unknown> {
  readonly id: string; // logical id, unique in the stack: "function.connect", "route.$connect"
  readonly kind: string; // "lambda.function"
  readonly name: string; // the AWS-side name, for people
  readonly props: Unresolved<P>;
  readonly dependsOn: readonly string[];
  /** Kept by destroy (a table with onDestroy: retain). */
  readonly retainOnDestroy?: boolean;
  /**
   * Kinds this resource freezes a copy of when it is made (a deployment holds the
   * routes and integrations as they were): their changes and deletes, orphans
   * included, land before it, so the copy carries them.
   */
  readonly captures?: readonly string[];
}

/** What a kind receives: the desired resource with every Ref replaced by its value. */
export interface ResolvedResource<P = unknown> {
  readonly id: string;
  readonly kind: string;
  readonly name: string;
  readonly props: P;
}

/**
 * What chatctl asks of one kind of AWS resource. The planner and executor know
 * nothing about AWS beyond this interface; everything AWS-specific (names, error
 * codes, waits, pagination) stays in the kind's own file. Every call may be
 * retried by the executor after a throttle or a lost answer, so each one must be
 * safe to repeat.
 */
export interface ResourceKind<P, A> {
  /** The kind's name in plans and the registry ("lambda.function"); stable, since saved plans carry it. */
  readonly kind: string;
  /**
   * Outputs that can be computed before the resource exists (derived ARNs), so Refs
   * to them resolve while planning. Pure: no AWS call.
   */
  knownOutputs?(ctx: Ctx, d: ResolvedResource<P>): Record<string, string>;
  /**
   * The resource as it is now, or undefined when it is not there (a not-found answer
   * is absence, never an error). Throws only when AWS cannot say (access denied,
   * outage): planning then stops rather than guess. Never changes anything.
   */
  read(ctx: Ctx, d: ResolvedResource<P>): Promise<Actual<A> | undefined>;
  /**
   * What differs between the spec and `a`, one Change per attribute; empty means
   * nothing to do. Pure. A Change marked forcesReplacement makes the planner replace
   * the resource instead of updating it; after an update or create, diff of the
   * result against the same spec must be empty (plans converge).
   */
  diff(d: ResolvedResource<P>, a: Actual<A>): Change[];
  /**
   * Makes the resource and returns it as read would. Idempotent: when the name is
   * taken by what an earlier, interrupted run made, adopts it and converges it to the
   * spec (createOrAdopt); when it belongs to another stack, throws and leaves it alone.
   */
  create(ctx: Ctx, d: ResolvedResource<P>): Promise<Actual<A>>;
  /**
   * Brings `a` to the spec in place, doing only what `changes` (from diff) asks, and
   * returns the result. Never called with a change that forces replacement. Repeating
   * it after a partial failure finishes the job.
   */
  update(ctx: Ctx, d: ResolvedResource<P>, a: Actual<A>, changes: readonly Change[]): Promise<Actual<A>>;
  /**
   * Deletes `a`, and resolves once AWS has accepted it. Deleting what is already gone
   * succeeds, so a repeated or interrupted delete is safe.
   */
  delete(ctx: Ctx, a: Actual<A>): Promise<void>;
  /**
   * Every resource of this kind that carries this stack's tag (or that lives under a
   * parent named in `parents`, e.g. `apiId`), with the logical id it was created for;
   * used to find what the spec no longer names, so it can be deleted. Returns [] when
   * the parent it needs is not in `parents`. Omitted by kinds found only through the spec.
   */
  list?(ctx: Ctx, parents: Readonly<Record<string, string>>): Promise<Array<Actual<A> & { readonly logicalId: string }>>;
  /**
   * One line for `chatctl status` on how the resource is doing ("Active", "ACTIVE, ~3
   * items"); undefined when there is nothing to say. Read-only. A throw is taken as
   * "nothing to say": health never fails status.
   */
  health?(ctx: Ctx, a: Actual<A>): Promise<string | undefined>;
}

// Kinds differ in props and attributes; the registry holds them type-erased.
export type AnyResourceKind = ResourceKind<unknown, unknown>;

export function erase<P, A>(k: ResourceKind<P, A>): AnyResourceKind {
  return k as unknown as AnyResourceKind;
}

export const TAG_STACK = "chatctl:stack";
export const TAG_ID = "chatctl:id";

export function ownershipFromTags(tags: Readonly<Record<string, string>> | undefined): Ownership {
  return { by: "tags", stack: tags?.[TAG_STACK], id: tags?.[TAG_ID] };
}
