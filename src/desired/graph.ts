import { createHash } from "node:crypto";
import type { ChatSpec, IndexSpec } from "../spec/schema.js";
import {
  AUTHORIZER_PERMISSION_STATEMENT_ID,
  INLINE_POLICY_NAME,
  PERMISSION_STATEMENT_ID,
  ROLE_PATH,
  accessLogGroupName,
  apiName,
  functionEnvName,
  routeAuthorization,
  routeFunction,
  functionName,
  keyAttribute,
  logGroupName,
  roleName,
  tableEnvName,
  tableName,
  CONNECTIONS_ENDPOINT_ENV,
  managementEndpointFormat,
} from "../spec/names.js";
import { TAG_ID, TAG_STACK, ref, type DesiredResource, type ResourceKind, type Unresolved } from "../resources/kind.js";
import { apigwApi } from "../resources/apigw-api.js";
import { apigwAuthorizer, authorizerAwsName } from "../resources/apigw-authorizer.js";
import { apigwDeployment } from "../resources/apigw-deployment.js";
import { apigwIntegration } from "../resources/apigw-integration.js";
import { apigwRoute } from "../resources/apigw-route.js";
import { apigwStage } from "../resources/apigw-stage.js";
import { dynamodbTable } from "../resources/dynamodb-table.js";
import { iamRole } from "../resources/iam-role.js";
import { lambdaFunction } from "../resources/lambda-function.js";
import { lambdaPermission } from "../resources/lambda-permission.js";
import { logsGroup } from "../resources/logs-group.js";
import type {
  ApiProps,
  AuthorizerProps,
  DeploymentProps,
  FunctionProps,
  IndexProps,
  IntegrationProps,
  LogGroupProps,
  PermissionProps,
  PolicyDocument,
  PolicyStatement,
  RoleProps,
  RouteProps,
  StageProps,
  TableProps,
  Tags,
} from "../resources/props.js";

/** The bundled code of one function, as the desired graph needs it. */
export interface CodeIdentity {
  readonly sha256: string; // base64, as Lambda reports CodeSha256
  readonly zipPath: string;
}

export interface DesiredInput {
  readonly spec: ChatSpec;
  readonly region: string;
  readonly accountId: string;
  readonly partition?: string;
  /** One entry per function of the spec. */
  readonly code: Readonly<Record<string, CodeIdentity>>;
}

// Logical ids: stable names for resources, independent of AWS ids, written in
// the chatctl:id tag (or an integration's description) so a later run finds them.
export const ids = {
  api: "api",
  stage: "stage",
  deployment: "deployment",
  table: (t: string) => `table.${t}`,
  role: (f: string) => `role.${f}`,
  logGroup: (f: string) => `logs.${f}`,
  fn: (f: string) => `function.${f}`,
  permission: (f: string) => `permission.${f}`,
  integration: (f: string) => `integration.${f}`,
  route: (key: string) => `route.${key}`,
  authorizer: (a: string) => `authorizer.${a}`,
  authorizerPermission: (f: string) => `permission.authorizer.${f}`,
  accessLog: "logs.access",
} as const;

/**
 * The access log line when the spec gives no format: one JSON object with what a
 * failed connect or message needs to be traced (API Gateway's $context variables,
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-logging.html).
 */
export const DEFAULT_ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: "$context.requestId",
  requestTime: "$context.requestTime",
  connectionId: "$context.connectionId",
  eventType: "$context.eventType",
  routeKey: "$context.routeKey",
  status: "$context.status",
  error: "$context.error.message",
  integrationError: "$context.integrationErrorMessage",
  authorizerError: "$context.authorizer.error",
});

const DYNAMODB_ACTIONS = [
  "dynamodb:BatchGetItem",
  "dynamodb:BatchWriteItem",
  "dynamodb:ConditionCheckItem",
  "dynamodb:DeleteItem",
  "dynamodb:DescribeTable",
  "dynamodb:GetItem",
  "dynamodb:PutItem",
  "dynamodb:Query",
  "dynamodb:Scan",
  "dynamodb:UpdateItem",
];

const LAMBDA_TRUST: PolicyDocument = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
};

/** The kind object, not its name: the props are checked against what that kind takes. */
function resource<P>(
  id: string,
  kind: ResourceKind<P, unknown>,
  name: string,
  props: Unresolved<P>,
  dependsOn: string[],
  extra: { retainOnDestroy?: boolean; captures?: readonly string[] } = {},
): DesiredResource<P> {
  return { id, kind: kind.kind, name, props, dependsOn: [...new Set(dependsOn)].sort(), ...extra };
}

