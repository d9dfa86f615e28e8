import { randomBytes } from "node:crypto";
import { AwsError, ServiceModel, type OpHandler, type OpInput, type OpOutput } from "../service.js";

/**
 * IAM roles and their inline policies, as chatctl uses them.
 *
 * Managed policies only as far as AttachRolePolicy of an AWS managed policy
 * (arn:PARTITION:iam::aws:policy/...) goes: the attachment is kept and listed,
 * the policy's content is not (https://docs.aws.amazon.com/IAM/latest/APIReference/API_AttachRolePolicy.html).
 * Not modelled: users, groups, customer managed policies, DetachRolePolicy, instance profiles,
 * permission boundaries, RoleLastUsed, policy grammar checks beyond "is JSON",
 * case-insensitive tag keys, eventual consistency (a role is usable the moment
 * it exists; the Lambda model simulates propagation with roleCreatedAt), and
 * quotas other than 50 tags per role and 10,240 characters of inline policy.
 *
 * Errors carry the SDK's exception names (NoSuchEntityException, ...); the query
 * wire adapter turns them into IAM's error codes (NoSuchEntity, ...).
 */

interface Role {
  readonly roleName: string;
  readonly path: string;
  readonly roleId: string;
  readonly arn: string;
  readonly createdAt: Date;
  assumeRolePolicy: string;
  description: string | undefined;
  maxSessionDuration: number;
  readonly tags: Map<string, string>;
  readonly inlinePolicies: Map<string, string>;
  readonly attachedPolicies: Set<string>;
}

export interface IamModelOptions {
  readonly accountId: string;
  /** Items per page of List* calls when the caller asks for more; small values exercise pagination in tests. */
  readonly pageSize?: number;
}

const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;
const MAX_TAGS = 50;
const MAX_INLINE_POLICY_CHARS = 10_240;

export class IamModel extends ServiceModel {
  readonly service = "iam";
  readonly accountId: string;
  private readonly pageSize: number;
  private readonly roles = new Map<string, Role>();

  constructor(opts: IamModelOptions) {
    super();
    this.accountId = opts.accountId;
    this.pageSize = opts.pageSize ?? 100;
  }

  /** When the role behind this ARN was created (ms since epoch), or undefined when there is none. */
  roleCreatedAt(roleArn: string): number | undefined {
    for (const role of this.roles.values()) if (role.arn === roleArn) return role.createdAt.getTime();
    return undefined;
  }

  /** The trust policy of the role behind this ARN, or undefined when there is none. */
  trustPolicyOf(roleArn: string): string | undefined {
    for (const role of this.roles.values()) if (role.arn === roleArn) return role.assumeRolePolicy;
    return undefined;
  }

