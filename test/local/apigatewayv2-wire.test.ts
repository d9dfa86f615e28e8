import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import * as sdk from "@aws-sdk/client-apigatewayv2";
import {
  ApiGatewayV2Client,
  CreateApiCommand,
  CreateDeploymentCommand,
  CreateIntegrationCommand,
  CreateRouteCommand,
  CreateStageCommand,
  DeleteApiCommand,
  DeleteDeploymentCommand,
  DeleteIntegrationCommand,
  DeleteRouteCommand,
  DeleteStageCommand,
  GetApiCommand,
  GetApisCommand,
  GetDeploymentCommand,
  GetDeploymentsCommand,
  GetIntegrationCommand,
  GetIntegrationsCommand,
  GetRouteCommand,
  GetRoutesCommand,
  GetStageCommand,
  GetStagesCommand,
  GetTagsCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateApiCommand,
  UpdateIntegrationCommand,
  UpdateRouteCommand,
  UpdateStageCommand,
} from "@aws-sdk/client-apigatewayv2";
import { startFrontDoor, type FrontDoor } from "../../src/local/front-door.js";
import { ApiGatewayV2Model } from "../../src/local/models/apigatewayv2.js";
import { APIGATEWAYV2_ROUTES, apigatewayv2Wire } from "../../src/local/wire/apigatewayv2.js";
import { AwsError } from "../../src/local/service.js";
import { errorOf } from "../support/ctx.js";

const region = "ap-northeast-1";
const FN_URI = `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/arn:aws:lambda:${region}:123456789012:function:f/invocations`;

let door: FrontDoor;
let model: ApiGatewayV2Model;
let client: ApiGatewayV2Client;

beforeAll(async () => {
  // One front door for the file; each test puts a fresh model behind it.
  door = await startFrontDoor([{ signingName: "apigateway", handle: (req) => apigatewayv2Wire(model).handle(req) }]);
  client = new ApiGatewayV2Client({ region, endpoint: door.url, credentials: { accessKeyId: "x", secretAccessKey: "y" }, maxAttempts: 1 });
});

beforeEach(() => {
  model = new ApiGatewayV2Model({ region, accountId: "123456789012", pageSize: 2 });
});

afterAll(async () => {
  client.destroy();
  await door.close();
});

async function newApi(name = "my-chat", tags: Record<string, string> = {}) {
  const api = await client.send(
    new CreateApiCommand({ Name: name, ProtocolType: "WEBSOCKET", RouteSelectionExpression: "$request.body.action", Tags: tags }),
  );
  if (!api.ApiId) throw new Error("no ApiId");
  return api.ApiId;
}

