import { z } from "zod";
import { DEFAULT_NODE_RUNTIME } from "../aws/lambda-rules.js";

// The single source of truth for chat.yaml: the TypeScript types below and
// schema/chat.schema.json are both derived from it. Name rules that AWS enforces
// live here too, so a bad name is reported before any AWS call is made.

const logicalName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]*$/, "must start with a letter and hold only letters, digits, '-' and '_'")
  .max(40, "must be at most 40 characters (AWS names are derived from it)");

export const StackName = z
  .string()
  .regex(/^[a-z][a-z0-9-]*$/, "must start with a lowercase letter and hold only lowercase letters, digits and '-'")
  .max(24, "must be at most 24 characters (every AWS name of the stack is derived from it)")
  .describe("Stack name. Owner tag of every resource and prefix of every derived AWS name.");

export const RouteKey = z
  .string()
  .min(1)
  .max(128)
  .regex(/^(\$connect|\$disconnect|\$default|[^$\s][^\s]*)$/, "must be $connect, $disconnect, $default, or a custom key without spaces that does not start with '$'");

export const Runtime = z.enum(["nodejs20.x", "nodejs22.x", "nodejs24.x"]);

// CloudWatch Logs accepts only these retention periods.
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;
export const LogRetention = z
  .number()
  .int()
  .refine((n) => (LOG_RETENTION_DAYS as readonly number[]).includes(n), {
    message: `must be one of ${LOG_RETENTION_DAYS.join(", ")} (the values CloudWatch Logs accepts)`,
  });

/** An IAM grant beyond the function's tables: `*` alone is never an action (least privilege). */
export const PermissionSpec = z.strictObject({
  actions: z
    .array(z.string().regex(/^[a-z0-9-]+:[A-Za-z0-9*]+$/, "must be service:Action, e.g. s3:GetObject").refine((a) => !/^[^:]+:\*$/.test(a), "must name actions, not a whole service (service:*)"))
    .min(1),
  resources: z.array(z.string().regex(/^(arn:[^\s]+|\*)$/, "must be an ARN (or *)")).min(1),
});

export const FunctionSpec = z
  .strictObject({
    handler: z.string().min(1).describe("Handler source (.ts, .mts, .cts, .js, .mjs, .cjs; ESM or CommonJS), relative to this file; it exports `handler`."),
    description: z.string().max(256).optional(),
    runtime: Runtime.default(DEFAULT_NODE_RUNTIME),
    memory: z.number().int().min(128).max(10240).default(256).describe("Memory in MB (128-10240)."),
    timeout: z.number().int().min(1).max(900).default(10).describe("Timeout in seconds. API Gateway waits at most 29 s for a route's answer."),
    environment: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, "must start with a letter and hold only letters, digits and '_'"), z.string()).default({}),
    tables: z.array(logicalName).default([]).describe("Tables this function may read and write; their names reach it as TABLE_<NAME> (and TABLE_NAME when there is one)."),
    manageConnections: z.boolean().default(false).describe("May post to and drop connections of this API's stage (execute-api:ManageConnections)."),
    invokes: z
      .array(logicalName)
      .default([])
      .describe("Functions this one may invoke (lambda:InvokeFunction on their ARNs only); their AWS names reach it as FUNCTION_<NAME>."),
    logRetentionDays: LogRetention.default(14),
    permissions: z.array(PermissionSpec).default([]).describe("Extra IAM grants (S3, SQS, SSM...): [{ actions: [s3:GetObject], resources: [arn:...] }]."),
  })
  .describe("A Lambda function.");

export const KeyAttribute = z.union([
  z.string().min(1).max(255),
  z.strictObject({ name: z.string().min(1).max(255), type: z.enum(["S", "N", "B"]).default("S") }),
]);

// Index names: 3-255 of these characters (DynamoDB's rule for table and index names).
const indexName = z.string().regex(/^[A-Za-z0-9_.-]{3,255}$/, "must be 3-255 letters, digits, '_', '-' or '.'");

export const IndexSpec = z
  .strictObject({
    name: indexName.describe("Index name, unique within the table (IndexName on a Query)."),
    partitionKey: KeyAttribute.describe("The index's partition key: an attribute name (type S), or { name, type }. Items without it are not in the index."),
    sortKey: KeyAttribute.optional(),
    projection: z
      .union([z.enum(["ALL", "KEYS_ONLY"]), z.array(z.string().min(1).max(255)).min(1).max(100)])
      .default("ALL")
      .describe("Attributes copied into the index: ALL, KEYS_ONLY (the table's and the index's keys), or a list of attributes (INCLUDE) besides the keys."),
  })
  .describe("A global secondary index.");

export const TableSpec = z
  .strictObject({
    partitionKey: KeyAttribute.describe("Partition key: an attribute name (type S), or { name, type }."),
    sortKey: KeyAttribute.optional(),
    ttlAttribute: z.string().min(1).max(255).optional().describe("Attribute holding an epoch-seconds expiry time."),
    billingMode: z.enum(["PAY_PER_REQUEST", "PROVISIONED"]).default("PAY_PER_REQUEST"),
    readCapacity: z.number().int().min(1).optional(),
    writeCapacity: z.number().int().min(1).optional(),
    onDestroy: z.enum(["retain", "delete"]).default("retain").describe("retain: destroy keeps the table; delete: destroy removes it (items only with --delete-data)."),
    deletionProtection: z.boolean().default(false),
    indexes: z
      .array(IndexSpec)
      .max(20, "DynamoDB allows at most 20 global secondary indexes per table")
      .default([])
      .describe("Global secondary indexes. An apply adds or removes one at a time (DynamoDB's rule); a changed index is removed and built again."),
  })
  .describe("A DynamoDB table.");

