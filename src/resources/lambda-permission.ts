import { AddPermissionCommand, GetPolicyCommand, RemovePermissionCommand } from "@aws-sdk/client-lambda";
import type { Actual, Change, Ctx, ResolvedResource, ResourceKind } from "./kind.js";
import { createOrAdopt } from "./common.js";
import { isAwsError } from "../aws/errors.js";
import type { PermissionProps } from "./props.js";

export interface PermissionAttributes {
  readonly functionName: string;
  readonly statementId: string;
  readonly action: string;
  readonly principal: string;
  readonly sourceArn: string | undefined;
}

const REPLACE_REASON = "a Lambda permission statement cannot be changed in place";

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** "apigateway.amazonaws.com" from {Service: ...}, the ARN from {AWS: ...}, "*" as is. */
function principalOf(v: unknown): string {
  if (typeof v === "string") return v;
  const p = asRecord(v);
  const inner = p?.["Service"] ?? p?.["AWS"];
  return typeof inner === "string" ? inner : Array.isArray(inner) ? inner.map(String).join(",") : JSON.stringify(v);
}

/** A statement as GetPolicy (or AddPermission) shows it, as attributes. */
export function permissionFromStatement(functionName: string, statement: unknown): PermissionAttributes | undefined {
  const s = asRecord(statement);
  if (!s || typeof s["Sid"] !== "string") return undefined;
  const action = s["Action"];
  const sourceArn = asRecord(asRecord(s["Condition"])?.["ArnLike"])?.["AWS:SourceArn"];
  return {
    functionName,
    statementId: s["Sid"],
    action: Array.isArray(action) ? action.map(String).join(",") : String(action),
    principal: principalOf(s["Principal"]),
    sourceArn: typeof sourceArn === "string" ? sourceArn : undefined,
  };
}

function toActual(a: PermissionAttributes): Actual<PermissionAttributes> {
  return {
    physicalId: `${a.functionName}/${a.statementId}`,
    attributes: a,
    outputs: { statementId: a.statementId },
    ownership: { by: "parent" },
  };
}

async function read(ctx: Ctx, d: ResolvedResource<PermissionProps>): Promise<Actual<PermissionAttributes> | undefined> {
  let policy: string | undefined;
  try {
    policy = (await ctx.clients.lambda().send(new GetPolicyCommand({ FunctionName: d.props.functionName }))).Policy;
  } catch (err) {
    // No function, or a function without any policy: either way the statement is not there.
    if (isAwsError(err, "ResourceNotFoundException")) return undefined;
    throw err;
  }
  const statements = asRecord(JSON.parse(policy ?? "{}") as unknown)?.["Statement"];
  if (!Array.isArray(statements)) return undefined;
  for (const statement of statements) {
    const attributes = permissionFromStatement(d.props.functionName, statement);
    if (attributes?.statementId === d.props.statementId) return toActual(attributes);
  }
  return undefined;
}

function diff(d: ResolvedResource<PermissionProps>, a: Actual<PermissionAttributes>): Change[] {
  const changes: Change[] = [];
  const field = (path: "action" | "principal" | "sourceArn"): void => {
    if (a.attributes[path] !== d.props[path]) {
      changes.push({ path, before: a.attributes[path], after: d.props[path], forcesReplacement: true, reason: REPLACE_REASON });
    }
  };
  field("sourceArn");
  field("principal");
  field("action");
  return changes;
}

async function replace(ctx: Ctx, d: ResolvedResource<PermissionProps>, a: Actual<PermissionAttributes>): Promise<Actual<PermissionAttributes>> {
  await remove(ctx, a);
  return add(ctx, d);
}

async function add(ctx: Ctx, d: ResolvedResource<PermissionProps>): Promise<Actual<PermissionAttributes>> {
  const p = d.props;
  const out = await ctx.clients.lambda().send(
    new AddPermissionCommand({
      FunctionName: p.functionName,
      StatementId: p.statementId,
      Action: p.action,
      Principal: p.principal,
      SourceArn: p.sourceArn,
    }),
  );
  const attributes = out.Statement ? permissionFromStatement(p.functionName, JSON.parse(out.Statement) as unknown) : undefined;
  return toActual(attributes ?? { functionName: p.functionName, statementId: p.statementId, action: p.action, principal: p.principal, sourceArn: p.sourceArn });
}

async function remove(ctx: Ctx, a: Actual<PermissionAttributes>): Promise<void> {
  try {
    await ctx.clients.lambda().send(new RemovePermissionCommand({ FunctionName: a.attributes.functionName, StatementId: a.attributes.statementId }));
  } catch (err) {
    if (!isAwsError(err, "ResourceNotFoundException")) throw err;
  }
}

export const lambdaPermission = {
  kind: "lambda.permission",
  read,
  diff,

  create(ctx: Ctx, d: ResolvedResource<PermissionProps>): Promise<Actual<PermissionAttributes>> {
    // A taken statement id means an earlier run got this far: keep it if it says what we want.
    return createOrAdopt<PermissionProps, PermissionAttributes, Actual<PermissionAttributes>>({ read, diff, update: replace }, ctx, d, {
      create: () => add(ctx, d),
      created: (added) => added,
      isTaken: (err) => isAwsError(err, "ResourceConflictException"),
    });
  },

  // Every difference forces replacement; should the executor still ask for an
  // update, a statement is replaced the only way Lambda allows.
  update: replace,

  delete: remove,
} satisfies ResourceKind<PermissionProps, PermissionAttributes>;
