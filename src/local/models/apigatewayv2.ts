import { randomBytes } from "node:crypto";
import type { Api, Authorizer, Deployment, Integration, Route, RouteSettings, Stage } from "@aws-sdk/client-apigatewayv2";
import { AwsError, ServiceModel, type OpHandler, type OpInput, type OpOutput } from "../service.js";
import { tagsProblem } from "../../aws/tag-rules.js";

/**
 * API Gateway v2 WebSocket APIs with their integrations, REQUEST authorizers,
 * routes (and their authorization), stages, deployments and tags: the control
 * plane chatctl drives. A deployment is a snapshot of the routes, integrations,
 * authorizers and route selection expression at CreateDeployment; a stage serves the snapshot it points at (`deployedAt`),
 * so a change is live only once deployed, as on AWS.
 *
 * Still not modelled:
 * - HTTP APIs (CreateApi with ProtocolType HTTP is a BadRequestException) and
 *   AutoDeploy (refused, as it is HTTP-only).
 * - JWT authorizers (HTTP-only) and authorizer caching; models, route and
 *   integration responses, request parameter and schema validation.
 * - Domain names and API mappings, VPC links, import/export.
 * - CORS (stored and echoed, never enforced), per-route settings (stored and
 *   echoed, never applied; the stage's default throttling and its access log
 *   settings are applied by the local gateway), stage variables (stored, read by
 *   authorizer identity sources, never substituted into integrations).
 * - Quotas other than the tag rules (src/aws/tag-rules.ts): no 10-stages-per-API
 *   limit, no routes/integrations per API limits.
 * - API keys on routes.
 * - Eventual consistency: everything is visible at once, and a deployment is
 *   DEPLOYED as soon as CreateDeployment returns.
 * Pagination tokens are opaque to callers but survive deletions between pages.
 */

export interface ApiGatewayV2ModelOptions {
  readonly region: string;
  readonly accountId: string;
  /** Items per page of Get* list calls when MaxResults is absent; small values exercise pagination in tests. */
  readonly pageSize?: number;
  /** The ApiEndpoint an API reports; the local cloud puts its own ws:// URL here. */
  readonly endpointFor?: (apiId: string) => string;
}

interface Ordered<T> {
  readonly seq: number;
  readonly value: T;
}

interface StageRecord {
  readonly seq: number;
  stage: Stage;
  readonly tags: Map<string, string>;
}

/**
 * What a deployment froze when CreateDeployment ran: the API's route selection,
 * routes and integrations. A stage serves the snapshot of the deployment it
 * points at, never the API's current configuration: "Every time you update an
 * API, you must redeploy it. Changes to anything other than stage settings
 * require a redeployment, including ... Routes, Integrations, Authorizers"
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-set-up-websocket-deployment.html).
 */
export interface DeployedSnapshot {
  readonly apiId: string;
  readonly deploymentId: string;
  readonly routeSelectionExpression: string;
  readonly routes: readonly Route[];
  readonly integrations: readonly Integration[];
  /** The authorizers as deployed: a $connect route's AuthorizerId is looked up here. */
  readonly authorizers: readonly Authorizer[];
}

interface DeploymentRecord {
  readonly seq: number;
  readonly value: Deployment;
  readonly snapshot: DeployedSnapshot;
}

interface ApiRecord {
  readonly seq: number;
  api: Api;
  readonly tags: Map<string, string>;
  readonly integrations: Map<string, Ordered<Integration>>;
  readonly routes: Map<string, Ordered<Route>>;
  readonly authorizers: Map<string, Ordered<Authorizer>>;
  readonly stages: Map<string, StageRecord>;
  readonly deployments: Map<string, DeploymentRecord>;
}

const MAX_PAGE = 500;
const PREDEFINED_ROUTE_KEYS = new Set(["$connect", "$disconnect", "$default"]);
const INTEGRATION_TYPES = new Set(["AWS", "AWS_PROXY", "HTTP", "HTTP_PROXY", "MOCK"]);
const ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
const TAGGABLE_ARN = /^arn:[^:]+:apigateway:([^:]+)::\/apis\/([^/]+)(?:\/stages\/([^/]+))?$/;

export class ApiGatewayV2Model extends ServiceModel {
  readonly service = "apigatewayv2";
  readonly region: string;
  readonly accountId: string;
  private readonly pageSize: number;
  private readonly endpointFor: (apiId: string) => string;
  private readonly apis = new Map<string, ApiRecord>();
  private seq = 0;

  constructor(opts: ApiGatewayV2ModelOptions) {
    super();
    this.region = opts.region;
    this.accountId = opts.accountId;
    this.pageSize = opts.pageSize ?? 25;
    this.endpointFor = opts.endpointFor ?? ((apiId) => `wss://${apiId}.execute-api.${this.region}.amazonaws.com`);
  }

