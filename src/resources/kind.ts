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
}

/** What a kind receives: the desired resource with every Ref replaced by its value. */
export interface ResolvedResource<P = unknown> {
  readonly id: string;
  readonly kind: string;
  readonly name: string;
  readonly props: P;
}

/**
 * The five questions every resource kind answers (plus discovery). The planner
 * and executor know nothing about AWS beyond this interface.
 *
 * - read: undefined when the resource is not there.
 * - create: when AWS says "already exists", re-read and continue (re-runs converge).
 * - delete: deleting what is already gone succeeds.
 * - list: every resource of this kind that carries this stack's tag (or that lives
 *   under a parent passed in `parents`), with the logical id it was created for;
 *   used to find what the spec no longer names, so it can be deleted.
 */
export interface ResourceKind<P, A> {
  readonly kind: string;
  /** Outputs that can be computed before the resource exists (derived ARNs). */
  knownOutputs?(ctx: Ctx, d: ResolvedResource<P>): Record<string, string>;
  read(ctx: Ctx, d: ResolvedResource<P>): Promise<Actual<A> | undefined>;
  diff(d: ResolvedResource<P>, a: Actual<A>): Change[];
  create(ctx: Ctx, d: ResolvedResource<P>): Promise<Actual<A>>;
  update(ctx: Ctx, d: ResolvedResource<P>, a: Actual<A>, changes: readonly Change[]): Promise<Actual<A>>;
  delete(ctx: Ctx, a: Actual<A>): Promise<void>;
  list?(ctx: Ctx, parents: Readonly<Record<string, string>>): Promise<Array<Actual<A> & { readonly logicalId: string }>>;
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
