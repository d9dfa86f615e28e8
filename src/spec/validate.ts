// Checks that need more than one field, or the file system: a route naming a function
// that does not exist, a handler file that is missing, a derived AWS name that is too long.
//
// They run on the parsed value even when the schema found problems elsewhere, so one run
// reports everything; every field is narrowed here and skipped when it has the wrong type
// (the schema check already reported that).

import { realpath, stat } from "node:fs/promises";
import { extname, resolve } from "node:path";
import { isInside } from "../bundle/root.js";
import { StackName } from "./schema.js";
import { type Finding, type SpecPath, atPath, isRecord, listNames, quote, unknownName } from "./findings.js";
import { RESERVED_LAMBDA_ENVIRONMENT } from "../aws/lambda-rules.js";
import { CONNECTIONS_ENDPOINT_ENV, functionName, tableEnvName, tableName } from "./names.js";
import { MAX_ENVIRONMENT_BYTES, checkEnvironmentSize, checkRuntime, checkTags } from "./aws-limits.js";

export const HANDLER_EXTENSIONS = [".ts", ".mts", ".cts", ".js", ".mjs", ".cjs"] as const;

/** AWS limits for the names derived from the stack name (`${stack}-${name}`). */
export const MAX_FUNCTION_NAME = 64; // Lambda function names and IAM role names
export const MIN_TABLE_NAME = 3;
export const MAX_TABLE_NAME = 255;

/** API Gateway stops waiting for an integration after 29 seconds. */
export const API_GATEWAY_TIMEOUT_SECONDS = 29;

/** Lambda refuses these environment variable names: the runtime sets them. */
export const RESERVED_ENVIRONMENT = RESERVED_LAMBDA_ENVIRONMENT;

export { MAX_ENVIRONMENT_BYTES };

export interface ValidateContext {
  /** Folder of the spec file; handler paths are relative to it. */
  dir: string;
  /** Handlers must live under this folder (see bundle/root.ts findProjectRoot). */
  projectRoot: string;
  /** The day runtimes are checked against Lambda's deprecation schedule; today when omitted. */
  today?: Date;
}

function entriesOf(value: unknown): [string, unknown][] {
  return isRecord(value) ? Object.entries(value) : [];
}

function keyName(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (isRecord(value) && typeof value.name === "string") return value.name;
  return undefined;
}

function keyType(value: unknown): string {
  return isRecord(value) && typeof value.type === "string" ? value.type : "S";
}

/**
 * Index names are unique per table, and an attribute has one type in the whole
 * table: CreateTable takes one AttributeDefinitions list for the table's keys
 * and every index's.
 */
function checkIndexes(table: string, spec: Record<string, unknown>, error: (path: SpecPath, on: Finding["on"], summary: string, detail?: string) => void): void {
  if (!Array.isArray(spec.indexes)) return;
  const types = new Map<string, { type: string; where: string }>();
  for (const [field, key] of [["partitionKey", spec.partitionKey], ["sortKey", spec.sortKey]] as const) {
    const name = keyName(key);
    if (name !== undefined) types.set(name, { type: keyType(key), where: `the table's ${field}` });
  }
  const names = new Set<string>();
  spec.indexes.forEach((index: unknown, i: number) => {
    if (!isRecord(index)) return;
    if (typeof index.name === "string") {
      if (names.has(index.name)) error(["tables", table, "indexes", i, "name"], "value", `two indexes are named ${quote(index.name)}`, "index names must be unique within a table");
      names.add(index.name);
    }
    for (const field of ["partitionKey", "sortKey"] as const) {
      const name = keyName(index[field]);
      if (name === undefined) continue;
      const type = keyType(index[field]);
      const known = types.get(name);
      if (known && known.type !== type) {
        error(["tables", table, "indexes", i, field], "value", `attribute ${quote(name)} is type ${type} here but ${known.type} in ${known.where}`, "an attribute has one type across the table and its indexes");
      } else if (!known) types.set(name, { type, where: `index ${typeof index.name === "string" ? quote(index.name) : i}` });
    }
  });
}

function isWholeNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value);
}