  protected readonly operations: Readonly<Record<string, OpHandler>> = {
    CreateApi: (i) => this.createApi(i),
    GetApi: (i) => this.apiOut(this.apiRecord(i)),
    GetApis: (i) => this.page([...this.apis.values()].map((r) => ({ seq: r.seq, value: r })), i, (r) => this.apiOut(r)),
    UpdateApi: (i) => this.updateApi(i),
    DeleteApi: (i) => {
      this.apis.delete(this.apiRecord(i).api.ApiId ?? "");
      return {};
    },

    CreateIntegration: (i) => this.createIntegration(i),
    GetIntegration: (i) => copy(this.integration(this.apiRecord(i), i).value),
    GetIntegrations: (i) => this.page([...this.apiRecord(i).integrations.values()], i, (v) => copy(v)),
    UpdateIntegration: (i) => this.updateIntegration(i),
    DeleteIntegration: (i) => this.deleteIntegration(i),

    CreateAuthorizer: (i) => this.createAuthorizer(i),
    GetAuthorizer: (i) => copy(this.authorizer(this.apiRecord(i), i).value),
    GetAuthorizers: (i) => this.page([...this.apiRecord(i).authorizers.values()], i, (v) => copy(v)),
    UpdateAuthorizer: (i) => this.updateAuthorizer(i),
    DeleteAuthorizer: (i) => this.deleteAuthorizer(i),

    CreateRoute: (i) => this.createRoute(i),
    GetRoute: (i) => copy(this.route(this.apiRecord(i), i).value),
    GetRoutes: (i) => this.page([...this.apiRecord(i).routes.values()], i, (v) => copy(v)),
    UpdateRoute: (i) => this.updateRoute(i),
    DeleteRoute: (i) => {
      const rec = this.apiRecord(i);
      rec.routes.delete(this.route(rec, i).value.RouteId ?? "");
      return {};
    },

    CreateStage: (i) => this.createStage(i),
    GetStage: (i) => stageOut(this.stage(this.apiRecord(i), i)),
    GetStages: (i) => this.page([...this.apiRecord(i).stages.values()].map((s) => ({ seq: s.seq, value: s })), i, stageOut),
    UpdateStage: (i) => this.updateStage(i),
    DeleteStage: (i) => {
      const rec = this.apiRecord(i);
      rec.stages.delete(this.stage(rec, i).stage.StageName ?? "");
      return {};
    },

    // DeleteAccessLogSettings (https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-stages-stagename-accesslogsettings.html)
    DeleteAccessLogSettings: (i) => {
      const stage = this.stage(this.apiRecord(i), i);
      const { AccessLogSettings: _gone, ...rest } = stage.stage;
      stage.stage = { ...rest, LastUpdatedDate: new Date() };
      return {};
    },

    CreateDeployment: (i) => this.createDeployment(i),
    GetDeployment: (i) => copy(this.deployment(this.apiRecord(i), i).value),
    GetDeployments: (i) => this.page([...this.apiRecord(i).deployments.values()], i, (v) => copy(v)),
    DeleteDeployment: (i) => this.deleteDeployment(i),

    TagResource: (i) => {
      const tags = this.taggable(i);
      const add = stringMap(i, "Tags") ?? {};
      const merged = new Map([...tags, ...Object.entries(add)]);
      checkTags(merged);
      for (const [k, v] of Object.entries(add)) tags.set(k, v);
      return {};
    },
    UntagResource: (i) => {
      const tags = this.taggable(i);
      const keys = stringList(i, "TagKeys");
      if (!keys) throw badRequest("TagKeys is required");
      for (const k of keys) tags.delete(k);
      return {};
    },
    GetTags: (i) => ({ Tags: Object.fromEntries(this.taggable(i)) }),
  };

  // --- APIs ---