/** Spec -> every AWS resource the stack needs, with references and dependencies. */
export function buildDesired(input: DesiredInput): DesiredResource[] {
  const { spec, region, accountId } = input;
  const partition = input.partition ?? "aws";
  const tagsFor = (id: string): Tags => ({ ...spec.tags, [TAG_STACK]: spec.stack, [TAG_ID]: id });
  const out: DesiredResource[] = [];
  const add = <P>(r: DesiredResource<P>) => out.push(r as DesiredResource);

  for (const [t, table] of sortedEntries(spec.tables)) {
    const props: TableProps = {
      tableName: tableName(spec, t),
      partitionKey: keyAttribute(table.partitionKey),
      ...(table.sortKey ? { sortKey: keyAttribute(table.sortKey) } : {}),
      billingMode: table.billingMode,
      ...(table.readCapacity !== undefined ? { readCapacity: table.readCapacity } : {}),
      ...(table.writeCapacity !== undefined ? { writeCapacity: table.writeCapacity } : {}),
      ...(table.ttlAttribute ? { ttlAttribute: table.ttlAttribute } : {}),
      deletionProtection: table.deletionProtection,
      ...(table.indexes.length > 0 ? { indexes: [...table.indexes].sort((a, b) => (a.name < b.name ? -1 : 1)).map(indexProps) } : {}),
      tags: tagsFor(ids.table(t)),
    };
    add(resource<TableProps>(ids.table(t), dynamodbTable, props.tableName, props, [], { retainOnDestroy: table.onDestroy === "retain" }));
  }

  const api: ApiProps = {
    name: apiName(spec),
    protocolType: "WEBSOCKET",
    routeSelectionExpression: spec.api.routeSelectionExpression,
    ...(spec.api.description ? { description: spec.api.description } : {}),
    tags: tagsFor(ids.api),
  };
  add(resource<ApiProps>(ids.api, apigwApi, api.name, api, []));
  const apiId = ref(ids.api, "apiId");
  const stageName = spec.api.stage;

  const routedFunctions = new Set(Object.values(spec.routes).map(routeFunction));
  const authorizerFunctions = new Set(Object.values(spec.authorizers).map((a) => a.function));

  for (const [f, fn] of sortedEntries(spec.functions)) {
    const fnName = functionName(spec, f);
    const logGroup = logGroupName(spec, f);
    const statements: Unresolved<PolicyStatement>[] = [
      {
        Sid: "WriteOwnLogs",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: [`arn:${partition}:logs:${region}:${accountId}:log-group:${logGroup}:*`],
      },
    ];
    if (fn.tables.length > 0) {
      statements.push({
        Sid: "UseOwnTables",
        Effect: "Allow",
        Action: DYNAMODB_ACTIONS,
        Resource: fn.tables.flatMap((t) => [ref(ids.table(t), "tableArn"), ref(ids.table(t), "tableArn", "{}/index/*")]),
      });
    }
    if (fn.manageConnections) {
      statements.push({
        Sid: "ManageOwnConnections",
        Effect: "Allow",
        Action: "execute-api:ManageConnections",
        Resource: [ref(ids.api, "executeArn", `{}/${stageName}/*/@connections/*`)],
      });
    }
    if (fn.invokes.length > 0) {
      // The ARN is known from the name: no dependency on the other function, so two may invoke each other.
      statements.push({
        Sid: "InvokeOwnFunctions",
        Effect: "Allow",
        Action: "lambda:InvokeFunction",
        Resource: [...new Set(fn.invokes)].sort().map((g) => `arn:${partition}:lambda:${region}:${accountId}:function:${functionName(spec, g)}`),
      });
    }
    fn.permissions.forEach((grant, i) => {
      statements.push({ Sid: `Extra${i + 1}`, Effect: "Allow", Action: [...grant.actions].sort(), Resource: [...grant.resources].sort() });
    });
    const role: Unresolved<RoleProps> = {
      roleName: roleName(spec, f),
      path: ROLE_PATH,
      description: `Runs function ${fnName} of chatctl stack ${spec.stack}`,
      assumeRolePolicy: LAMBDA_TRUST,
      inlinePolicyName: INLINE_POLICY_NAME,
      inlinePolicy: { Version: "2012-10-17", Statement: statements },
      tags: tagsFor(ids.role(f)),
    };
    add(
      resource<RoleProps>(ids.role(f), iamRole, roleName(spec, f), role, [
        ...fn.tables.map(ids.table),
        ...(fn.manageConnections ? [ids.api] : []),
      ]),
    );

    const logs: LogGroupProps = { logGroupName: logGroup, retentionDays: fn.logRetentionDays, tags: tagsFor(ids.logGroup(f)) };
    add(resource<LogGroupProps>(ids.logGroup(f), logsGroup, logGroup, logs, []));

    const code = input.code[f];
    if (!code) throw new Error(`no bundle for function ${f}`);
    const environment: Record<string, string | ReturnType<typeof ref>> = {};
    for (const t of fn.tables) environment[tableEnvName(t)] = tableName(spec, t);
    if (fn.tables.length === 1 && fn.tables[0] !== undefined) environment.TABLE_NAME = tableName(spec, fn.tables[0]);
    for (const g of fn.invokes) environment[functionEnvName(g)] = functionName(spec, g);
    if (fn.manageConnections) environment[CONNECTIONS_ENDPOINT_ENV] = ref(ids.api, "apiId", managementEndpointFormat(partition, region, stageName));
    Object.assign(environment, fn.environment);
    const fnProps: Unresolved<FunctionProps> = {
      functionName: fnName,
      roleArn: ref(ids.role(f), "roleArn"),
      runtime: fn.runtime,
      handler: "index.handler",
      memory: fn.memory,
      timeout: fn.timeout,
      description: fn.description ?? `chatctl stack ${spec.stack}: ${f}`,
      environment,
      code: { sha256: code.sha256, zipPath: code.zipPath },
      tags: tagsFor(ids.fn(f)),
    };
    add(
      resource<FunctionProps>(ids.fn(f), lambdaFunction, fnName, fnProps, [
        ids.role(f),
        ids.logGroup(f),
        ...fn.tables.map(ids.table),
      ]),
    );

    if (authorizerFunctions.has(f)) {
      // Scoped to this API's authorizers, as API Gateway invokes them (not to any route).
      const permission: Unresolved<PermissionProps> = {
        functionName: fnName,
        statementId: AUTHORIZER_PERMISSION_STATEMENT_ID,
        action: "lambda:InvokeFunction",
        principal: "apigateway.amazonaws.com",
        sourceArn: ref(ids.api, "executeArn", "{}/authorizers/*"),
      };
      add(
        resource<PermissionProps>(ids.authorizerPermission(f), lambdaPermission, `${fnName} (${AUTHORIZER_PERMISSION_STATEMENT_ID})`, permission, [ids.fn(f), ids.api]),
      );
    }

    if (!routedFunctions.has(f)) continue;
    const permission: Unresolved<PermissionProps> = {
      functionName: fnName,
      statementId: PERMISSION_STATEMENT_ID,
      action: "lambda:InvokeFunction",
      principal: "apigateway.amazonaws.com",
      sourceArn: ref(ids.api, "executeArn", "{}/*"),
    };
    add(resource<PermissionProps>(ids.permission(f), lambdaPermission, `${fnName} (${PERMISSION_STATEMENT_ID})`, permission, [ids.fn(f), ids.api]));

    const integration: Unresolved<IntegrationProps> = {
      apiId,
      integrationType: "AWS_PROXY",
      integrationMethod: "POST",
      integrationUri: ref(ids.fn(f), "functionArn", `arn:${partition}:apigateway:${region}:lambda:path/2015-03-31/functions/{}/invocations`),
      description: `chatctl:${ids.integration(f)}`,
    };
    add(resource<IntegrationProps>(ids.integration(f), apigwIntegration, `${api.name} -> ${fnName}`, integration, [ids.api, ids.fn(f), ids.permission(f)]));
  }

  for (const [a, authorizer] of sortedEntries(spec.authorizers)) {
    const props: Unresolved<AuthorizerProps> = {
      apiId,
      name: authorizerAwsName(a),
      authorizerType: "REQUEST",
      authorizerUri: ref(ids.fn(authorizer.function), "functionArn", `arn:${partition}:apigateway:${region}:lambda:path/2015-03-31/functions/{}/invocations`),
      identitySource: authorizer.identitySources,
    };
    add(
      resource<AuthorizerProps>(ids.authorizer(a), apigwAuthorizer, authorizerAwsName(a), props, [
        ids.api,
        ids.fn(authorizer.function),
        ids.authorizerPermission(authorizer.function),
      ]),
    );
  }

  const routeIds: string[] = [];
  for (const [key, r] of sortedEntries(spec.routes)) {
    const f = routeFunction(r);
    const auth = routeAuthorization(r);
    const route: Unresolved<RouteProps> = {
      apiId,
      routeKey: key,
      target: ref(ids.integration(f), "integrationId", "integrations/{}"),
      authorizationType: auth.type,
      ...(auth.authorizer !== undefined ? { authorizerId: ref(ids.authorizer(auth.authorizer), "authorizerId") } : {}),
    };
    add(resource<RouteProps>(ids.route(key), apigwRoute, key, route, [ids.api, ids.integration(f), ...(auth.authorizer !== undefined ? [ids.authorizer(auth.authorizer)] : [])]));
    routeIds.push(ids.route(key));
  }

  const accessLog: { format?: string; retentionDays?: number } | undefined =
    spec.api.accessLog === true ? {} : spec.api.accessLog === false ? undefined : spec.api.accessLog;
  if (accessLog !== undefined) {
    const group = accessLogGroupName(spec);
    const logs: LogGroupProps = { logGroupName: group, retentionDays: accessLog.retentionDays ?? 14, tags: tagsFor(ids.accessLog) };
    add(resource<LogGroupProps>(ids.accessLog, logsGroup, group, logs, []));
  }
  const stage: Unresolved<StageProps> = {
    apiId,
    stageName,
    ...(spec.api.throttling ? { throttling: { rateLimit: spec.api.throttling.rateLimit, burstLimit: spec.api.throttling.burstLimit } } : {}),
    ...(accessLog !== undefined
      ? {
          accessLog: {
            destinationArn: `arn:${partition}:logs:${region}:${accountId}:log-group:${accessLogGroupName(spec)}`,
            format: accessLog.format ?? DEFAULT_ACCESS_LOG_FORMAT,
          },
        }
      : {}),
    tags: tagsFor(ids.stage),
  };
  add(resource<StageProps>(ids.stage, apigwStage, stageName, stage, [ids.api, ...(accessLog !== undefined ? [ids.accessLog] : [])]));

  const deployment: Unresolved<DeploymentProps> = { apiId, stageName, configHash: routingHash(spec) };
  // A deployment is a snapshot: what it must not miss (a dropped route or authorizer) goes first.
  add(
    resource<DeploymentProps>(ids.deployment, apigwDeployment, `${stageName} deployment`, deployment, [ids.stage, ...routeIds, ...Object.keys(spec.authorizers).map(ids.authorizer)], {
      captures: ["apigw.route", "apigw.integration", "apigw.authorizer"],
    }),
  );

  return out;
}

