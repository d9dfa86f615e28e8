import { allItems, type ApiGatewayV2Model } from "../models/apigatewayv2.js";
import { AwsError, type InvokeResult, type ServiceModel } from "../service.js";
import { jsonPayload } from "../models/lambda.js";
import { apiGatewayPermissionCheck, type InvokeSource } from "./permission.js";
import type { AuthorizerView } from "./authorizer.js";

/** How $connect is authorized: by a Lambda REQUEST authorizer, or by a SigV4 signature. */
export type ConnectAuthorization = { readonly type: "CUSTOM"; readonly authorizer: AuthorizerView } | { readonly type: "AWS_IAM" };

/** One WebSocket API at one stage, as the data plane needs it. */
export interface ApiView {
  readonly apiId: string;
  readonly routeSelectionExpression: string;
  readonly stage: string;
  /** Route key ("$connect", "$default", "sendmessage"...) -> Lambda function name. */
  readonly routes: ReadonlyMap<string, string>;
  /** "arn:aws:execute-api:{region}:{account}:{apiId}", the start of every methodArn. */
  readonly executeArn?: string;
  /** Absent when $connect is open (AuthorizationType NONE). */
  readonly connectAuth?: ConnectAuthorization;
  readonly stageVariables?: Readonly<Record<string, string>>;
  /** The stage's default route throttling, when both bounds are set. */
  readonly throttling?: { readonly rateLimit: number; readonly burstLimit: number };
  readonly accessLog?: { readonly destinationArn: string; readonly format: string };
}

/** Which API and stage a URL path names: `/{stage}` or `/{apiId}/{stage}`. */
export interface ApiTarget {
  readonly apiId?: string;
  readonly stage: string;
}

/**
 * Where the gateway looks APIs up, on every connection and every message, so
 * that route changes apply to open connections without reconnecting.
 * `/{stage}` alone resolves only when exactly one API has that stage.
 */
export interface GatewayDirectory {
  resolve(target: ApiTarget): Promise<ApiView | undefined>;
}

/** `source` names the API, stage and route on whose behalf the gateway invokes (always given by the gateway). */
export type InvokeFunction = (functionName: string, event: object, source?: InvokeSource) => Promise<InvokeResult>;

/** "arn:aws:lambda:us-east-1:123456789012:function:name[:qualifier]" -> "name[:qualifier]". */
export function functionNameOfArn(arn: string): string | undefined {
  const parts = arn.split(":");
  if (parts.length < 7 || parts[0] !== "arn" || parts[2] !== "lambda" || parts[5] !== "function") return undefined;
  return parts.slice(6).join(":");
}

const INVOCATION_URI = /^arn:[^:]+:apigateway:[^:]+:lambda:path\/[^/]+\/functions\/(.+)\/invocations$/;

/** The Lambda function ARN a Lambda(-proxy) integration calls, from its IntegrationUri. */
export function functionArnOfIntegrationUri(uri: string): string | undefined {
  const m = INVOCATION_URI.exec(uri);
  if (m?.[1]) return decodeURIComponent(m[1]);
  // HTTP APIs accept a bare function ARN; harmless to accept it here too.
  return uri.startsWith("arn:") && uri.includes(":lambda:") && uri.includes(":function:") ? uri : undefined;
}

function str(record: Record<string, unknown>, key: string): string | undefined {
  const v = record[key];
  return typeof v === "string" ? v : undefined;
}

export interface DirectoryOptions {
  /** Turns an integration's function ARN into what `invoke` takes; the name from the ARN by default. */
  readonly lambdaArnToName?: (arn: string) => string | undefined;
}

function numberOf(record: Record<string, unknown> | undefined, key: string): number | undefined {
  const v = record?.[key];
  return typeof v === "number" ? v : undefined;
}

