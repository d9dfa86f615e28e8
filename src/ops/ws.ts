import {
  CreateApiCommand,
  CreateDeploymentCommand,
  CreateIntegrationCommand,
  CreateRouteCommand,
  CreateStageCommand,
  DeleteApiCommand,
  DeleteIntegrationCommand,
  DeleteRouteCommand,
  GetIntegrationsCommand,
  GetRoutesCommand,
  UpdateRouteCommand,
  UpdateStageCommand,
  type Integration,
  type Route,
} from "@aws-sdk/client-apigatewayv2";
import { AddPermissionCommand, GetFunctionCommand, GetPolicyCommand } from "@aws-sdk/client-lambda";
import type { AwsClients } from "../aws/clients.js";
import { UserError } from "../errors.js";
import { assertSafeId } from "./common.js";
import { errorName, isNotFound } from "../aws/errors.js";
import { allItems } from "../aws/pages.js";
import { allApis, findApi, findStage, getApiById, getStage, type FoundApi } from "./lookup.js";

export const DEFAULT_ROUTE_SELECTION = "$request.body.action";

export interface CreatedApi {
  readonly apiId: string;
  readonly name: string;
  readonly apiEndpoint: string;
}

/** A WebSocket API with no routes yet. It carries no chatctl:stack tag: no stack will adopt or delete it. */
export async function createWebSocketApi(clients: AwsClients, name: string, routeSelectionExpression = DEFAULT_ROUTE_SELECTION): Promise<CreatedApi> {
  if (name.trim() === "") throw new UserError("the API name is empty");
  const out = await clients.apigw().send(new CreateApiCommand({ Name: name, ProtocolType: "WEBSOCKET", RouteSelectionExpression: routeSelectionExpression }));
  return { apiId: out.ApiId ?? "", name: out.Name ?? name, apiEndpoint: out.ApiEndpoint ?? "" };
}

export interface DeletedApi {
  readonly apiId: string;
  readonly name: string;
  /** The stack the API belonged to: its next apply creates it again. */
  readonly stack: string | undefined;
}

/** Deletes by id only: a stack name here would be too easy a way to lose a stack's API. */
export async function deleteWebSocketApi(clients: AwsClients, apiId: string): Promise<DeletedApi> {
  assertSafeId("API id", apiId);
  const api = await getApiById(clients, apiId);
  if (!api) {
    const region = clients.config.region;
    const apis = await allApis(clients);
    if (apis.some((a) => a.stack === apiId)) {
      throw new UserError(`'${apiId}' is a stack, not an API id; to remove a stack run: chatctl destroy ${apiId}`);
    }
    throw new UserError(`no API with id '${apiId}' in ${region}${apis.length ? "; list them with: chatctl ws-list" : " (there are no APIs in this region: wrong --region?)"}`);
  }
  await clients.apigw().send(new DeleteApiCommand({ ApiId: apiId }));
  return { apiId, name: api.name, stack: api.stack };
}

export async function listWebSocketApis(clients: AwsClients): Promise<FoundApi[]> {
  const apis = await allApis(clients);
  return apis.filter((a) => a.protocolType === "WEBSOCKET").sort((a, b) => a.name.localeCompare(b.name) || a.apiId.localeCompare(b.apiId));
}

export type Outcome = "created" | "updated" | "unchanged";

export interface AddedRoute {
  readonly apiId: string;
  readonly routeKey: string;
  readonly functionArn: string;
  readonly integration: { readonly id: string; readonly outcome: Outcome };
  readonly route: { readonly id: string; readonly outcome: Outcome };
  readonly permission: { readonly statementId: string; readonly outcome: Outcome };
}

const FUNCTION_ARN = /^arn:(aws[a-z-]*):lambda:([a-z0-9-]+):(\d{12}):function:([A-Za-z0-9_-]{1,64})(?::[A-Za-z0-9_$-]+)?$/;