  private createApi(i: OpInput): OpOutput {
    const name = requiredString(i, "Name");
    const protocolType = requiredString(i, "ProtocolType");
    if (protocolType !== "WEBSOCKET") {
      throw badRequest(`ProtocolType ${protocolType} is not supported by the chatctl local cloud; only WEBSOCKET APIs are modelled`);
    }
    const routeSelectionExpression = optionalString(i, "RouteSelectionExpression");
    if (!routeSelectionExpression) throw badRequest("RouteSelectionExpression is required for WEBSOCKET APIs");
    for (const unsupported of ["RouteKey", "Target", "CredentialsArn"]) {
      if (i[unsupported] !== undefined) throw badRequest(`${unsupported} (quick create) is only supported for HTTP APIs`);
    }
    const tags = new Map(Object.entries(stringMap(i, "Tags") ?? {}));
    checkTags(tags);
    const apiId = this.freshId(10, (id) => this.apis.has(id));
    const api: Api = {
      ApiId: apiId,
      Name: name,
      ProtocolType: "WEBSOCKET",
      RouteSelectionExpression: routeSelectionExpression,
      ApiEndpoint: this.endpointFor(apiId),
      ApiKeySelectionExpression: optionalString(i, "ApiKeySelectionExpression") ?? "$request.header.x-api-key",
      CreatedDate: new Date(),
      DisableExecuteApiEndpoint: optionalBoolean(i, "DisableExecuteApiEndpoint") ?? false,
      DisableSchemaValidation: optionalBoolean(i, "DisableSchemaValidation") ?? false,
      IpAddressType: ipAddressType(i) ?? "ipv4",
    };
    const description = optionalString(i, "Description");
    if (description !== undefined) api.Description = description;
    const version = optionalString(i, "Version");
    if (version !== undefined) api.Version = version;
    const rec: ApiRecord = {
      seq: ++this.seq,
      api,
      tags,
      integrations: new Map(),
      routes: new Map(),
      authorizers: new Map(),
      stages: new Map(),
      deployments: new Map(),
    };
    this.apis.set(apiId, rec);
    return this.apiOut(rec);
  }

  private updateApi(i: OpInput): OpOutput {
    const rec = this.apiRecord(i);
    const next: Api = { ...rec.api };
    const name = optionalString(i, "Name");
    if (name !== undefined) {
      if (!name) throw badRequest("Name must not be empty");
      next.Name = name;
    }
    const rse = optionalString(i, "RouteSelectionExpression");
    if (rse !== undefined) {
      if (!rse) throw badRequest("RouteSelectionExpression must not be empty for WEBSOCKET APIs");
      next.RouteSelectionExpression = rse;
    }
    const akse = optionalString(i, "ApiKeySelectionExpression");
    if (akse !== undefined) next.ApiKeySelectionExpression = akse;
    const description = optionalString(i, "Description");
    if (description !== undefined) next.Description = description;
    const version = optionalString(i, "Version");
    if (version !== undefined) next.Version = version;
    const dee = optionalBoolean(i, "DisableExecuteApiEndpoint");
    if (dee !== undefined) next.DisableExecuteApiEndpoint = dee;
    const dsv = optionalBoolean(i, "DisableSchemaValidation");
    if (dsv !== undefined) next.DisableSchemaValidation = dsv;
    const ip = ipAddressType(i);
    if (ip !== undefined) next.IpAddressType = ip;
    rec.api = next;
    return this.apiOut(rec);
  }

  private apiOut(rec: ApiRecord): OpOutput {
    return { ...copy(rec.api), Tags: Object.fromEntries(rec.tags) };
  }

  private apiRecord(i: OpInput): ApiRecord {
    const apiId = requiredString(i, "ApiId");
    const rec = this.apis.get(apiId);
    if (!rec) throw notFound(`Invalid API identifier specified ${this.accountId}:${apiId}`);
    return rec;
  }

  // --- Integrations ---

  private createIntegration(i: OpInput): OpOutput {
    const rec = this.apiRecord(i);
    const integrationType = requiredString(i, "IntegrationType");
    if (!INTEGRATION_TYPES.has(integrationType)) throw badRequest(`Invalid IntegrationType ${integrationType}`);
    const integrationUri = optionalString(i, "IntegrationUri");
    if (integrationType !== "MOCK" && !integrationUri) throw badRequest(`IntegrationUri is required for integration type ${integrationType}`);
    const integration: Integration = {
      IntegrationId: this.freshId(7, (id) => rec.integrations.has(id)),
      IntegrationType: integrationType as Integration["IntegrationType"],
      ConnectionType: "INTERNET",
      PassthroughBehavior: "WHEN_NO_MATCH",
      PayloadFormatVersion: "1.0",
      TimeoutInMillis: 29_000,
    };
    applyIntegrationFields(integration, i);
    rec.integrations.set(integration.IntegrationId ?? "", { seq: ++this.seq, value: integration });
    return copy(integration);
  }

  private updateIntegration(i: OpInput): OpOutput {
    const rec = this.apiRecord(i);
    const current = this.integration(rec, i);
    const next: Integration = { ...current.value };
    const integrationType = optionalString(i, "IntegrationType");
    if (integrationType !== undefined) {
      if (!INTEGRATION_TYPES.has(integrationType)) throw badRequest(`Invalid IntegrationType ${integrationType}`);
      next.IntegrationType = integrationType as Integration["IntegrationType"];
    }
    applyIntegrationFields(next, i);
    rec.integrations.set(next.IntegrationId ?? "", { seq: current.seq, value: next });
    return copy(next);
  }

