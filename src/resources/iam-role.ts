import {
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  ListRoleTagsCommand,
  PutRolePolicyCommand,
  TagRoleCommand,
  UntagRoleCommand,
  UpdateAssumeRolePolicyCommand,
  UpdateRoleCommand,
  type IAMClient,
  type Role,
} from "@aws-sdk/client-iam";
import { INLINE_POLICY_NAME, ROLE_PATH } from "../spec/names.js";
import { TAG_ID, TAG_STACK, ownershipFromTags, type Actual, type Change, type Ctx, type ResolvedResource, type ResourceKind } from "./kind.js";
import { createOrAdopt, diffTags, refuseOthers, tagEdits, tagList } from "./common.js";
import { errorName } from "../aws/errors.js";
import { allMarked } from "../aws/pages.js";
import type { RoleProps, Tags } from "./props.js";

/**
 * What exists of a role. Policy documents are kept as parsed JSON (IAM hands
 * them back URL-encoded, and may reformat them), compared by meaning.
 */
export interface RoleAttrs {
  readonly roleName: string;
  readonly path: string;
  readonly description: string;
  readonly assumeRolePolicy: unknown;
  readonly inlinePolicyName: string;
  readonly inlinePolicy: unknown; // undefined when the role has no policy of that name
  readonly tags: Tags;
}