  protected readonly operations: Readonly<Record<string, OpHandler>> = {
    CreateRole: (i) => this.createRole(i),
    GetRole: (i) => ({ Role: this.roleOut(this.role(i), true) }),
    DeleteRole: (i) => this.deleteRole(i),
    UpdateAssumeRolePolicy: (i) => {
      const role = this.role(i);
      role.assumeRolePolicy = policyDocument(i, "PolicyDocument");
      return {};
    },
    UpdateRoleDescription: (i) => {
      const role = this.role(i);
      role.description = optString(i, "Description") ?? "";
      return { Role: this.roleOut(role, true) };
    },
    UpdateRole: (i) => {
      const role = this.role(i);
      const description = optString(i, "Description");
      if (description !== undefined) role.description = description;
      const max = optNumber(i, "MaxSessionDuration");
      if (max !== undefined) role.maxSessionDuration = sessionDuration(max);
      return {};
    },
    PutRolePolicy: (i) => {
      const role = this.role(i);
      const name = reqString(i, "PolicyName");
      if (!POLICY_NAME.test(name)) throw validation(`policyName '${name}' does not match ${POLICY_NAME.source}`);
      const doc = policyDocument(i, "PolicyDocument");
      const total = [...role.inlinePolicies].filter(([n]) => n !== name).reduce((sum, [, d]) => sum + d.length, doc.length);
      if (total > MAX_INLINE_POLICY_CHARS) {
        throw new AwsError("LimitExceededException", `Maximum policy size of ${MAX_INLINE_POLICY_CHARS} bytes exceeded for role ${role.roleName}`, 409);
      }
      role.inlinePolicies.set(name, doc);
      return {};
    },
    GetRolePolicy: (i) => {
      const role = this.role(i);
      const name = reqString(i, "PolicyName");
      const doc = role.inlinePolicies.get(name);
      if (doc === undefined) throw noSuchEntity(`The role policy with name ${name} cannot be found.`);
      return { RoleName: role.roleName, PolicyName: name, PolicyDocument: encodeURIComponent(doc) };
    },
    DeleteRolePolicy: (i) => {
      const role = this.role(i);
      const name = reqString(i, "PolicyName");
      if (!role.inlinePolicies.delete(name)) throw noSuchEntity(`The role policy with name ${name} cannot be found.`);
      return {};
    },
    ListRolePolicies: (i) => {
      const role = this.role(i);
      const page = this.page([...role.inlinePolicies.keys()].sort(), i);
      return { PolicyNames: page.items, ...page.more };
    },
    AttachRolePolicy: (i) => {
      const role = this.role(i);
      const arn = reqString(i, "PolicyArn");
      if (!/^arn:aws[\w-]*:iam::aws:policy\/[\w+=,.@/-]+$/.test(arn)) throw noSuchEntity(`Policy ${arn} does not exist or is not attachable.`);
      role.attachedPolicies.add(arn);
      return {};
    },
    ListAttachedRolePolicies: (i) => {
      const role = this.role(i);
      const arns = [...role.attachedPolicies].sort();
      return { AttachedPolicies: arns.map((PolicyArn) => ({ PolicyArn, PolicyName: PolicyArn.split("/").pop() })), IsTruncated: false };
    },
    ListRoles: (i) => {
      const prefix = optString(i, "PathPrefix") ?? "/";
      const matching = [...this.roles.values()].filter((r) => r.path.startsWith(prefix)).sort((a, b) => a.roleName.localeCompare(b.roleName));
      const page = this.page(matching, i);
      // Real ListRoles leaves out tags; callers that need them call ListRoleTags.
      return { Roles: page.items.map((r) => this.roleOut(r, false)), ...page.more };
    },
    TagRole: (i) => {
      const role = this.role(i);
      const tags = tagList(i.Tags);
      const keys = new Set([...role.tags.keys(), ...tags.map((t) => t.Key)]);
      if (keys.size > MAX_TAGS) throw new AwsError("LimitExceededException", `Cannot exceed quota for TagsPerRole: ${MAX_TAGS}`, 409);
      for (const t of tags) role.tags.set(t.Key, t.Value);
      return {};
    },
    UntagRole: (i) => {
      const role = this.role(i);
      for (const key of stringList(i.TagKeys, "TagKeys")) role.tags.delete(key);
      return {};
    },
    ListRoleTags: (i) => {
      const role = this.role(i);
      const page = this.page([...role.tags].map(([Key, Value]) => ({ Key, Value })), i);
      return { Tags: page.items, ...page.more };
    },
  };

  private createRole(i: OpInput): OpOutput {
    const roleName = reqString(i, "RoleName");
    if (!ROLE_NAME.test(roleName)) throw validation(`roleName '${roleName}' does not match ${ROLE_NAME.source}`);
    const path = optString(i, "Path") ?? "/";
    if (!/^\/(?:[\u0021-\u007e]*\/)?$/.test(path) || path.length > 512) throw validation(`path '${path}' must begin and end with /`);
    if (this.roles.has(roleName)) throw new AwsError("EntityAlreadyExistsException", `Role with name ${roleName} already exists.`, 409);
    const tags = i.Tags === undefined ? [] : tagList(i.Tags);
    if (tags.length > MAX_TAGS) throw new AwsError("LimitExceededException", `Cannot exceed quota for TagsPerRole: ${MAX_TAGS}`, 409);
    const role: Role = {
      roleName,
      path,
      roleId: this.issueId(() => `AROA${randomId(17)}`),
      arn: `arn:aws:iam::${this.accountId}:role${path}${roleName}`,
      createdAt: new Date(),
      assumeRolePolicy: policyDocument(i, "AssumeRolePolicyDocument"),
      description: optString(i, "Description"),
      maxSessionDuration: sessionDuration(optNumber(i, "MaxSessionDuration") ?? 3600),
      tags: new Map(tags.map((t) => [t.Key, t.Value])),
      inlinePolicies: new Map(),
      attachedPolicies: new Set(),
    };
    this.roles.set(roleName, role);
    return { Role: this.roleOut(role, true) };
  }