  private deleteIntegration(i: OpInput): OpOutput {
    const rec = this.apiRecord(i);
    const id = this.integration(rec, i).value.IntegrationId ?? "";
    const users = [...rec.routes.values()].filter((r) => r.value.Target === `integrations/${id}`);
    if (users.length > 0) {
      const keys = users.map((r) => r.value.RouteKey).join(", ");
      throw new AwsError("ConflictException", `Integration ${id} cannot be deleted: route(s) ${keys} still target it`, 409);
    }
    rec.integrations.delete(id);
    return {};
  }

  private integration(rec: ApiRecord, i: OpInput): Ordered<Integration> {
    const id = requiredString(i, "IntegrationId");
    const found = rec.integrations.get(id);
    if (!found) throw notFound(`Invalid Integration identifier specified ${this.accountId}:${rec.api.ApiId}/${id}`);
    return found;
  }

  // --- Authorizers ---
  // https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-authorizers.html
  // WebSocket APIs take REQUEST (Lambda) authorizers only; the URI must be a Lambda
  // invocation URI and identity sources are route.request.header|querystring.*,
  // stageVariables.* or context.* mapping expressions.

  private createAuthorizer(i: OpInput): OpOutput {
    const rec = this.apiRecord(i);
    const authorizer: Authorizer = {
      AuthorizerId: this.freshId(6, (id) => rec.authorizers.has(id)),
      Name: requiredString(i, "Name"),
      AuthorizerType: "REQUEST",
      IdentitySource: [],
    };
    if (i.AuthorizerType === undefined) throw badRequest("AuthorizerType is required");
    this.applyAuthorizerFields(authorizer, i);
    if (!authorizer.AuthorizerUri) throw badRequest("AuthorizerUri is required for REQUEST authorizers");
    rec.authorizers.set(authorizer.AuthorizerId ?? "", { seq: ++this.seq, value: authorizer });
    return copy(authorizer);
  }

  private updateAuthorizer(i: OpInput): OpOutput {
    const rec = this.apiRecord(i);
    const current = this.authorizer(rec, i);
    const next: Authorizer = { ...current.value };
    const name = optionalString(i, "Name");
    if (name !== undefined) {
      if (!name) throw badRequest("Name must not be empty");
      next.Name = name;
    }
    this.applyAuthorizerFields(next, i);
    rec.authorizers.set(next.AuthorizerId ?? "", { seq: current.seq, value: next });
    return copy(next);
  }

  private applyAuthorizerFields(authorizer: Authorizer, i: OpInput): void {
    const type = optionalString(i, "AuthorizerType");
    if (type !== undefined) {
      if (type === "JWT") throw badRequest("JWT authorizers are only supported for HTTP APIs");
      if (type !== "REQUEST") throw badRequest(`Invalid AuthorizerType ${type}`);
      authorizer.AuthorizerType = type;
    }
    const uri = optionalString(i, "AuthorizerUri");
    if (uri !== undefined) {
      if (!/^arn:[^:]+:apigateway:[^:]+:lambda:path\/2015-03-31\/functions\/arn:[^:]+:lambda:[^:]+:\d{12}:function:[^/]+\/invocations$/.test(uri)) {
        throw badRequest(`Invalid AuthorizerUri ${uri}: it must be a Lambda function invocation URI`);
      }
      authorizer.AuthorizerUri = uri;
    }
    const sources = stringList(i, "IdentitySource");
    if (sources !== undefined) {
      for (const source of sources) {
        if (!/^(route\.request\.(header|querystring)\.[^\s]+|stageVariables\.[^\s]+|context\.[^\s]+)$/.test(source)) {
          throw badRequest(`Invalid identity source ${source}`);
        }
      }
      authorizer.IdentitySource = sources;
    }
    const credentials = optionalString(i, "AuthorizerCredentialsArn");
    if (credentials !== undefined) authorizer.AuthorizerCredentialsArn = credentials;
    if (i.JwtConfiguration !== undefined) throw badRequest("JwtConfiguration is only supported for HTTP APIs");
  }

  private deleteAuthorizer(i: OpInput): OpOutput {
    const rec = this.apiRecord(i);
    const id = this.authorizer(rec, i).value.AuthorizerId ?? "";
    const users = [...rec.routes.values()].filter((r) => r.value.AuthorizerId === id);
    if (users.length > 0) {
      throw new AwsError("ConflictException", `Authorizer ${id} cannot be deleted: route(s) ${users.map((r) => r.value.RouteKey).join(", ")} use it`, 409);
    }
    rec.authorizers.delete(id);
    return {};
  }