export async function validateSpec(raw: unknown, ctx: ValidateContext): Promise<Finding[]> {
  const out: Finding[] = [];
  const report =
    (severity: Finding["severity"]) =>
    (path: SpecPath, on: Finding["on"], summary: string, detail?: string): void => {
      out.push({ severity, path, on, summary: atPath(on === "parent" ? path.slice(0, -1) : path, summary), ...(detail !== undefined ? { detail } : {}) });
    };
  const error = report("error");
  const warning = report("warning");
  if (!isRecord(raw)) return out;

  const stack = typeof raw.stack === "string" && StackName.safeParse(raw.stack).success ? raw.stack : undefined;
  const functions = isRecord(raw.functions) ? raw.functions : undefined;
  const functionNames = functions === undefined ? [] : Object.keys(functions);
  // Tables default to none, so a missing `tables` means "no tables" for the references below.
  const tables = raw.tables === undefined ? {} : isRecord(raw.tables) ? raw.tables : undefined;
  const tableNames = tables === undefined ? [] : Object.keys(tables);
  const usedFunctions = new Map<string, string[]>();
  // The AWS name built from a key; none for a key the schema already refused as too long.
  const derived = (make: (spec: { stack: string }, key: string) => string, key: string): string | undefined =>
    stack !== undefined && key.length <= 40 ? make({ stack }, key) : undefined;

  // Routes.
  if (isRecord(raw.routes)) {
    const routes = Object.entries(raw.routes);
    if (routes.length === 0) {
      error(["routes"], "key", "at least one route is needed", "for example:  $default: default   (route key: function name)");
    }
    for (const [routeKey, value] of routes) {
      const target = typeof value === "string" ? value : isRecord(value) && typeof value.function === "string" ? value.function : undefined;
      const at: SpecPath = typeof value === "string" ? ["routes", routeKey] : ["routes", routeKey, "function"];
      if (isRecord(value)) checkRouteAuth(routeKey, value, raw.authorizers, error);
      if (target === undefined) continue;
      usedFunctions.set(target, [...(usedFunctions.get(target) ?? []), routeKey]);
      if (functions === undefined || Object.hasOwn(functions, target)) continue;
      error(at, "value", ...unknownName("function", target, functionNames));
    }
  }

  // Authorizers: their functions are invoked by API Gateway, so they count as used.
  for (const [name, authorizer] of entriesOf(raw.authorizers)) {
    if (!isRecord(authorizer)) continue;
    if (typeof authorizer.type === "string" && authorizer.type !== "REQUEST") {
      error(
        ["authorizers", name, "type"],
        "value",
        `WebSocket APIs support only REQUEST authorizers, not ${quote(authorizer.type)}`,
        "a REQUEST authorizer is a function under functions: that answers with an IAM policy; JWT authorizers exist for HTTP APIs only",
      );
    }
    if (typeof authorizer.function !== "string") continue;
    const fn = authorizer.function;
    usedFunctions.set(fn, [...(usedFunctions.get(fn) ?? []), `authorizer ${name}`]);
    if (functions === undefined || Object.hasOwn(functions, fn)) continue;
    error(["authorizers", name, "function"], "value", ...unknownName("function", fn, functionNames));
  }

  // API.
  if (isRecord(raw.api) && typeof raw.api.routeSelectionExpression === "string") {
    const expression = raw.api.routeSelectionExpression;
    if (!/^\$request\.body\.[^\s]+$/.test(expression)) {
      error(
        ["api", "routeSelectionExpression"],
        "value",
        `must be $request.body.<field>, not ${quote(expression)}`,
        "a WebSocket API picks the route from a field of the JSON message, e.g. $request.body.action",
      );
    }
  }

  // Functions.
  for (const [name, fn] of entriesOf(functions)) {
    if (!isRecord(fn)) continue;
    const awsName = derived(functionName, name);
    if (awsName !== undefined && awsName.length > MAX_FUNCTION_NAME) {
      error(
        ["functions", name],
        "key",
        `the AWS name ${quote(awsName, 80)} would be ${awsName.length} characters; Lambda and IAM allow ${MAX_FUNCTION_NAME}`,
        "shorten the function name or the stack name (names are <stack>-<function>)",
      );
    }

    if (Array.isArray(fn.tables) && tables !== undefined) {
      fn.tables.forEach((table: unknown, index: number) => {
        if (typeof table !== "string" || Object.hasOwn(tables, table)) return;
        error(["functions", name, "tables", index], "value", ...unknownName("table", table, tableNames));
      });
    }

    if (Array.isArray(fn.invokes) && functions !== undefined) {
      fn.invokes.forEach((target: unknown, index: number) => {
        if (typeof target !== "string" || Object.hasOwn(functions, target)) return;
        error(["functions", name, "invokes", index], "value", ...unknownName("function", target, functionNames));
      });
    }

    if (Array.isArray(fn.permissions)) {
      fn.permissions.forEach((grant: unknown, index: number) => {
        if (!isRecord(grant) || !Array.isArray(grant.resources)) return;
        grant.resources.forEach((resource: unknown, r: number) => {
          if (typeof resource === "string" && (resource === "*" || /:\*$/.test(resource))) {
            warning(["functions", name, "permissions", index, "resources", r], "value", `resource ${quote(resource)} grants the actions on every resource of that kind`, "name the ARNs the function needs (least privilege)");
          }
        });
      });
    }

    if (typeof fn.handler === "string" && fn.handler !== "") {
      await checkHandler(["functions", name, "handler"], fn.handler, ctx, error);
    }

    const routesOfFunction = usedFunctions.get(name);
    if (isWholeNumber(fn.timeout) && fn.timeout > API_GATEWAY_TIMEOUT_SECONDS && fn.timeout <= 900 && routesOfFunction !== undefined) {
      warning(
        ["functions", name, "timeout"],
        "value",
        `timeout ${fn.timeout} s is longer than API Gateway waits (${API_GATEWAY_TIMEOUT_SECONDS} s) for route ${listNames(routesOfFunction, 3)}`,
        "after 29 s the client gets an error while the function keeps running; 29 or less avoids that",
      );
    }
    const invokedBy = entriesOf(functions).some(([, other]) => isRecord(other) && Array.isArray(other.invokes) && other.invokes.includes(name));
    if (routesOfFunction === undefined && !invokedBy && isRecord(raw.routes)) {
      warning(["functions", name], "key", "no route uses this function", "it is deployed, but nothing invokes it");
    }

    if (isRecord(fn.environment)) {
      for (const variable of Object.keys(fn.environment)) {
        if (RESERVED_ENVIRONMENT.has(variable)) {
          error(["functions", name, "environment", variable], "key", `${variable} is set by the Lambda runtime and cannot be overridden`);
        }
        if (variable === CONNECTIONS_ENDPOINT_ENV && fn.manageConnections === true) {
          error(["functions", name, "environment", variable], "key", `${variable} is set by chatctl for functions with manageConnections: it is the stage's @connections endpoint`);
        }
      }
    }
    checkEnvironmentSize(stack ?? String(raw.stack), name, fn, error);
    checkRuntime(name, fn, ctx.today ?? new Date(), error, warning);
  }

  // Tables.
  for (const [name, table] of entriesOf(tables)) {
    if (!isRecord(table)) continue;
    const awsName = derived(tableName, name);
    if (awsName !== undefined && (awsName.length < MIN_TABLE_NAME || awsName.length > MAX_TABLE_NAME)) {
      error(["tables", name], "key", `the table name ${quote(awsName, 80)} must be ${MIN_TABLE_NAME} to ${MAX_TABLE_NAME} characters`);
    }
    const mode = table.billingMode ?? "PAY_PER_REQUEST";
    if (mode === "PROVISIONED") {
      const missing = ["readCapacity", "writeCapacity"].filter((field) => table[field] === undefined);
      if (missing.length > 0) {
        error(
          ["tables", name, missing[0] ?? "readCapacity"],
          "parent",
          `billingMode PROVISIONED needs ${missing.join(" and ")}`,
          "for example:  readCapacity: 5   writeCapacity: 5   (or use billingMode: PAY_PER_REQUEST)",
        );
      }
    } else if (mode === "PAY_PER_REQUEST") {
      for (const field of ["readCapacity", "writeCapacity"]) {
        if (table[field] !== undefined) {
          error(
            ["tables", name, field],
            "key",
            `${field} is only for billingMode PROVISIONED`,
            "remove it (PAY_PER_REQUEST scales by itself), or set billingMode: PROVISIONED",
          );
        }
      }
    }
    const partition = keyName(table.partitionKey);
    const sort = keyName(table.sortKey);
    if (partition !== undefined && sort !== undefined && partition === sort) {
      error(["tables", name, "sortKey"], "value", `the sort key must differ from the partition key (both are ${quote(sort)})`);
    }
    checkIndexes(name, table, error);
  }

  // Functions learn table names as TABLE_<NAME>: two tables must not share one variable.
  const byEnvName = new Map<string, string>();
  for (const name of tableNames) {
    const env = tableEnvName(name);
    const other = byEnvName.get(env);
    if (other !== undefined) {
      error(["tables", name], "key", `tables ${quote(other)} and ${quote(name)} would both reach functions as ${env}`, "rename one of them");
    } else {
      byEnvName.set(env, name);
    }
  }

  // Tags.
  checkTags(raw, error);
  for (const [tagKey] of entriesOf(raw.tags)) {
    const lower = tagKey.toLowerCase();
    if (lower.startsWith("aws:")) {
      error(["tags", tagKey], "key", "tag keys starting with aws: are reserved by AWS");
    } else if (lower.startsWith("chatctl:")) {
      error(["tags", tagKey], "key", "tag keys starting with chatctl: are reserved: chatctl marks what it owns with them");
    }
  }

  return out;
}