export const ApiSpec = z
  .strictObject({
    name: z.string().min(1).max(128).optional().describe("API name; defaults to the stack name."),
    description: z.string().max(1024).optional(),
    routeSelectionExpression: z.string().default("$request.body.action"),
    stage: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,128}$/, "must be 1-128 letters, digits, '-' or '_'")
      .default("prod"),
    // Both bounds at once: AWS leaves an unset one at 0, and 0 throttles everything.
    throttling: z
      .strictObject({ rateLimit: z.number().positive().max(10000), burstLimit: z.number().int().min(1).max(5000) })
      .optional()
      .describe("The stage's default route throttling: requests per second and burst."),
    accessLog: z
      .union([z.boolean(), z.strictObject({ format: z.string().min(1).max(4096).optional(), retentionDays: LogRetention.default(14) })])
      .optional()
      .describe("Stage access logs to a log group of the stack (JSON lines by default)."),
  })
  .describe("The WebSocket API.");

// Identity sources a WebSocket REQUEST authorizer can read (API Gateway developer guide,
// "Configuring a WebSocket API Lambda REQUEST authorizer").
export const IdentitySource = z
  .string()
  .regex(
    /^(route\.request\.(header|querystring)\.[^\s.]+|context\.[A-Za-z0-9_.]+|stageVariables\.[A-Za-z0-9_]+)$/,
    "must be route.request.header.<name>, route.request.querystring.<name>, context.<name> or stageVariables.<name>",
  );

export const AuthorizerSpec = z
  .strictObject({
    function: logicalName.describe("The function (under functions:) that answers with an IAM policy."),
    type: z.string().optional().describe("REQUEST, the only type a WebSocket API takes (checked with a reason in validate.ts)."),
    identitySources: z.array(IdentitySource).min(1).default(["route.request.header.Authorization"]),
  })
  .describe("A Lambda REQUEST authorizer for $connect.");

export const RouteSpec = z.union([
  logicalName,
  z.strictObject({
    function: logicalName,
    authorizer: logicalName.optional().describe("An authorizer under authorizers: (only on $connect)."),
    authorization: z.enum(["iam"]).optional().describe("iam: connections must be SigV4-signed (only on $connect)."),
  }),
]);

const Region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "must be an AWS region such as ap-northeast-1");
const Tags = z.record(z.string().min(1).max(128), z.string().max(256));

// What an environment may change: settings, never which routes, functions or tables exist.
export const EnvironmentSpec = z
  .strictObject({
    account: z.string().regex(/^\d{12}$/, "must be a 12-digit AWS account id").optional().describe("Plan and apply only in this account."),
    region: Region.optional(),
    api: ApiSpec.partial().optional(),
    functions: z.record(logicalName, FunctionSpec.omit({ handler: true }).partial()).optional(),
    tables: z.record(logicalName, TableSpec.partial()).optional(),
    tags: Tags.optional(),
  })
  .describe("Overrides for one environment; its stack is <stack>-<name>.");

export const EnvironmentName = z.string().regex(/^[a-z][a-z0-9]*$/, "must start with a lowercase letter and hold only lowercase letters and digits").max(12);

export const ChatSpec = z
  .strictObject({
    $schema: z.string().optional(),
    stack: StackName,
    region: Region.optional().describe("AWS region; else AWS_REGION, AWS_DEFAULT_REGION, else ap-northeast-1."),
    api: ApiSpec.default({ routeSelectionExpression: "$request.body.action", stage: "prod" }),
    routes: z.record(RouteKey, RouteSpec).describe("Route key -> function name, or { function, authorizer | authorization }."),
    authorizers: z.record(logicalName, AuthorizerSpec).default({}),
    functions: z.record(logicalName, FunctionSpec),
    tables: z.record(logicalName, TableSpec).default({}),
    tags: Tags.default({}),
    environments: z.record(EnvironmentName, EnvironmentSpec).optional().describe("dev, staging, prod...: each its own stack, chosen with --env."),
  })
  .describe("chatctl stack specification (chat.yaml).");

export type ChatSpec = z.output<typeof ChatSpec>;
export type ChatSpecInput = z.input<typeof ChatSpec>;
export type FunctionSpec = z.output<typeof FunctionSpec>;
export type TableSpec = z.output<typeof TableSpec>;
export type EnvironmentSpec = z.output<typeof EnvironmentSpec>;
export type ApiSpec = z.output<typeof ApiSpec>;
export type KeyAttribute = z.output<typeof KeyAttribute>;
export type IndexSpec = z.output<typeof IndexSpec>;
export type RouteSpec = z.output<typeof RouteSpec>;
export type AuthorizerSpec = z.output<typeof AuthorizerSpec>;
export type PermissionSpec = z.output<typeof PermissionSpec>;