export const iamRole = {
  kind: "iam.role",

  knownOutputs(ctx: Ctx, d: ResolvedResource<RoleProps>): Record<string, string> {
    return { roleArn: roleArn(ctx, d.props), roleName: d.props.roleName };
  },

  async read(ctx: Ctx, d: ResolvedResource<RoleProps>): Promise<Actual<RoleAttrs> | undefined> {
    return readRole(ctx.clients.iam(), d.props.roleName, d.props.inlinePolicyName);
  },

  diff(d: ResolvedResource<RoleProps>, a: Actual<RoleAttrs>): Change[] {
    const p = d.props;
    const changes: Change[] = [];
    if (p.path !== a.attributes.path) {
      changes.push({ path: "path", before: a.attributes.path, after: p.path, forcesReplacement: true, reason: "role path changed" });
    }
    if (p.description !== a.attributes.description) changes.push({ path: "description", before: a.attributes.description, after: p.description });
    if (!samePolicy(p.assumeRolePolicy, a.attributes.assumeRolePolicy)) {
      changes.push({ path: "assumeRolePolicy", before: prettyPolicy(a.attributes.assumeRolePolicy), after: prettyPolicy(p.assumeRolePolicy) });
    }
    if (a.attributes.inlinePolicy === undefined || !samePolicy(p.inlinePolicy, a.attributes.inlinePolicy)) {
      changes.push({ path: "inlinePolicy", before: prettyPolicy(a.attributes.inlinePolicy), after: prettyPolicy(p.inlinePolicy) });
    }
    changes.push(...diffTags(p.tags, a.attributes.tags));
    return changes;
  },

  async create(ctx: Ctx, d: ResolvedResource<RoleProps>): Promise<Actual<RoleAttrs>> {
    const iam = ctx.clients.iam();
    const p = d.props;
    return createOrAdopt<RoleProps, RoleAttrs, Role | undefined>(iamRole, ctx, d, {
      create: async () =>
        (
          await iam.send(
            new CreateRoleCommand({
              RoleName: p.roleName,
              Path: p.path,
              Description: p.description,
              AssumeRolePolicyDocument: JSON.stringify(p.assumeRolePolicy),
              Tags: tagList(p.tags),
            }),
          )
        ).Role,
      created: async (role) => {
        await iam.send(new PutRolePolicyCommand({ RoleName: p.roleName, PolicyName: p.inlinePolicyName, PolicyDocument: JSON.stringify(p.inlinePolicy) }));
        return actualOf(role?.Arn ?? roleArn(ctx, p), p);
      },
      isTaken: (err) => errorName(err) === "EntityAlreadyExistsException",
      find: () => readRole(iam, p.roleName, p.inlinePolicyName),
      adopt: refuseOthers(`role ${p.roleName}`, ctx),
      converge: (existing) => iamRole.update(ctx, d, existing, iamRole.diff(d, existing)),
    });
  },

  async update(ctx: Ctx, d: ResolvedResource<RoleProps>, a: Actual<RoleAttrs>, changes: readonly Change[]): Promise<Actual<RoleAttrs>> {
    const iam = ctx.clients.iam();
    const p = d.props;
    const paths = new Set(changes.map((c) => c.path));
    if (paths.has("assumeRolePolicy")) {
      await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: p.roleName, PolicyDocument: JSON.stringify(p.assumeRolePolicy) }));
    }
    if (paths.has("inlinePolicy")) {
      await iam.send(new PutRolePolicyCommand({ RoleName: p.roleName, PolicyName: p.inlinePolicyName, PolicyDocument: JSON.stringify(p.inlinePolicy) }));
    }
    if (paths.has("description")) await iam.send(new UpdateRoleCommand({ RoleName: p.roleName, Description: p.description }));
    const { set, remove } = tagEdits(p.tags, changes);
    if (remove.length > 0) await iam.send(new UntagRoleCommand({ RoleName: p.roleName, TagKeys: remove }));
    if (Object.keys(set).length > 0) await iam.send(new TagRoleCommand({ RoleName: p.roleName, Tags: tagList(set) }));
    return actualOf(a.physicalId, p);
  },

  async delete(ctx: Ctx, a: Actual<RoleAttrs>): Promise<void> {
    const iam = ctx.clients.iam();
    const roleName = a.attributes.roleName;
    try {
      // IAM refuses to delete a role that still has policies.
      for (const name of await allMarked((Marker) => iam.send(new ListRolePoliciesCommand({ RoleName: roleName, Marker })), (o) => o.PolicyNames)) {
        await ignoreNoSuchEntity(iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: name })));
      }
      const attached = await allMarked((Marker) => iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName, Marker })), (o) => o.AttachedPolicies);
      for (const policy of attached) {
        if (policy.PolicyArn) await ignoreNoSuchEntity(iam.send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: policy.PolicyArn })));
      }
      await iam.send(new DeleteRoleCommand({ RoleName: roleName }));
    } catch (err) {
      if (errorName(err) !== "NoSuchEntityException") throw err;
    }
  },

  async list(ctx: Ctx): Promise<Array<Actual<RoleAttrs> & { logicalId: string }>> {
    const iam = ctx.clients.iam();
    const roles = await allMarked((Marker) => iam.send(new ListRolesCommand({ PathPrefix: ROLE_PATH, Marker })), (o) => o.Roles);
    const found: Array<Actual<RoleAttrs> & { logicalId: string }> = [];
    for (const role of roles) {
      if (!role.RoleName?.startsWith(`${ctx.stack}-`)) continue;
      const actual = await readRole(iam, role.RoleName, INLINE_POLICY_NAME);
      const id = actual?.attributes.tags[TAG_ID];
      if (actual && id !== undefined && actual.attributes.tags[TAG_STACK] === ctx.stack) found.push({ ...actual, logicalId: id });
    }
    return found;
  },
} satisfies ResourceKind<RoleProps, RoleAttrs>;

async function readRole(iam: IAMClient, roleName: string, inlinePolicyName: string): Promise<Actual<RoleAttrs> | undefined> {
  let role: Role | undefined;
  try {
    role = (await iam.send(new GetRoleCommand({ RoleName: roleName }))).Role;
  } catch (err) {
    if (errorName(err) === "NoSuchEntityException") return undefined;
    throw err;
  }
  if (!role?.Arn) return undefined;
  const tagList = await allMarked((Marker) => iam.send(new ListRoleTagsCommand({ RoleName: roleName, Marker })), (o) => o.Tags);
  const tags: Tags = {};
  for (const t of tagList) if (t.Key !== undefined) tags[t.Key] = t.Value ?? "";
  let inlinePolicy: unknown;
  try {
    const out = await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: inlinePolicyName }));
    inlinePolicy = parsePolicy(out.PolicyDocument);
  } catch (err) {
    if (errorName(err) !== "NoSuchEntityException") throw err;
  }
  return {
    physicalId: role.Arn,
    attributes: {
      roleName,
      path: role.Path ?? "/",
      description: role.Description ?? "",
      assumeRolePolicy: parsePolicy(role.AssumeRolePolicyDocument),
      inlinePolicyName,
      inlinePolicy,
      tags,
    },
    outputs: { roleArn: role.Arn, roleName },
    ownership: ownershipFromTags(tags),
  };
}