  private authorizer(rec: ApiRecord, i: OpInput): Ordered<Authorizer> {
    const id = requiredString(i, "AuthorizerId");
    const found = rec.authorizers.get(id);
    if (!found) throw notFound(`Invalid Authorizer identifier specified ${this.accountId}:${rec.api.ApiId}/${id}`);
    return found;
  }

  // --- Routes ---

  private createRoute(i: OpInput): OpOutput {
    const rec = this.apiRecord(i);
    const routeKey = requiredString(i, "RouteKey");
    this.checkRouteKey(rec, routeKey, undefined);
    const route: Route = {
      RouteId: this.freshId(7, (id) => rec.routes.has(id)),
      RouteKey: routeKey,
      ApiKeyRequired: false,
      AuthorizationType: "NONE",
    };
    this.applyRouteFields(rec, route, i);
    rec.routes.set(route.RouteId ?? "", { seq: ++this.seq, value: route });
    return copy(route);
  }

  private updateRoute(i: OpInput): OpOutput {
    const rec = this.apiRecord(i);
    const current = this.route(rec, i);
    const next: Route = { ...current.value };
    const routeKey = optionalString(i, "RouteKey");
    if (routeKey !== undefined) {
      this.checkRouteKey(rec, routeKey, next.RouteId);
      next.RouteKey = routeKey;
    }
    this.applyRouteFields(rec, next, i);
    rec.routes.set(next.RouteId ?? "", { seq: current.seq, value: next });
    return copy(next);
  }

  private checkRouteKey(rec: ApiRecord, routeKey: string, ownId: string | undefined): void {
    if (!routeKey) throw badRequest("RouteKey must not be empty");
    if (routeKey.startsWith("$") && !PREDEFINED_ROUTE_KEYS.has(routeKey)) {
      throw badRequest(`Route key ${routeKey} is not valid: keys starting with $ are reserved ($connect, $disconnect, $default)`);
    }
    for (const r of rec.routes.values()) {
      if (r.value.RouteKey === routeKey && r.value.RouteId !== ownId) {
        throw new AwsError("ConflictException", `Route with key ${routeKey} already exists for this API`, 409);
      }
    }
  }

  private applyRouteFields(rec: ApiRecord, route: Route, i: OpInput): void {
    const target = optionalString(i, "Target");
    if (target !== undefined) {
      const integrationId = /^integrations\/(.+)$/.exec(target)?.[1];
      if (integrationId === undefined || !rec.integrations.has(integrationId)) {
        throw badRequest(`Invalid target ${target}: it must be integrations/<id> of an integration of this API`);
      }
      route.Target = target;
    }
    for (const key of ["AuthorizationType", "AuthorizerId", "ModelSelectionExpression", "OperationName", "RouteResponseSelectionExpression"] as const) {
      const v = optionalString(i, key);
      if (v !== undefined) Object.assign(route, { [key]: v });
    }
    // Only $connect can be authorized on a WebSocket API (developer guide, "Controlling
    // access to WebSocket APIs"); CUSTOM names an authorizer of this API, other types none.
    if (route.AuthorizationType !== undefined && !["NONE", "CUSTOM", "AWS_IAM"].includes(route.AuthorizationType)) {
      throw badRequest(`Invalid AuthorizationType ${route.AuthorizationType} for a WebSocket API`);
    }
    if (route.AuthorizationType === "CUSTOM") {
      if (!route.AuthorizerId || !rec.authorizers.has(route.AuthorizerId)) throw badRequest(`Invalid authorizer id ${route.AuthorizerId ?? ""}`);
    } else {
      delete route.AuthorizerId;
    }
    if (route.AuthorizationType !== "NONE" && route.RouteKey !== "$connect") {
      throw badRequest("Currently, authorization is restricted to the $connect route only");
    }
    const apiKeyRequired = optionalBoolean(i, "ApiKeyRequired");
    if (apiKeyRequired !== undefined) route.ApiKeyRequired = apiKeyRequired;
    const scopes = stringList(i, "AuthorizationScopes");
    if (scopes !== undefined) route.AuthorizationScopes = scopes;
    const models = stringMap(i, "RequestModels");
    if (models !== undefined) route.RequestModels = models;
  }

  private route(rec: ApiRecord, i: OpInput): Ordered<Route> {
    const id = requiredString(i, "RouteId");
    const found = rec.routes.get(id);
    if (!found) throw notFound(`Invalid Route identifier specified ${this.accountId}:${rec.api.ApiId}/${id}`);
    return found;
  }

  // --- Stages ---