/**
 * What a deployment freezes: the route keys, the functions behind them, how each
 * route is authorized and the authorizers themselves. A new deployment is made
 * exactly when this changes (code changes need none: an AWS_PROXY integration
 * calls the function's latest version).
 */
export function routingHash(spec: ChatSpec): string {
  const routing: Record<string, unknown> = {
    routeSelectionExpression: spec.api.routeSelectionExpression,
    routes: sortedEntries(spec.routes).map(([key, r]) => {
      const auth = routeAuthorization(r);
      const fn = functionName(spec, routeFunction(r));
      // Unauthorized routes hash as before, so adding this field forces no redeployment.
      return auth.type === "NONE" ? [key, fn] : [key, fn, auth.type, auth.authorizer ?? ""];
    }),
  };
  const authorizers = sortedEntries(spec.authorizers).map(([a, z]) => [a, functionName(spec, z.function), z.identitySources]);
  if (authorizers.length > 0) routing.authorizers = authorizers;
  return createHash("sha256").update(JSON.stringify(routing)).digest("hex").slice(0, 16);
}

function indexProps(index: IndexSpec): IndexProps {
  const projection = index.projection;
  return {
    name: index.name,
    partitionKey: keyAttribute(index.partitionKey),
    ...(index.sortKey ? { sortKey: keyAttribute(index.sortKey) } : {}),
    ...(Array.isArray(projection) ? { projection: "INCLUDE", include: [...projection].sort() } : { projection }),
  };
}

function sortedEntries<V>(record: Readonly<Record<string, V>>): [string, V][] {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