interface ParsedFunctionArn {
  readonly arn: string;
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

/**
 * The function, which must exist: an ARN is looked up too, since a route to a
 * missing function answers every connection with a 500.
 */
async function functionArnOf(clients: AwsClients, arnOrName: string): Promise<ParsedFunctionArn> {
  const notArn = () => new UserError(`'${arnOrName}' is not a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>)`);
  if (arnOrName.startsWith("arn:")) {
    if (!FUNCTION_ARN.test(arnOrName)) throw notArn();
  } else {
    assertSafeId("function name", arnOrName);
  }
  let arn: string;
  try {
    const found = (await clients.lambda().send(new GetFunctionCommand({ FunctionName: arnOrName }))).Configuration?.FunctionArn ?? "";
    arn = arnOrName.startsWith("arn:") ? arnOrName : found;
  } catch (err) {
    if (isNotFound(err)) throw new UserError(`no function '${arnOrName}' in ${clients.config.region}`);
    throw err;
  }
  const m = FUNCTION_ARN.exec(arn);
  if (!m?.[1] || !m[2] || !m[3]) throw notArn();
  return { arn, partition: m[1], region: m[2], account: m[3] };
}

function allIntegrations(clients: AwsClients, apiId: string): Promise<Integration[]> {
  return allItems((NextToken) => clients.apigw().send(new GetIntegrationsCommand({ ApiId: apiId, NextToken })));
}

function allRoutes(clients: AwsClients, apiId: string): Promise<Route[]> {
  return allItems((NextToken) => clients.apigw().send(new GetRoutesCommand({ ApiId: apiId, NextToken })));
}

/** The statement that lets one API invoke the function; one per API, whatever the route. */
export const permissionStatementId = (apiId: string): string => `chatctl-ws-${apiId}`;

async function hasStatement(clients: AwsClients, functionArn: string, sid: string): Promise<boolean> {
  try {
    const policy = (await clients.lambda().send(new GetPolicyCommand({ FunctionName: functionArn }))).Policy;
    if (!policy) return false;
    const doc = JSON.parse(policy) as { Statement?: Array<{ Sid?: unknown }> };
    return (doc.Statement ?? []).some((s) => s.Sid === sid);
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/**
 * Integration (AWS_PROXY), route and invoke permission in one go. The function
 * is checked first; each part is found before it is made, so running it again
 * changes nothing; a run that fails half way undoes what it made or moved.
 */
export async function addRoute(clients: AwsClients, apiIdOrStack: string, routeKey: string, functionArnOrName: string): Promise<AddedRoute> {
  if (routeKey.trim() === "") throw new UserError("the route key is empty (e.g. $connect, $disconnect, $default, sendmessage)");
  const api = await findApi(clients, apiIdOrStack);
  if (api.protocolType && api.protocolType !== "WEBSOCKET") throw new UserError(`API ${api.apiId} is an ${api.protocolType} API, not a WebSocket API`);
  const fn = await functionArnOf(clients, functionArnOrName);
  const region = clients.config.region;
  const integrationUri = `arn:${fn.partition}:apigateway:${region}:lambda:path/2015-03-31/functions/${fn.arn}/invocations`;

  // What this run made or changed, undone if a later call fails: a route left
  // pointing at an integration whose function may not be invoked breaks every connection.
  const undo: Array<() => Promise<unknown>> = [];
  const apigw = clients.apigw();
  try {
    const existingIntegration = (await allIntegrations(clients, api.apiId)).find((i) => i.IntegrationUri === integrationUri && i.IntegrationType === "AWS_PROXY");
    let integrationId = existingIntegration?.IntegrationId;
    let integrationOutcome: Outcome = "unchanged";
    if (!integrationId) {
      const created = await apigw.send(
        new CreateIntegrationCommand({ ApiId: api.apiId, IntegrationType: "AWS_PROXY", IntegrationMethod: "POST", IntegrationUri: integrationUri }),
      );
      const id = created.IntegrationId ?? "";
      integrationId = id;
      integrationOutcome = "created";
      undo.push(() => apigw.send(new DeleteIntegrationCommand({ ApiId: api.apiId, IntegrationId: id })));
    }

    const target = `integrations/${integrationId}`;
    const existingRoute = (await allRoutes(clients, api.apiId)).find((r) => r.RouteKey === routeKey);
    let routeId = existingRoute?.RouteId ?? "";
    let routeOutcome: Outcome = "unchanged";
    if (!existingRoute) {
      const id = (await apigw.send(new CreateRouteCommand({ ApiId: api.apiId, RouteKey: routeKey, Target: target }))).RouteId ?? "";
      routeId = id;
      routeOutcome = "created";
      undo.push(() => apigw.send(new DeleteRouteCommand({ ApiId: api.apiId, RouteId: id })));
    } else if (existingRoute.Target !== target) {
      await apigw.send(new UpdateRouteCommand({ ApiId: api.apiId, RouteId: routeId, Target: target }));
      routeOutcome = "updated";
      const before = existingRoute.Target;
      if (before !== undefined) undo.push(() => apigw.send(new UpdateRouteCommand({ ApiId: api.apiId, RouteId: routeId, Target: before })));
    }

    const statementId = permissionStatementId(api.apiId);
    let permissionOutcome: Outcome = "unchanged";
    if (!(await hasStatement(clients, fn.arn, statementId))) {
      try {
        await clients.lambda().send(
          new AddPermissionCommand({
            FunctionName: fn.arn,
            StatementId: statementId,
            Action: "lambda:InvokeFunction",
            Principal: "apigateway.amazonaws.com",
            SourceArn: `arn:${fn.partition}:execute-api:${region}:${fn.account}:${api.apiId}/*`,
          }),
        );
        permissionOutcome = "created";
      } catch (err) {
        // Another run added it between our read and our write: same statement, same effect.
        if (errorName(err) !== "ResourceConflictException") throw err;
      }
    }
    return {
      apiId: api.apiId,
      routeKey,
      functionArn: fn.arn,
      integration: { id: integrationId, outcome: integrationOutcome },
      route: { id: routeId, outcome: routeOutcome },
      permission: { statementId, outcome: permissionOutcome },
    };
  } catch (err) {
    // Newest first: the route lets go of the integration before the integration goes.
    for (const step of undo.reverse()) {
      try {
        await step();
      } catch {
        // Best effort; running ws-add-route again finishes or repairs what is left.
      }
    }
    throw err;
  }
}

export interface Deployed {
  readonly apiId: string;
  readonly stageName: string;
  readonly stageCreated: boolean;
  readonly deploymentId: string;
  readonly url: string;
}

/**
 * A deployment of the API's current routes, then the stage pointed at it (created
 * when missing). Deploying first means an API that cannot be deployed (no routes)
 * is left exactly as it was.
 */
export async function deployStage(clients: AwsClients, apiIdOrStack: string, stageName: string): Promise<Deployed> {
  const api = await findApi(clients, apiIdOrStack);
  assertSafeId("stage", stageName);
  if (!/^[A-Za-z0-9_$-]{1,128}$/.test(stageName)) throw new UserError(`stage name '${stageName}' may only hold letters, digits, _ - and $`);
  let deploymentId: string;
  try {
    deploymentId = (await clients.apigw().send(new CreateDeploymentCommand({ ApiId: api.apiId, Description: "chatctl ws-deploy" }))).DeploymentId ?? "";
  } catch (err) {
    if (errorName(err) === "BadRequestException" && /route/i.test(err instanceof Error ? err.message : "")) {
      throw new UserError(`API ${api.apiId} has no routes to deploy yet; add one with: chatctl ws-add-route ${api.apiId} '$default' <lambda-arn>`);
    }
    throw err;
  }
  let stageCreated = false;
  if (await getStage(clients, api.apiId, stageName)) {
    await clients.apigw().send(new UpdateStageCommand({ ApiId: api.apiId, StageName: stageName, DeploymentId: deploymentId }));
  } else {
    try {
      await clients.apigw().send(new CreateStageCommand({ ApiId: api.apiId, StageName: stageName, DeploymentId: deploymentId }));
      stageCreated = true;
    } catch (err) {
      // Created meanwhile by someone else: point it at our deployment all the same.
      if (errorName(err) !== "ConflictException") throw err;
      await clients.apigw().send(new UpdateStageCommand({ ApiId: api.apiId, StageName: stageName, DeploymentId: deploymentId }));
    }
  }
  return { apiId: api.apiId, stageName, stageCreated, deploymentId, url: stageUrl(api, stageName) };
}

/**
 * What clients connect to. The API's own endpoint is the truth: wss://... on AWS,
 * ws://... on the local cloud.
 */
export function stageUrl(api: Pick<FoundApi, "apiEndpoint">, stageName: string): string {
  return `${api.apiEndpoint.replace(/\/+$/, "")}/${stageName}`;
}

export interface StageUrl {
  readonly apiId: string;
  readonly stageName: string;
  readonly url: string;
}

export async function getStageUrl(clients: AwsClients, apiIdOrStack: string, stageName?: string): Promise<StageUrl> {
  const api = await findApi(clients, apiIdOrStack);
  const stage = await findStage(clients, api, stageName);
  return { apiId: api.apiId, stageName: stage.stageName, url: stageUrl(api, stage.stageName) };
}