  private createStage(i: OpInput): OpOutput {
    const rec = this.apiRecord(i);
    const stageName = requiredString(i, "StageName");
    if (!/^[a-zA-Z0-9_$-]{1,128}$/.test(stageName)) throw badRequest(`Invalid stage name ${stageName}`);
    if (rec.stages.has(stageName)) throw new AwsError("ConflictException", `Stage ${stageName} already exists`, 409);
    const tags = new Map(Object.entries(stringMap(i, "Tags") ?? {}));
    checkTags(tags);
    const now = new Date();
    const stage: Stage = {
      StageName: stageName,
      CreatedDate: now,
      LastUpdatedDate: now,
      DefaultRouteSettings: { DataTraceEnabled: false, DetailedMetricsEnabled: false, LoggingLevel: "OFF" },
      RouteSettings: {},
      StageVariables: {},
    };
    this.applyStageFields(rec, stage, i);
    rec.stages.set(stageName, { seq: ++this.seq, stage, tags });
    return stageOut(rec.stages.get(stageName) as StageRecord);
  }

  private updateStage(i: OpInput): OpOutput {
    const rec = this.apiRecord(i);
    const current = this.stage(rec, i);
    const next: Stage = { ...current.stage, LastUpdatedDate: new Date() };
    this.applyStageFields(rec, next, i);
    current.stage = next;
    return stageOut(current);
  }

  private applyStageFields(rec: ApiRecord, stage: Stage, i: OpInput): void {
    const deploymentId = optionalString(i, "DeploymentId");
    if (deploymentId !== undefined) {
      if (!rec.deployments.has(deploymentId)) throw notFound(`Invalid deployment identifier specified ${this.accountId}:${deploymentId}`);
      stage.DeploymentId = deploymentId;
    }
    const description = optionalString(i, "Description");
    if (description !== undefined) stage.Description = description;
    const clientCertificateId = optionalString(i, "ClientCertificateId");
    if (clientCertificateId !== undefined) stage.ClientCertificateId = clientCertificateId;
    const variables = stringMap(i, "StageVariables");
    if (variables !== undefined) stage.StageVariables = variables;
    const autoDeploy = optionalBoolean(i, "AutoDeploy");
    if (autoDeploy) throw badRequest("AutoDeploy is only supported for HTTP APIs");
    const defaults = i.DefaultRouteSettings;
    if (defaults !== undefined) stage.DefaultRouteSettings = { ...stage.DefaultRouteSettings, ...routeSettings(defaults, "DefaultRouteSettings") };
    const perRoute = i.RouteSettings;
    if (perRoute !== undefined) {
      if (!isRecord(perRoute)) throw badRequest("RouteSettings must be a map");
      const settings: Record<string, RouteSettings> = {};
      for (const [key, value] of Object.entries(perRoute)) settings[key] = routeSettings(value, `RouteSettings.${key}`);
      stage.RouteSettings = { ...stage.RouteSettings, ...settings };
    }
    const accessLog = i.AccessLogSettings;
    if (accessLog !== undefined) {
      if (!isRecord(accessLog)) throw badRequest("AccessLogSettings must be an object");
      stage.AccessLogSettings = {
        ...(typeof accessLog.DestinationArn === "string" ? { DestinationArn: accessLog.DestinationArn } : {}),
        ...(typeof accessLog.Format === "string" ? { Format: accessLog.Format } : {}),
      };
    }
  }

  private stage(rec: ApiRecord, i: OpInput): StageRecord {
    const name = requiredString(i, "StageName");
    const found = rec.stages.get(name);
    if (!found) throw notFound(`Invalid stage identifier specified ${this.accountId}:${rec.api.ApiId}/${name}`);
    return found;
  }

  // --- Deployments ---

  private createDeployment(i: OpInput): OpOutput {
    const rec = this.apiRecord(i);
    const stageName = optionalString(i, "StageName");
    const stage = stageName !== undefined ? this.stage(rec, i) : undefined;
    if (rec.routes.size === 0) throw badRequest("At least one route is required before deploying the Api.");
    const deployment: Deployment = {
      DeploymentId: this.freshId(6, (id) => rec.deployments.has(id)),
      DeploymentStatus: "DEPLOYED",
      AutoDeployed: false,
      CreatedDate: new Date(),
    };
    const description = optionalString(i, "Description");
    if (description !== undefined) deployment.Description = description;
    const snapshot: DeployedSnapshot = {
      apiId: rec.api.ApiId ?? "",
      deploymentId: deployment.DeploymentId ?? "",
      routeSelectionExpression: rec.api.RouteSelectionExpression ?? "",
      routes: [...rec.routes.values()].map((r) => copy(r.value)),
      integrations: [...rec.integrations.values()].map((r) => copy(r.value)),
      authorizers: [...rec.authorizers.values()].map((r) => copy(r.value)),
    };
    rec.deployments.set(deployment.DeploymentId ?? "", { seq: ++this.seq, value: deployment, snapshot });
    if (stage) stage.stage = { ...stage.stage, DeploymentId: deployment.DeploymentId, LastUpdatedDate: new Date() };
    return copy(deployment);
  }

