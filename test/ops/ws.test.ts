import { beforeEach, describe, expect, it } from "vitest";
import type { AwsClients } from "../../src/aws/clients.js";
import { UserError } from "../../src/errors.js";
import { findApi, findStage } from "../../src/ops/lookup.js";
import { addRoute, createWebSocketApi, deleteWebSocketApi, deployStage, getStageUrl, listWebSocketApis, permissionStatementId } from "../../src/ops/ws.js";
import { TAG_STACK } from "../../src/resources/kind.js";
import { ApiGatewayV2Model } from "../../src/local/models/apigatewayv2.js";
import { accountId, clientsOn, makeModels, modelFunction, region, type Models } from "./world.js";

let models: Models;
let clients: AwsClients;

beforeEach(async () => {
  models = makeModels();
  clients = await clientsOn(models);
});

const fnArn = (name: string) => `arn:aws:lambda:${region}:${accountId}:function:${name}`;

const makeFunction = (name: string): Promise<string> => modelFunction(models, name);

async function stackApi(stack: string, name = stack): Promise<string> {
  const out = await models.apigw.dispatch("CreateApi", {
    Name: name,
    ProtocolType: "WEBSOCKET",
    RouteSelectionExpression: "$request.body.action",
    Tags: { [TAG_STACK]: stack },
  });
  return String(out.ApiId);
}

describe("ws-create / ws-list / ws-delete", () => {
  it("creates a WebSocket API that no stack owns, and lists it", async () => {
    const api = await createWebSocketApi(clients, "my-chat-api");
    expect(api.apiEndpoint).toBe(`wss://${api.apiId}.execute-api.${region}.amazonaws.com`);
    const listed = await listWebSocketApis(clients);
    expect(listed.map((a) => [a.apiId, a.name, a.stack])).toEqual([[api.apiId, "my-chat-api", undefined]]);
    expect(listed[0]?.tags).toEqual({});
  });

  it("lists every API across pages, by name", async () => {
    for (const name of ["c", "a", "e", "b", "d"]) await createWebSocketApi(clients, name);
    expect((await listWebSocketApis(clients)).map((a) => a.name)).toEqual(["a", "b", "c", "d", "e"]);
  });

  it("deletes by id, and names a stack for what it is", async () => {
    const api = await createWebSocketApi(clients, "tmp");
    await stackApi("my-chat");
    await expect(deleteWebSocketApi(clients, "my-chat")).rejects.toThrow("'my-chat' is a stack, not an API id; to remove a stack run: chatctl destroy my-chat");
    expect(await deleteWebSocketApi(clients, api.apiId)).toMatchObject({ apiId: api.apiId, name: "tmp", stack: undefined });
    await expect(deleteWebSocketApi(clients, api.apiId)).rejects.toThrow(`no API with id '${api.apiId}' in ${region}`);
  });
});