  private deleteRole(i: OpInput): OpOutput {
    const role = this.role(i);
    if (role.inlinePolicies.size > 0 || role.attachedPolicies.size > 0) throw new AwsError("DeleteConflictException", "Cannot delete entity, must delete policies first.", 409);
    this.roles.delete(role.roleName);
    return {};
  }

  private role(i: OpInput): Role {
    const name = reqString(i, "RoleName");
    const role = this.roles.get(name);
    if (!role) throw noSuchEntity(`The role with name ${name} cannot be found.`);
    return role;
  }

  private roleOut(r: Role, withTags: boolean): OpOutput {
    return {
      Path: r.path,
      RoleName: r.roleName,
      RoleId: r.roleId,
      Arn: r.arn,
      CreateDate: r.createdAt,
      // Real IAM hands policy documents back URL-encoded.
      AssumeRolePolicyDocument: encodeURIComponent(r.assumeRolePolicy),
      ...(r.description !== undefined ? { Description: r.description } : {}),
      MaxSessionDuration: r.maxSessionDuration,
      ...(withTags && r.tags.size > 0 ? { Tags: [...r.tags].map(([Key, Value]) => ({ Key, Value })) } : {}),
    };
  }

  /** IAM pagination: Marker is an opaque position, IsTruncated says whether to ask again. */
  private page<T>(all: readonly T[], i: OpInput): { items: T[]; more: { IsTruncated: boolean; Marker?: string } } {
    const marker = optString(i, "Marker");
    const start = marker === undefined ? 0 : decodeMarker(marker);
    const size = Math.min(optNumber(i, "MaxItems") ?? 100, this.pageSize);
    if (size < 1 || size > 1000) throw validation("maxItems must be between 1 and 1000");
    const items = all.slice(start, start + size);
    const next = start + items.length;
    return { items, more: next < all.length ? { IsTruncated: true, Marker: encodeMarker(next) } : { IsTruncated: false } };
  }
}

function encodeMarker(position: number): string {
  return Buffer.from(`chatctl:${position}`).toString("base64");
}

function decodeMarker(marker: string): number {
  const m = /^chatctl:(\d+)$/.exec(Buffer.from(marker, "base64").toString("utf8"));
  if (!m?.[1]) throw validation("Invalid Marker");
  return Number(m[1]);
}

function randomId(length: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  return [...randomBytes(length)].map((b) => alphabet[b % alphabet.length]).join("");
}

function noSuchEntity(message: string): AwsError {
  return new AwsError("NoSuchEntityException", message, 404);
}

function validation(message: string): AwsError {
  return new AwsError("ValidationError", message, 400);
}

function sessionDuration(seconds: number): number {
  if (!Number.isInteger(seconds) || seconds < 3600 || seconds > 43200) throw validation("MaxSessionDuration must be between 3600 and 43200 seconds");
  return seconds;
}

function policyDocument(i: OpInput, field: string): string {
  const doc = reqString(i, field);
  try {
    const parsed: unknown = JSON.parse(doc);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
  } catch {
    throw new AwsError("MalformedPolicyDocumentException", "This policy contains invalid Json", 400);
  }
  return doc;
}

function reqString(i: OpInput, field: string): string {
  const v = i[field];
  if (typeof v !== "string" || v === "") throw validation(`1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must not be null`);
  return v;
}

function optString(i: OpInput, field: string): string | undefined {
  const v = i[field];
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw validation(`${field} must be a string`);
  return v;
}

function optNumber(i: OpInput, field: string): number | undefined {
  const v = i[field];
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v)) throw validation(`${field} must be a number`);
  return v;
}

function stringList(v: unknown, field: string): string[] {
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === "string")) throw validation(`${field} must be a list of strings`);
  return v;
}

function tagList(v: unknown): { Key: string; Value: string }[] {
  if (!Array.isArray(v)) throw validation("Tags must be a list");
  return v.map((t: unknown) => {
    const tag = (typeof t === "object" && t !== null ? t : {}) as Record<string, unknown>;
    if (typeof tag.Key !== "string" || tag.Key === "") throw validation("Tag keys must be non-empty strings");
    const value = tag.Value ?? "";
    if (typeof value !== "string") throw validation("Tag values must be strings");
    return { Key: tag.Key, Value: value };
  });
}