function actualOf(arn: string, p: RoleProps): Actual<RoleAttrs> {
  return {
    physicalId: arn,
    attributes: {
      roleName: p.roleName,
      path: p.path,
      description: p.description,
      assumeRolePolicy: p.assumeRolePolicy,
      inlinePolicyName: p.inlinePolicyName,
      inlinePolicy: p.inlinePolicy,
      tags: { ...p.tags },
    },
    outputs: { roleArn: arn, roleName: p.roleName },
    ownership: ownershipFromTags(p.tags),
  };
}

function roleArn(ctx: Ctx, p: RoleProps): string {
  return roleArnFromParts(ctx.partition, ctx.accountId, p);
}

function roleArnFromParts(partition: string, accountId: string, p: RoleProps): string {
  return `arn:${partition}:iam::${accountId}:role${p.path}${p.roleName}`;
}

/** IAM returns documents URL-encoded; a document that does not parse is kept as its text. */
export function parsePolicy(encoded: string | undefined): unknown {
  if (encoded === undefined) return undefined;
  let text = encoded;
  try {
    text = decodeURIComponent(encoded);
  } catch {
    // not encoded after all
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Policies mean the same when they differ only in spelling: key order, a single
 * string where a list of one is written, the order of actions or resources, a
 * lone statement not wrapped in a list.
 */
export function samePolicy(a: unknown, b: unknown): boolean {
  return canonicalJson(normalizePolicy(a)) === canonicalJson(normalizePolicy(b));
}

const LIST_FIELDS = new Set(["Action", "NotAction", "Resource", "NotResource"]);

function normalizePolicy(doc: unknown): unknown {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return doc;
  const out: Record<string, unknown> = { ...(doc as Record<string, unknown>) };
  const statements = out.Statement === undefined ? [] : Array.isArray(out.Statement) ? out.Statement : [out.Statement];
  out.Statement = statements.map(normalizeStatement);
  return out;
}

function normalizeStatement(s: unknown): unknown {
  if (typeof s !== "object" || s === null || Array.isArray(s)) return s;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    if (LIST_FIELDS.has(k)) out[k] = asSortedList(v);
    else if ((k === "Principal" || k === "NotPrincipal") && typeof v === "object" && v !== null) {
      out[k] = Object.fromEntries(Object.entries(v).map(([pk, pv]) => [pk, asSortedList(pv)]));
    } else if (k === "Condition" && typeof v === "object" && v !== null) {
      out[k] = Object.fromEntries(
        Object.entries(v).map(([op, block]) => [
          op,
          typeof block === "object" && block !== null ? Object.fromEntries(Object.entries(block).map(([ck, cv]) => [ck, asSortedList(cv)])) : block,
        ]),
      );
    } else out[k] = v;
  }
  return out;
}

function asSortedList(v: unknown): unknown {
  if (typeof v === "string") return [v];
  if (Array.isArray(v)) return [...v].map((x) => (typeof x === "string" ? x : canonicalJson(x))).sort();
  return v;
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (typeof v === "object" && v !== null) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v) ?? "undefined";
}

/** The renderer line-diffs multi-line strings: a pretty document shows what changed inside a policy. */
function prettyPolicy(doc: unknown): string | undefined {
  if (doc === undefined) return undefined;
  return typeof doc === "string" ? doc : JSON.stringify(doc, null, 2);
}

async function ignoreNoSuchEntity(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (errorName(err) !== "NoSuchEntityException") throw err;
  }
}