describe("ws-add-route", () => {
  it("creates integration, route and a permission scoped to the API in one go; again changes nothing", async () => {
    const api = await createWebSocketApi(clients, "chat");
    const arn = await makeFunction("sendmessage");
    const first = await addRoute(clients, api.apiId, "sendmessage", arn);
    expect([first.integration.outcome, first.route.outcome, first.permission.outcome]).toEqual(["created", "created", "created"]);

    const integration = await models.apigw.dispatch("GetIntegration", { ApiId: api.apiId, IntegrationId: first.integration.id });
    expect(integration).toMatchObject({
      IntegrationType: "AWS_PROXY",
      IntegrationUri: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${arn}/invocations`,
    });
    const route = await models.apigw.dispatch("GetRoute", { ApiId: api.apiId, RouteId: first.route.id });
    expect(route).toMatchObject({ RouteKey: "sendmessage", Target: `integrations/${first.integration.id}` });
    const policy = JSON.parse(String((await models.lambda.dispatch("GetPolicy", { FunctionName: "sendmessage" })).Policy)) as {
      Statement: Array<{ Sid: string; Condition?: { ArnLike?: Record<string, string> } }>;
    };
    expect(policy.Statement).toHaveLength(1);
    expect(policy.Statement[0]?.Sid).toBe(permissionStatementId(api.apiId));
    expect(JSON.stringify(policy.Statement[0]?.Condition)).toContain(`arn:aws:execute-api:${region}:${accountId}:${api.apiId}/*`);

    const again = await addRoute(clients, api.apiId, "sendmessage", arn);
    expect([again.integration.outcome, again.route.outcome, again.permission.outcome]).toEqual(["unchanged", "unchanged", "unchanged"]);
    expect(again.integration.id).toBe(first.integration.id);
    expect(again.route.id).toBe(first.route.id);
  });

  it("points an existing route at another function, and takes a function name for its ARN", async () => {
    const api = await createWebSocketApi(clients, "chat");
    await addRoute(clients, api.apiId, "$default", await makeFunction("one"));
    await makeFunction("two");
    const moved = await addRoute(clients, api.apiId, "$default", "two");
    expect(moved.functionArn).toBe(fnArn("two"));
    expect([moved.integration.outcome, moved.route.outcome, moved.permission.outcome]).toEqual(["created", "updated", "created"]);
  });

  it("says so when the function or the API is not there", async () => {
    const api = await createWebSocketApi(clients, "chat");
    await expect(addRoute(clients, api.apiId, "$default", "missing")).rejects.toThrow(`no function 'missing' in ${region}`);
    await expect(addRoute(clients, api.apiId, "$default", "arn:aws:s3:::bucket")).rejects.toThrow("is not a Lambda function ARN");
    await expect(addRoute(clients, "zzzzzzzzzz", "$default", fnArn("x"))).rejects.toThrow(`no API with id, stack or name 'zzzzzzzzzz' in ${region}; APIs there: ${api.apiId} (chat)`);
  });
});

describe("ws-add-route leaves nothing half made", () => {
  const routesAndIntegrations = async (apiId: string) => ({
    routes: ((await models.apigw.dispatch("GetRoutes", { ApiId: apiId })).Items as Array<{ RouteKey: string; Target?: string }>).map((r) => `${r.RouteKey} ${r.Target ?? ""}`),
    integrations: ((await models.apigw.dispatch("GetIntegrations", { ApiId: apiId })).Items as unknown[]).length,
  });

  it("checks that a function given by ARN exists before making anything", async () => {
    const api = await createWebSocketApi(clients, "chat");
    await expect(addRoute(clients, api.apiId, "$default", fnArn("missing"))).rejects.toThrow(`no function '${fnArn("missing")}' in ${region}`);
    expect(await routesAndIntegrations(api.apiId)).toEqual({ routes: [], integrations: 0 });
  });

  it("undoes its integration and route when a later call fails, and converges when run again", async () => {
    const api = await createWebSocketApi(clients, "chat");
    const arn = await makeFunction("flaky");
    const dispatch = models.lambda.dispatch.bind(models.lambda);
    let failures = 1;
    models.lambda.dispatch = (operation, input) => {
      if (operation === "AddPermission" && failures-- > 0) return Promise.reject(new UserError("AddPermission refused"));
      return dispatch(operation, input);
    };
    await expect(addRoute(clients, api.apiId, "$default", arn)).rejects.toThrow("AddPermission refused");
    expect(await routesAndIntegrations(api.apiId)).toEqual({ routes: [], integrations: 0 });

    const again = await addRoute(clients, api.apiId, "$default", arn);
    expect([again.integration.outcome, again.route.outcome, again.permission.outcome]).toEqual(["created", "created", "created"]);
    expect(await routesAndIntegrations(api.apiId)).toEqual({ routes: [`$default integrations/${again.integration.id}`], integrations: 1 });
  });

  it("puts a moved route back on its old target when the move cannot finish", async () => {
    const api = await createWebSocketApi(clients, "chat");
    const first = await addRoute(clients, api.apiId, "$default", await makeFunction("one"));
    const two = await makeFunction("two");
    const dispatch = models.lambda.dispatch.bind(models.lambda);
    models.lambda.dispatch = (operation, input) => (operation === "AddPermission" ? Promise.reject(new UserError("AddPermission refused")) : dispatch(operation, input));
    await expect(addRoute(clients, api.apiId, "$default", two)).rejects.toThrow("AddPermission refused");
    expect(await routesAndIntegrations(api.apiId)).toEqual({ routes: [`$default integrations/${first.integration.id}`], integrations: 1 });
  });
});

describe("ws-deploy / ws-get-url", () => {
  it("creates the stage when missing, then deploys; the URL is the API's endpoint and the stage", async () => {
    const api = await createWebSocketApi(clients, "chat");
    await addRoute(clients, api.apiId, "$default", await makeFunction("default"));
    const first = await deployStage(clients, api.apiId, "prod");
    expect(first).toMatchObject({ stageCreated: true, stageName: "prod", url: `${api.apiEndpoint}/prod` });
    const second = await deployStage(clients, api.apiId, "prod");
    expect(second.stageCreated).toBe(false);
    expect(second.deploymentId).not.toBe(first.deploymentId);
    const stage = await models.apigw.dispatch("GetStage", { ApiId: api.apiId, StageName: "prod" });
    expect(stage.DeploymentId).toBe(second.deploymentId);
    expect(await getStageUrl(clients, api.apiId, "prod")).toEqual({ apiId: api.apiId, stageName: "prod", url: `wss://${api.apiId}.execute-api.${region}.amazonaws.com/prod` });
    expect((await getStageUrl(clients, api.apiId)).stageName).toBe("prod");
  });

  it("explains an API without routes and a stage that does not exist", async () => {
    const api = await createWebSocketApi(clients, "chat");
    await expect(deployStage(clients, api.apiId, "prod")).rejects.toThrow(`API ${api.apiId} has no routes to deploy yet`);
    await expect(getStageUrl(clients, api.apiId, "dev")).rejects.toThrow(`API ${api.apiId} has no stage 'dev' (it has no stages yet`);
  });

  it("uses what the API reports as its endpoint (ws:// on the local cloud)", async () => {
    const local: Models = { ...makeModels(), apigw: new ApiGatewayV2Model({ region, accountId, endpointFor: (id) => `ws://127.0.0.1:4510/${id}` }) };
    const c = await clientsOn(local);
    const api = await createWebSocketApi(c, "chat");
    await addRoute(c, api.apiId, "$default", await modelFunction(local, "d"));
    expect((await deployStage(c, api.apiId, "dev")).url).toBe(`ws://127.0.0.1:4510/${api.apiId}/dev`);
    expect((await getStageUrl(c, api.apiId)).url).toBe(`ws://127.0.0.1:4510/${api.apiId}/dev`);
  });
});

describe("stack names stand in for ids", () => {
  it("finds a stack's API by its tag, and its only stage", async () => {
    const apiId = await stackApi("my-chat", "chat-api");
    await models.apigw.dispatch("CreateStage", { ApiId: apiId, StageName: "prod" });
    const api = await findApi(clients, "my-chat");
    expect(api.apiId).toBe(apiId);
    expect((await findStage(clients, api)).stageName).toBe("prod");
  });

  it("picks the stage the stack tagged when there are several", async () => {
    const apiId = await stackApi("my-chat");
    await models.apigw.dispatch("CreateStage", { ApiId: apiId, StageName: "test" });
    await models.apigw.dispatch("CreateStage", { ApiId: apiId, StageName: "prod", Tags: { [TAG_STACK]: "my-chat" } });
    expect((await findStage(clients, await findApi(clients, "my-chat"))).stageName).toBe("prod");
  });

  it("refuses to guess: ambiguity and absence are one sentence naming the candidates", async () => {
    const a = await stackApi("my-chat", "one");
    const b = await stackApi("my-chat", "two");
    await expect(findApi(clients, "my-chat")).rejects.toThrow(
      `'my-chat' is ambiguous: 2 APIs in ${region} have that stack (${a} (stack my-chat) and ${b} (stack my-chat)); give the API id`,
    );
    await models.apigw.dispatch("CreateStage", { ApiId: a, StageName: "x" });
    await models.apigw.dispatch("CreateStage", { ApiId: a, StageName: "y" });
    await expect(findStage(clients, await findApi(clients, a))).rejects.toThrow(`API ${a} has 2 stages (x and y); name the stage`);
  });

  it("says when the region has no APIs at all", async () => {
    await expect(findApi(clients, "my-chat")).rejects.toThrow(`no API 'my-chat' in ${region}: there are no APIs in this region (wrong --region?)`);
  });

  it("refuses ids with path characters before any call", async () => {
    for (const bad of ["../apis", "abc/def", "a?b", "a#b", ""]) {
      await expect(findApi(clients, bad)).rejects.toBeInstanceOf(UserError);
    }
    await expect(deleteWebSocketApi(clients, "x/../y")).rejects.toThrow("cannot be part of an id");
    expect(models.apigw.calls).toHaveLength(0);
  });
});