  private deleteDeployment(i: OpInput): OpOutput {
    const rec = this.apiRecord(i);
    const id = this.deployment(rec, i).value.DeploymentId ?? "";
    const users = [...rec.stages.values()].filter((s) => s.stage.DeploymentId === id).map((s) => s.stage.StageName);
    if (users.length > 0) {
      throw badRequest(`Active stages pointing to this deployment must be moved or deleted (stage ${users.join(", ")})`);
    }
    rec.deployments.delete(id);
    return {};
  }

  /**
   * What a stage serves: the snapshot of the deployment it points at, or
   * undefined when the API or stage does not exist or the stage has no
   * deployment yet (then nothing is served). Not an AWS operation: AWS offers no
   * way to read a deployment's contents, but the local gateway must serve them.
   */
  deployedAt(apiId: string, stageName: string): DeployedSnapshot | undefined {
    const rec = this.apis.get(apiId);
    const deploymentId = rec?.stages.get(stageName)?.stage.DeploymentId;
    const snapshot = deploymentId === undefined ? undefined : rec?.deployments.get(deploymentId)?.snapshot;
    return snapshot === undefined ? undefined : structuredClone(snapshot);
  }

  private deployment(rec: ApiRecord, i: OpInput): DeploymentRecord {
    const id = requiredString(i, "DeploymentId");
    const found = rec.deployments.get(id);
    if (!found) throw notFound(`Invalid Deployment identifier specified ${this.accountId}:${rec.api.ApiId}/${id}`);
    return found;
  }

  // --- Tags, ids, pages ---

  private taggable(i: OpInput): Map<string, string> {
    const arn = requiredString(i, "ResourceArn");
    const m = TAGGABLE_ARN.exec(arn);
    const rec = m && m[1] === this.region ? this.apis.get(m[2] ?? "") : undefined;
    if (!m || !rec) throw notFound(`Invalid resource ARN ${arn}`);
    if (m[3] === undefined) return rec.tags;
    const stage = rec.stages.get(m[3]);
    if (!stage) throw notFound(`Invalid resource ARN ${arn}`);
    return stage.tags;
  }

  private freshId(length: number, taken: (id: string) => boolean): string {
    return this.issueId(() => {
      for (;;) {
        const bytes = randomBytes(length);
        let id = "";
        for (const b of bytes) id += ID_ALPHABET[b % ID_ALPHABET.length];
        if (!taken(id)) return id;
      }
    });
  }

  private page<T>(items: readonly Ordered<T>[], i: OpInput, out: (v: T) => OpOutput): OpOutput {
    const max = pageLimit(i, this.pageSize);
    const token = optionalString(i, "NextToken");
    const after = token === undefined ? 0 : decodeToken(token);
    const rest = items.filter((o) => o.seq > after).sort((a, b) => a.seq - b.seq);
    const page = rest.slice(0, max);
    const last = page[page.length - 1];
    return {
      Items: page.map((o) => out(o.value)),
      ...(rest.length > page.length && last ? { NextToken: encodeToken(last.seq) } : {}),
    };
  }
}

/**
 * Every item of a paginated Get* operation, following NextToken: what the local
 * gateway uses to read an API's routes, integrations and stages.
 */
export async function allItems(
  model: ServiceModel,
  operation: string,
  input: OpInput,
  via: "dispatch" | "peek" = "dispatch",
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let token: string | undefined;
  do {
    const page = token === undefined ? input : { ...input, NextToken: token };
    const out = via === "peek" ? await model.peek(operation, page) : await model.dispatch(operation, page);
    if (Array.isArray(out.Items)) for (const item of out.Items) if (isRecord(item)) items.push(item);
    token = typeof out.NextToken === "string" ? out.NextToken : undefined;
  } while (token !== undefined);
  return items;
}

function stageOut(rec: StageRecord): OpOutput {
  return { ...copy(rec.stage), Tags: Object.fromEntries(rec.tags) };
}