function recordOf(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/**
 * A directory read from the API Gateway v2 model: the API and stage found
 * through its AWS operations (GetApis, GetStages), the routes and integrations
 * from the deployment the stage points at, as AWS serves them. A route changed
 * without a new deployment is not live; a stage with no deployment serves nothing.
 */
export function directoryFromModels(apigw: ApiGatewayV2Model, options: DirectoryOptions = {}): GatewayDirectory {
  const toName = options.lambdaArnToName ?? functionNameOfArn;
  // Resolved on every connect and message: cache until the model next changes.
  const cache = new Map<string, { mutations: number; view: Promise<ApiView | undefined> }>();
  return {
    resolve(target: ApiTarget): Promise<ApiView | undefined> {
      const key = `${target.apiId ?? ""}/${target.stage}`;
      const hit = cache.get(key);
      if (hit && hit.mutations === apigw.mutations) return hit.view;
      const view = read(target);
      cache.set(key, { mutations: apigw.mutations, view });
      return view;
    },
  };

  async function read(target: ApiTarget): Promise<ApiView | undefined> {
    const apis = (await allItems(apigw, "GetApis", {}, "peek")).filter(
      (api) => str(api, "ProtocolType") === "WEBSOCKET" && (target.apiId === undefined || str(api, "ApiId") === target.apiId),
    );
    const matches: { api: Record<string, unknown>; stage: Record<string, unknown> }[] = [];
    for (const api of apis) {
      const apiId = str(api, "ApiId");
      if (!apiId) continue;
      const stages = await allItems(apigw, "GetStages", { ApiId: apiId }, "peek");
      const stage = stages.find((s) => str(s, "StageName") === target.stage);
      if (stage) matches.push({ api, stage });
    }
    const match = matches.length === 1 ? matches[0] : undefined;
    const api = match?.api;
    const apiId = api ? str(api, "ApiId") : undefined;
    if (!match || !api || !apiId) return undefined;
    const deployed = apigw.deployedAt(apiId, target.stage);
    if (!deployed) return undefined;

    const functionByIntegration = new Map<string, string>();
    for (const integration of deployed.integrations) {
      const id = integration.IntegrationId;
      const uri = integration.IntegrationUri;
      const arn = uri ? functionArnOfIntegrationUri(uri) : undefined;
      const name = arn ? toName(arn) : undefined;
      if (id && name) functionByIntegration.set(id, name);
    }
    const byKey = new Map<string, string>();
    for (const route of deployed.routes) {
      const key = route.RouteKey;
      const target = route.Target;
      const integrationId = target?.startsWith("integrations/") ? target.slice("integrations/".length) : undefined;
      const fn = integrationId ? functionByIntegration.get(integrationId) : undefined;
      if (key && fn) byKey.set(key, fn);
    }
    // Authorization is part of the deployment; the stage's settings apply without one.
    const connect = deployed.routes.find((r) => r.RouteKey === "$connect");
    let connectAuth: ConnectAuthorization | undefined;
    if (connect?.AuthorizationType === "AWS_IAM") connectAuth = { type: "AWS_IAM" };
    if (connect?.AuthorizationType === "CUSTOM") {
      const found = deployed.authorizers.find((a) => a.AuthorizerId === connect.AuthorizerId);
      const arn = found?.AuthorizerUri ? functionArnOfIntegrationUri(found.AuthorizerUri) : undefined;
      // An authorizer whose function cannot be named fails closed: it is invoked as "" and errs (500).
      connectAuth = {
        type: "CUSTOM",
        authorizer: { authorizerId: connect.AuthorizerId ?? "", functionName: (arn ? toName(arn) : undefined) ?? "", identitySource: found?.IdentitySource ?? [] },
      };
    }
    const defaults = recordOf(match.stage.DefaultRouteSettings);
    const rateLimit = numberOf(defaults, "ThrottlingRateLimit");
    const burstLimit = numberOf(defaults, "ThrottlingBurstLimit");
    const accessLog = recordOf(match.stage.AccessLogSettings);
    const destinationArn = accessLog ? str(accessLog, "DestinationArn") : undefined;
    const format = accessLog ? str(accessLog, "Format") : undefined;
    const variables = recordOf(match.stage.StageVariables) ?? {};
    return {
      apiId,
      routeSelectionExpression: deployed.routeSelectionExpression || "$request.body.action",
      stage: target.stage,
      routes: byKey,
      executeArn: `arn:aws:execute-api:${apigw.region}:${apigw.accountId}:${apiId}`,
      ...(connectAuth ? { connectAuth } : {}),
      stageVariables: Object.fromEntries(Object.entries(variables).filter((e): e is [string, string] => typeof e[1] === "string")),
      ...(rateLimit !== undefined && burstLimit !== undefined ? { throttling: { rateLimit, burstLimit } } : {}),
      ...(destinationArn && format ? { accessLog: { destinationArn, format } } : {}),
    };
  }
}

function payloadBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string") return Buffer.from(value, "utf8");
  return new Uint8Array();
}

export interface LambdaInvokeOptions {
  /**
   * Refuse, as AWS does, unless the function's resource policy lets
   * apigateway.amazonaws.com invoke it for this API, stage and route (true by
   * default). Only invocations that name their `source` are checked.
   */
  readonly checkPermission?: boolean;
}

/** What API Gateway writes in its execution log when Lambda refuses it. */
export const INVALID_PERMISSIONS = "Execution failed due to configuration error: Invalid permissions on Lambda function";

/**
 * Invokes through the Lambda model's Invoke operation, as API Gateway calls
 * Lambda: first the function's resource policy must allow API Gateway for this
 * route (the permission `chatctl apply` adds), then the model checks the
 * function exists and is Active and hands it to its FunctionInvoker (the
 * runner). AwsErrors (e.g. ResourceNotFoundException, AccessDeniedException)
 * propagate; the gateway answers them as integration failures: 500 on
 * $connect, an "Internal server error" frame on a message.
 */
export function invokeThroughLambdaModel(lambda: ServiceModel, options: LambdaInvokeOptions = {}): InvokeFunction {
  const mayInvoke = options.checkPermission === false ? undefined : apiGatewayPermissionCheck(lambda);
  return async (functionName, event, source) => {
    if (mayInvoke && source && !(await mayInvoke(functionName, source))) {
      throw new AwsError(
        "AccessDeniedException",
        `${INVALID_PERMISSIONS} ${functionName}: its resource policy does not allow apigateway.amazonaws.com for ${source.apiId}/${source.stage}/${source.routeKey}`,
        403,
      );
    }
    const out = await lambda.dispatch("Invoke", {
      FunctionName: functionName,
      InvocationType: "RequestResponse",
      Payload: jsonPayload(event),
    });
    const fe = out.FunctionError;
    return {
      statusCode: typeof out.StatusCode === "number" ? out.StatusCode : 200,
      payload: payloadBytes(out.Payload),
      ...(fe === "Unhandled" || fe === "Handled" ? { functionError: fe } : {}),
    };
  };
}