/** API Gateway accepts an authorizer (or IAM authorization) on a WebSocket API's $connect route only. */
function checkRouteAuth(
  routeKey: string,
  route: Record<string, unknown>,
  authorizers: unknown,
  error: (path: SpecPath, on: Finding["on"], summary: string, detail?: string) => void,
): void {
  const hasAuthorizer = route.authorizer !== undefined;
  for (const field of ["authorizer", "authorization"] as const) {
    if (route[field] !== undefined && routeKey !== "$connect") {
      error(["routes", routeKey, field], "key", `${field} is allowed only on $connect`, "API Gateway authorizes a WebSocket connection once, when it opens; later routes run with what $connect's authorizer returned");
    }
  }
  if (hasAuthorizer && route.authorization !== undefined) {
    error(["routes", routeKey, "authorization"], "key", "use either authorizer or authorization: iam, not both");
  }
  if (typeof route.authorizer !== "string") return;
  const known = authorizers === undefined ? [] : isRecord(authorizers) ? Object.keys(authorizers) : undefined;
  if (known === undefined || known.includes(route.authorizer)) return;
  error(["routes", routeKey, "authorizer"], "value", ...unknownName("authorizer", route.authorizer, known));
}

async function checkHandler(
  path: SpecPath,
  handler: string,
  ctx: ValidateContext,
  error: (path: SpecPath, on: Finding["on"], summary: string, detail?: string) => void,
): Promise<void> {
  const extension = extname(handler).toLowerCase();
  if (!(HANDLER_EXTENSIONS as readonly string[]).includes(extension)) {
    error(
      path,
      "value",
      extension === "" ? `handler ${quote(handler)} has no file extension` : `handler files of type ${quote(extension)} are not supported`,
      `a handler is a ${HANDLER_EXTENSIONS.join(", ")} file that exports \`handler\``,
    );
    return;
  }
  const absolute = resolve(ctx.dir, handler);
  const outside = (where: string): void =>
    error(
      path,
      "value",
      `handler ${quote(handler)} is outside the project`,
      `it resolves to ${where}, outside ${ctx.projectRoot} (the nearest folder with package.json or .git); keep handlers inside the project`,
    );
  if (!isInside(ctx.projectRoot, absolute)) {
    outside(absolute);
    return;
  }
  let isFile: boolean;
  try {
    isFile = (await stat(absolute)).isFile();
  } catch {
    error(path, "value", `handler file not found: ${handler}`, `looked for ${absolute} (handler paths are relative to the folder of the spec file)`);
    return;
  }
  if (!isFile) {
    error(path, "value", `handler ${quote(handler)} is not a file`, `${absolute} is a folder or a device; point at the handler's source file`);
    return;
  }
  // A symbolic link may lead out of the project even when the path does not.
  try {
    const [realFile, realRoot] = await Promise.all([realpath(absolute), realpath(ctx.projectRoot)]);
    if (!isInside(realRoot, realFile)) outside(realFile);
  } catch {
    // The file was there a moment ago; whatever happened, bundling will report it.
  }
}
