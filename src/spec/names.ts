import type { ChatSpec, KeyAttribute } from "./schema.js";
import type { KeyAttributeProps } from "../resources/props.js";

// Every AWS name of a stack derives from the stack name, so two stacks in one
// account never collide and a reader can tell at a glance what belongs to whom.

export const ROLE_PATH = "/chatctl/";
export const INLINE_POLICY_NAME = "chatctl";
export const PERMISSION_STATEMENT_ID = "chatctl-apigateway";

export const functionName = (spec: Pick<ChatSpec, "stack">, fn: string): string => `${spec.stack}-${fn}`;
export const roleName = (spec: Pick<ChatSpec, "stack">, fn: string): string => `${spec.stack}-${fn}`;
export const logGroupName = (spec: Pick<ChatSpec, "stack">, fn: string): string => `/aws/lambda/${functionName(spec, fn)}`;
export const tableName = (spec: Pick<ChatSpec, "stack">, table: string): string => `${spec.stack}-${table}`;
export const apiName = (spec: Pick<ChatSpec, "stack" | "api">): string => spec.api.name ?? spec.stack;

/** The environment variable through which a function learns a table's name: TABLE_CONNECTIONS. */
export const functionEnvName = (fn: string): string => `FUNCTION_${fn.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
export const tableEnvName = (table: string): string => `TABLE_${table.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;

export function keyAttribute(k: KeyAttribute): KeyAttributeProps {
  return typeof k === "string" ? { name: k, type: "S" } : { name: k.name, type: k.type };
}