describe("API Gateway v2 over the wire, with the real SDK client", () => {
  it("matches the SDK's own method, path and status for every operation it serves", () => {
    for (const route of APIGATEWAYV2_ROUTES) {
      const schema: unknown = (sdk as Record<string, unknown>)[`${route.operation}$`];
      expect(Array.isArray(schema), route.operation).toBe(true);
      const traits = (schema as unknown[])[3] as { http?: [string, string, number] };
      expect(traits.http, route.operation).toEqual([route.method, route.path, route.status]);
    }
  });

  it("creates, reads, updates and deletes a WebSocket API", async () => {
    const created = await client.send(
      new CreateApiCommand({
        Name: "my-chat",
        ProtocolType: "WEBSOCKET",
        RouteSelectionExpression: "$request.body.action",
        Description: "chat",
        Tags: { "chatctl:stack": "my-chat", app: "chat" },
      }),
    );
    expect(created.ApiId).toMatch(/^[a-z0-9]{10}$/);
    expect(created.ApiEndpoint).toBe(`wss://${created.ApiId}.execute-api.${region}.amazonaws.com`);
    expect(created.CreatedDate).toBeInstanceOf(Date);
    expect(created.Tags).toEqual({ "chatctl:stack": "my-chat", app: "chat" });

    const got = await client.send(new GetApiCommand({ ApiId: created.ApiId }));
    expect(got).toMatchObject({ Name: "my-chat", ProtocolType: "WEBSOCKET", Description: "chat", RouteSelectionExpression: "$request.body.action" });
    expect(got.Tags).toEqual({ "chatctl:stack": "my-chat", app: "chat" });

    const updated = await client.send(new UpdateApiCommand({ ApiId: created.ApiId, Description: "better chat", RouteSelectionExpression: "$request.body.type" }));
    expect(updated).toMatchObject({ Description: "better chat", RouteSelectionExpression: "$request.body.type", Name: "my-chat" });

    await client.send(new DeleteApiCommand({ ApiId: created.ApiId }));
    const err = await errorOf(client.send(new GetApiCommand({ ApiId: created.ApiId })));
    expect(err.name).toBe("NotFoundException");
    expect(err).toBeInstanceOf(sdk.NotFoundException);
    expect(err.$metadata?.httpStatusCode).toBe(404);
  });

  it("rejects HTTP APIs and missing names as BadRequestException", async () => {
    const http = await errorOf(client.send(new CreateApiCommand({ Name: "x", ProtocolType: "HTTP" })));
    expect(http.name).toBe("BadRequestException");
    expect(http).toBeInstanceOf(sdk.BadRequestException);
    const noName = await errorOf(client.send(new CreateApiCommand({ Name: "", ProtocolType: "WEBSOCKET", RouteSelectionExpression: "$request.body.action" })));
    expect(noName.name).toBe("BadRequestException");
  });

  it("pages through GetApis with NextToken and honours MaxResults", async () => {
    const ids = [];
    for (let n = 0; n < 5; n++) ids.push(await newApi(`api-${n}`));
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await client.send(new GetApisCommand({ NextToken: token }));
      pages++;
      expect(page.Items?.length ?? 0).toBeLessThanOrEqual(2);
      for (const api of page.Items ?? []) seen.push(api.ApiId ?? "");
      token = page.NextToken;
    } while (token);
    expect(pages).toBe(3);
    expect(seen).toEqual(ids);

    const big = await client.send(new GetApisCommand({ MaxResults: "10" }));
    expect(big.Items?.map((a) => a.Name)).toEqual(["api-0", "api-1", "api-2", "api-3", "api-4"]);
    expect(big.NextToken).toBeUndefined();

    const bad = await errorOf(client.send(new GetApisCommand({ NextToken: "garbage" })));
    expect(bad.name).toBe("BadRequestException");
  });

  it("manages integrations, and refuses to delete one a route still targets", async () => {
    const apiId = await newApi();
    const integration = await client.send(
      new CreateIntegrationCommand({ ApiId: apiId, IntegrationType: "AWS_PROXY", IntegrationMethod: "POST", IntegrationUri: FN_URI, Description: "chatctl:integration.connect" }),
    );
    expect(integration.IntegrationId).toMatch(/^[a-z0-9]{7}$/);
    const got = await client.send(new GetIntegrationCommand({ ApiId: apiId, IntegrationId: integration.IntegrationId }));
    expect(got).toMatchObject({ IntegrationType: "AWS_PROXY", IntegrationMethod: "POST", IntegrationUri: FN_URI, Description: "chatctl:integration.connect", TimeoutInMillis: 29000 });

    const other = FN_URI.replace("function:f", "function:g");
    const updated = await client.send(new UpdateIntegrationCommand({ ApiId: apiId, IntegrationId: integration.IntegrationId, IntegrationUri: other }));
    expect(updated.IntegrationUri).toBe(other);
    expect(updated.Description).toBe("chatctl:integration.connect");

    const route = await client.send(new CreateRouteCommand({ ApiId: apiId, RouteKey: "$connect", Target: `integrations/${integration.IntegrationId}` }));
    const conflict = await errorOf(client.send(new DeleteIntegrationCommand({ ApiId: apiId, IntegrationId: integration.IntegrationId })));
    expect(conflict.name).toBe("ConflictException");
    expect(conflict).toBeInstanceOf(sdk.ConflictException);
    expect(conflict.$metadata?.httpStatusCode).toBe(409);

    await client.send(new DeleteRouteCommand({ ApiId: apiId, RouteId: route.RouteId }));
    await client.send(new DeleteIntegrationCommand({ ApiId: apiId, IntegrationId: integration.IntegrationId }));
    const list = await client.send(new GetIntegrationsCommand({ ApiId: apiId }));
    expect(list.Items).toEqual([]);
    const gone = await errorOf(client.send(new GetIntegrationCommand({ ApiId: apiId, IntegrationId: integration.IntegrationId })));
    expect(gone.name).toBe("NotFoundException");
  });

  it("manages routes: duplicate keys conflict, targets must exist, listing pages", async () => {
    const apiId = await newApi();
    const integration = await client.send(new CreateIntegrationCommand({ ApiId: apiId, IntegrationType: "AWS_PROXY", IntegrationUri: FN_URI }));
    const target = `integrations/${integration.IntegrationId}`;
    const keys = ["$connect", "$disconnect", "$default", "sendmessage"];
    for (const RouteKey of keys) await client.send(new CreateRouteCommand({ ApiId: apiId, RouteKey, Target: target }));

    const dup = await errorOf(client.send(new CreateRouteCommand({ ApiId: apiId, RouteKey: "sendmessage", Target: target })));
    expect(dup.name).toBe("ConflictException");
    const badTarget = await errorOf(client.send(new CreateRouteCommand({ ApiId: apiId, RouteKey: "other", Target: "integrations/nope" })));
    expect(badTarget.name).toBe("BadRequestException");

    const first = await client.send(new GetRoutesCommand({ ApiId: apiId }));
    expect(first.Items).toHaveLength(2);
    const second = await client.send(new GetRoutesCommand({ ApiId: apiId, NextToken: first.NextToken }));
    expect([...(first.Items ?? []), ...(second.Items ?? [])].map((r) => r.RouteKey)).toEqual(keys);
    expect(second.NextToken).toBeUndefined();

    const send = second.Items?.find((r) => r.RouteKey === "sendmessage");
    const renamed = await client.send(new UpdateRouteCommand({ ApiId: apiId, RouteId: send?.RouteId, RouteKey: "send" }));
    expect(renamed).toMatchObject({ RouteKey: "send", Target: target });
    const got = await client.send(new GetRouteCommand({ ApiId: apiId, RouteId: send?.RouteId }));
    expect(got.RouteKey).toBe("send");
    const missing = await errorOf(client.send(new GetRouteCommand({ ApiId: apiId, RouteId: "nothere" })));
    expect(missing.name).toBe("NotFoundException");
  });

  it("manages stages and deployments: conflicts, no-route deploys, stage pointers", async () => {
    const apiId = await newApi();
    const stage = await client.send(new CreateStageCommand({ ApiId: apiId, StageName: "prod", Description: "live", Tags: { "chatctl:stack": "my-chat" } }));
    expect(stage).toMatchObject({ StageName: "prod", Description: "live", Tags: { "chatctl:stack": "my-chat" } });
    expect(stage.CreatedDate).toBeInstanceOf(Date);
    const again = await errorOf(client.send(new CreateStageCommand({ ApiId: apiId, StageName: "prod" })));
    expect(again.name).toBe("ConflictException");

    const empty = await errorOf(client.send(new CreateDeploymentCommand({ ApiId: apiId, StageName: "prod" })));
    expect(empty.name).toBe("BadRequestException");

    const integration = await client.send(new CreateIntegrationCommand({ ApiId: apiId, IntegrationType: "AWS_PROXY", IntegrationUri: FN_URI }));
    await client.send(new CreateRouteCommand({ ApiId: apiId, RouteKey: "$default", Target: `integrations/${integration.IntegrationId}` }));
    const d1 = await client.send(new CreateDeploymentCommand({ ApiId: apiId, StageName: "prod", Description: "chatctl abc" }));
    expect(d1).toMatchObject({ DeploymentStatus: "DEPLOYED", Description: "chatctl abc" });
    expect((await client.send(new GetStageCommand({ ApiId: apiId, StageName: "prod" }))).DeploymentId).toBe(d1.DeploymentId);

    const inUse = await errorOf(client.send(new DeleteDeploymentCommand({ ApiId: apiId, DeploymentId: d1.DeploymentId })));
    expect(inUse.name).toBe("BadRequestException");

    const d2 = await client.send(new CreateDeploymentCommand({ ApiId: apiId, Description: "unattached" }));
    const moved = await client.send(new UpdateStageCommand({ ApiId: apiId, StageName: "prod", DeploymentId: d2.DeploymentId, Description: "moved" }));
    expect(moved).toMatchObject({ DeploymentId: d2.DeploymentId, Description: "moved" });
    expect((await client.send(new GetDeploymentCommand({ ApiId: apiId, DeploymentId: d1.DeploymentId }))).Description).toBe("chatctl abc");
    await client.send(new DeleteDeploymentCommand({ ApiId: apiId, DeploymentId: d1.DeploymentId }));
    const deployments = await client.send(new GetDeploymentsCommand({ ApiId: apiId }));
    expect(deployments.Items?.map((d) => d.DeploymentId)).toEqual([d2.DeploymentId]);

    await client.send(new CreateStageCommand({ ApiId: apiId, StageName: "dev" }));
    const stages = await client.send(new GetStagesCommand({ ApiId: apiId }));
    expect(stages.Items?.map((s) => [s.StageName, s.Tags])).toEqual([
      ["prod", { "chatctl:stack": "my-chat" }],
      ["dev", {}],
    ]);
    await client.send(new DeleteStageCommand({ ApiId: apiId, StageName: "dev" }));
    const gone = await errorOf(client.send(new GetStageCommand({ ApiId: apiId, StageName: "dev" })));
    expect(gone.name).toBe("NotFoundException");
  });

  it("tags APIs and stages through their ARNs", async () => {
    const apiId = await newApi("tagged", { a: "1" });
    await client.send(new CreateStageCommand({ ApiId: apiId, StageName: "prod" }));
    const apiArn = `arn:aws:apigateway:${region}::/apis/${apiId}`;
    const stageArn = `${apiArn}/stages/prod`;

    await client.send(new TagResourceCommand({ ResourceArn: apiArn, Tags: { b: "2", "key with/slash": "v:w" } }));
    expect((await client.send(new GetTagsCommand({ ResourceArn: apiArn }))).Tags).toEqual({ a: "1", b: "2", "key with/slash": "v:w" });
    await client.send(new UntagResourceCommand({ ResourceArn: apiArn, TagKeys: ["a", "key with/slash"] }));
    expect((await client.send(new GetApiCommand({ ApiId: apiId }))).Tags).toEqual({ b: "2" });

    await client.send(new TagResourceCommand({ ResourceArn: stageArn, Tags: { env: "prod" } }));
    expect((await client.send(new GetStageCommand({ ApiId: apiId, StageName: "prod" }))).Tags).toEqual({ env: "prod" });

    const missing = await errorOf(client.send(new GetTagsCommand({ ResourceArn: `arn:aws:apigateway:${region}::/apis/nothere` })));
    expect(missing.name).toBe("NotFoundException");
  });

  it("cascades DeleteApi to everything under the API", async () => {
    const apiId = await newApi();
    await client.send(new CreateStageCommand({ ApiId: apiId, StageName: "prod" }));
    await client.send(new DeleteApiCommand({ ApiId: apiId }));
    const err = await errorOf(client.send(new GetStagesCommand({ ApiId: apiId })));
    expect(err.name).toBe("NotFoundException");
    expect((await client.send(new GetApisCommand({}))).Items).toEqual([]);
  });

  it("passes errors injected before a call through as their AWS exception", async () => {
    model.beforeCall = () => {
      throw new AwsError("TooManyRequestsException", "Rate exceeded", 429);
    };
    const err = await errorOf(client.send(new GetApisCommand({})));
    expect(err.name).toBe("TooManyRequestsException");
    expect(err).toBeInstanceOf(sdk.TooManyRequestsException);
    expect(err.$metadata?.httpStatusCode).toBe(429);
  });

  it("serves authorizers: REQUEST with a Lambda URI, on $connect only, JWT refused", async () => {
    const apiId = await newApi();
    const uri = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:auth/invocations";
    const created = await client.send(
      new sdk.CreateAuthorizerCommand({ ApiId: apiId, AuthorizerType: "REQUEST", Name: "auth", AuthorizerUri: uri, IdentitySource: ["route.request.querystring.token"] }),
    );
    expect(created).toMatchObject({ Name: "auth", AuthorizerType: "REQUEST", AuthorizerUri: uri, IdentitySource: ["route.request.querystring.token"] });
    const id = String(created.AuthorizerId);
    const updated = await client.send(new sdk.UpdateAuthorizerCommand({ ApiId: apiId, AuthorizerId: id, IdentitySource: ["route.request.header.Auth"] }));
    expect(updated.IdentitySource).toEqual(["route.request.header.Auth"]);
    expect((await client.send(new sdk.GetAuthorizersCommand({ ApiId: apiId }))).Items?.map((a) => a.AuthorizerId)).toEqual([id]);
    const jwt = await errorOf(client.send(new sdk.CreateAuthorizerCommand({ ApiId: apiId, AuthorizerType: "JWT", Name: "jwt", IdentitySource: ["$request.header.Authorization"] })));
    expect(jwt.name).toBe("BadRequestException");

    const integration = await client.send(new CreateIntegrationCommand({ ApiId: apiId, IntegrationType: "AWS_PROXY", IntegrationUri: uri.replace("auth", "connect") }));
    const target = `integrations/${String(integration.IntegrationId)}`;
    const onMessage = await errorOf(client.send(new CreateRouteCommand({ ApiId: apiId, RouteKey: "sendmessage", Target: target, AuthorizationType: "CUSTOM", AuthorizerId: id })));
    expect(onMessage.name).toBe("BadRequestException");
    const route = await client.send(new CreateRouteCommand({ ApiId: apiId, RouteKey: "$connect", Target: target, AuthorizationType: "CUSTOM", AuthorizerId: id }));
    expect(route).toMatchObject({ AuthorizationType: "CUSTOM", AuthorizerId: id });
    expect((await errorOf(client.send(new sdk.DeleteAuthorizerCommand({ ApiId: apiId, AuthorizerId: id })))).name).toBe("ConflictException");
    await client.send(new sdk.UpdateRouteCommand({ ApiId: apiId, RouteId: String(route.RouteId), AuthorizationType: "NONE" }));
    await client.send(new sdk.DeleteAuthorizerCommand({ ApiId: apiId, AuthorizerId: id }));
    expect((await errorOf(client.send(new sdk.GetAuthorizerCommand({ ApiId: apiId, AuthorizerId: id })))).name).toBe("NotFoundException");
  });

  it("answers operations it does not serve as unknown operations", async () => {
    const apiId = await newApi();
    const err = await errorOf(client.send(new sdk.CreateModelCommand({ ApiId: apiId, Name: "m", Schema: "{}" })));
    expect(err.name).toBe("UnknownOperationException");
  });
});
