import type { ChatSpec, KeyAttribute, RouteSpec } from "./schema.js";
import type { KeyAttributeProps } from "../resources/props.js";

// Every AWS name of a stack derives from the stack name, so two stacks in one
// account never collide and a reader can tell at a glance what belongs to whom.

export const ROLE_PATH = "/chatctl/";
export const INLINE_POLICY_NAME = "chatctl";
export const PERMISSION_STATEMENT_ID = "chatctl-apigateway";
/** A second statement, so a function may be both a route's and an authorizer's. */
export const AUTHORIZER_PERMISSION_STATEMENT_ID = "chatctl-apigateway-authorizer";

export const functionName = (spec: Pick<ChatSpec, "stack">, fn: string): string => `${spec.stack}-${fn}`;
export const roleName = (spec: Pick<ChatSpec, "stack">, fn: string): string => `${spec.stack}-${fn}`;
export const logGroupName = (spec: Pick<ChatSpec, "stack">, fn: string): string => `/aws/lambda/${functionName(spec, fn)}`;
export const tableName = (spec: Pick<ChatSpec, "stack">, table: string): string => `${spec.stack}-${table}`;
export const accessLogGroupName = (spec: Pick<ChatSpec, "stack" | "api">): string => `/aws/apigateway/${spec.stack}/${spec.api.stage}/access`;
export const apiName = (spec: Pick<ChatSpec, "stack" | "api">): string => spec.api.name ?? spec.stack;

/** Functions with manageConnections find the stage's @connections endpoint here, so handlers need not build it. */
export const CONNECTIONS_ENDPOINT_ENV = "CONNECTIONS_ENDPOINT";

/** The @connections endpoint of a stage, as API Gateway documents it: https://{apiId}.execute-api.{region}.amazonaws.com/{stage}. */
export const managementEndpointFormat = (partition: string, region: string, stage: string): string =>
  `https://{}.execute-api.${region}.${partition === "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com"}/${stage}`;

/** The environment variable through which a function learns a table's name: TABLE_CONNECTIONS. */
export const functionEnvName = (fn: string): string => `FUNCTION_${fn.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
export const tableEnvName = (table: string): string => `TABLE_${table.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;

export function keyAttribute(k: KeyAttribute): KeyAttributeProps {
  return typeof k === "string" ? { name: k, type: "S" } : { name: k.name, type: k.type };
}

/** A route's function, whether written `key: fn` or `key: { function: fn, ... }`. */
export const routeFunction = (route: RouteSpec): string => (typeof route === "string" ? route : route.function);

/** How API Gateway authorizes a route: NONE, CUSTOM (an authorizer) or AWS_IAM. */
export function routeAuthorization(route: RouteSpec): { type: "NONE" | "CUSTOM" | "AWS_IAM"; authorizer?: string } {
  if (typeof route === "string") return { type: "NONE" };
  if (route.authorizer !== undefined) return { type: "CUSTOM", authorizer: route.authorizer };
  return { type: route.authorization === "iam" ? "AWS_IAM" : "NONE" };
}