function applyIntegrationFields(integration: Integration, i: OpInput): void {
  const strings = [
    "IntegrationUri",
    "IntegrationMethod",
    "Description",
    "CredentialsArn",
    "ConnectionId",
    "ConnectionType",
    "ContentHandlingStrategy",
    "IntegrationSubtype",
    "PassthroughBehavior",
    "PayloadFormatVersion",
    "TemplateSelectionExpression",
  ] as const;
  for (const key of strings) {
    const v = optionalString(i, key);
    if (v !== undefined) Object.assign(integration, { [key]: v });
  }
  if (integration.PayloadFormatVersion !== "1.0") throw badRequest("PayloadFormatVersion must be 1.0 for WEBSOCKET APIs");
  const timeout = optionalNumber(i, "TimeoutInMillis");
  if (timeout !== undefined) {
    if (!Number.isInteger(timeout) || timeout < 50 || timeout > 29_000) throw badRequest("TimeoutInMillis must be between 50 and 29000");
    integration.TimeoutInMillis = timeout;
  }
  const requestParameters = stringMap(i, "RequestParameters");
  if (requestParameters !== undefined) integration.RequestParameters = requestParameters;
  const requestTemplates = stringMap(i, "RequestTemplates");
  if (requestTemplates !== undefined) integration.RequestTemplates = requestTemplates;
}

function routeSettings(v: unknown, what: string): RouteSettings {
  if (!isRecord(v)) throw badRequest(`${what} must be an object`);
  const out: RouteSettings = {};
  if (typeof v.DataTraceEnabled === "boolean") out.DataTraceEnabled = v.DataTraceEnabled;
  if (typeof v.DetailedMetricsEnabled === "boolean") out.DetailedMetricsEnabled = v.DetailedMetricsEnabled;
  if (v.LoggingLevel === "ERROR" || v.LoggingLevel === "INFO" || v.LoggingLevel === "OFF") out.LoggingLevel = v.LoggingLevel;
  if (typeof v.ThrottlingBurstLimit === "number") out.ThrottlingBurstLimit = v.ThrottlingBurstLimit;
  if (typeof v.ThrottlingRateLimit === "number") out.ThrottlingRateLimit = v.ThrottlingRateLimit;
  return out;
}

function checkTags(tags: ReadonlyMap<string, string>): void {
  const problem = tagsProblem(tags);
  if (problem !== undefined) throw badRequest(`Invalid tags: ${problem}`);
}

function pageLimit(i: OpInput, fallback: number): number {
  const raw = i.MaxResults;
  if (raw === undefined) return fallback;
  const n = typeof raw === "number" ? raw : typeof raw === "string" && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE) throw badRequest(`MaxResults must be an integer from 1 to ${MAX_PAGE}`);
  return n;
}

function encodeToken(seq: number): string {
  return Buffer.from(`after:${seq}`).toString("base64url");
}

function decodeToken(token: string): number {
  const m = /^after:(\d+)$/.exec(Buffer.from(token, "base64url").toString("utf8"));
  if (!m) throw badRequest("Invalid NextToken");
  return Number(m[1]);
}

function ipAddressType(i: OpInput): Api["IpAddressType"] | undefined {
  const v = optionalString(i, "IpAddressType");
  if (v === undefined) return undefined;
  if (v !== "ipv4" && v !== "dualstack") throw badRequest(`Invalid IpAddressType ${v}`);
  return v;
}

/** A deep copy, so callers never hold the model's own objects (Dates stay Dates). */
function copy<T>(v: T): T & OpOutput {
  return structuredClone(v) as T & OpOutput;
}

function badRequest(message: string): AwsError {
  return new AwsError("BadRequestException", message, 400);
}

function notFound(message: string): AwsError {
  return new AwsError("NotFoundException", message, 404);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function optionalString(i: OpInput, key: string): string | undefined {
  const v = i[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw badRequest(`${key} must be a string`);
  return v;
}

function requiredString(i: OpInput, key: string): string {
  const v = optionalString(i, key);
  if (v === undefined || v === "") throw badRequest(`${key} is required`);
  return v;
}

function optionalBoolean(i: OpInput, key: string): boolean | undefined {
  const v = i[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") throw badRequest(`${key} must be a boolean`);
  return v;
}

function optionalNumber(i: OpInput, key: string): number | undefined {
  const v = i[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number") throw badRequest(`${key} must be a number`);
  return v;
}

function stringMap(i: OpInput, key: string): Record<string, string> | undefined {
  const v = i[key];
  if (v === undefined || v === null) return undefined;
  if (!isRecord(v) || !Object.values(v).every((x) => typeof x === "string")) throw badRequest(`${key} must be a map of strings`);
  return { ...(v as Record<string, string>) };
}

function stringList(i: OpInput, key: string): string[] | undefined {
  const v = i[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) throw badRequest(`${key} must be a list of strings`);
  return [...(v as string[])];
}
