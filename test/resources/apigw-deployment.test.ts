import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import * as sdk from "@aws-sdk/client-apigatewayv2";
import { ApiGatewayV2Client } from "@aws-sdk/client-apigatewayv2";
import { ApiGatewayV2Model } from "../../src/local/models/apigatewayv2.js";
import { apigwDeployment } from "../../src/resources/apigw-deployment.js";
import type { Ctx, ResolvedResource } from "../../src/resources/kind.js";
import type { DeploymentProps } from "../../src/resources/props.js";
import { plug } from "../support/plug.js";
import { TEST_REGION, kindCtx, throttledOnce } from "../support/ctx.js";

const region = TEST_REGION;
const ctx: Ctx = kindCtx();

let model: ApiGatewayV2Model;
let mock: ReturnType<typeof mockClient>;
let apiId: string;

beforeEach(async () => {
  model = new ApiGatewayV2Model({ region, accountId: ctx.accountId, pageSize: 2 });
  mock = mockClient(ApiGatewayV2Client);
  plug(mock, model, sdk);
  apiId = String((await model.dispatch("CreateApi", { Name: "my-chat", ProtocolType: "WEBSOCKET", RouteSelectionExpression: "$request.body.action" })).ApiId);
  const integration = await model.dispatch("CreateIntegration", {
    ApiId: apiId,
    IntegrationType: "AWS_PROXY",
    IntegrationUri: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/arn:aws:lambda:${region}:123456789012:function:f/invocations`,
  });
  await model.dispatch("CreateRoute", { ApiId: apiId, RouteKey: "$default", Target: `integrations/${String(integration.IntegrationId)}` });
  await model.dispatch("CreateStage", { ApiId: apiId, StageName: "prod" });
});

afterEach(() => mock.restore());

function desired(configHash = "aaaa"): ResolvedResource<DeploymentProps> {
  return { id: "deployment", kind: "apigw.deployment", name: "prod deployment", props: { apiId, stageName: "prod", configHash } };
}

async function stageDeployment(): Promise<unknown> {
  return (await model.dispatch("GetStage", { ApiId: apiId, StageName: "prod" })).DeploymentId;
}

describe("apigw.deployment", () => {
  it("deploys to the stage and reads the stage's deployment back", async () => {
    const created = await apigwDeployment.create(ctx, desired());
    expect(created.attributes).toMatchObject({ configHash: "aaaa", stageName: "prod" });
    expect(created.ownership).toEqual({ by: "parent" });
    expect(await stageDeployment()).toBe(created.physicalId);
    const read = await apigwDeployment.read(ctx, desired());
    expect(read).toEqual(created);
    expect(apigwDeployment.diff(desired(), created)).toEqual([]);
  });

  it("makes a new deployment when the configuration changes, keeping the stage", async () => {
    const created = await apigwDeployment.create(ctx, desired());
    const changes = apigwDeployment.diff(desired("bbbb"), created);
    expect(changes).toEqual([{ path: "configHash", before: "aaaa", after: "bbbb" }]);
    expect(changes.some((c) => c.forcesReplacement)).toBe(false);
    const updated = await apigwDeployment.update(ctx, desired("bbbb"), created, changes);
    expect(updated.physicalId).not.toBe(created.physicalId);
    expect(await stageDeployment()).toBe(updated.physicalId);
    expect((await apigwDeployment.read(ctx, desired("bbbb")))?.attributes.configHash).toBe("bbbb");
  });

  it("sees a deployment chatctl did not make as a change", async () => {
    await model.dispatch("CreateDeployment", { ApiId: apiId, StageName: "prod", Description: "by hand" });
    const read = await apigwDeployment.read(ctx, desired());
    expect(read?.attributes.configHash).toBeUndefined();
    expect(apigwDeployment.diff(desired(), read ?? (await apigwDeployment.create(ctx, desired())))).toHaveLength(1);
  });

  it("delete leaves the stage's live deployment to the stage, and succeeds once the stage is gone", async () => {
    const created = await apigwDeployment.create(ctx, desired());
    await expect(apigwDeployment.delete(ctx, created)).resolves.toBeUndefined();
    expect(await stageDeployment()).toBe(created.physicalId);
    await model.dispatch("DeleteStage", { ApiId: apiId, StageName: "prod" });
    await expect(apigwDeployment.delete(ctx, created)).resolves.toBeUndefined();
    await model.dispatch("DeleteApi", { ApiId: apiId });
    await expect(apigwDeployment.delete(ctx, created)).resolves.toBeUndefined();
  });

  it("delete removes a deployment the stage no longer serves", async () => {
    const old = await apigwDeployment.create(ctx, desired());
    await apigwDeployment.update(ctx, desired("bbbb"), old, []);
    await apigwDeployment.delete(ctx, old);
    const left = await model.dispatch("GetDeployments", { ApiId: apiId, MaxResults: "100" });
    expect((left.Items as { DeploymentId: string }[]).map((d) => d.DeploymentId)).not.toContain(old.physicalId);
  });

  it("reads undefined when the stage has no deployment, has gone, or its API has", async () => {
    expect(await apigwDeployment.read(ctx, desired())).toBeUndefined();
    await model.dispatch("DeleteStage", { ApiId: apiId, StageName: "prod" });
    expect(await apigwDeployment.read(ctx, desired())).toBeUndefined();
    await model.dispatch("DeleteApi", { ApiId: apiId });
    expect(await apigwDeployment.read(ctx, desired())).toBeUndefined();
  });

  it("converges when created twice: no second deployment of the same configuration", async () => {
    const first = await apigwDeployment.create(ctx, desired());
    const second = await apigwDeployment.create(ctx, desired());
    expect(second).toEqual(first);
    expect((await model.dispatch("GetDeployments", { ApiId: apiId, MaxResults: "100" })).Items).toHaveLength(1);
  });

  it("lets a throttling error through unchanged", async () => {
    model.beforeCall = throttledOnce("CreateDeployment");
    await expect(apigwDeployment.create(ctx, desired())).rejects.toMatchObject({ name: "TooManyRequestsException" });
    await expect(apigwDeployment.create(ctx, desired())).resolves.toMatchObject({ attributes: { configHash: "aaaa" } });
  });

  it("fails to deploy an API without routes, with the service's own error", async () => {
    const bare = String((await model.dispatch("CreateApi", { Name: "bare", ProtocolType: "WEBSOCKET", RouteSelectionExpression: "$request.body.action" })).ApiId);
    await model.dispatch("CreateStage", { ApiId: bare, StageName: "prod" });
    const d: ResolvedResource<DeploymentProps> = { ...desired(), props: { apiId: bare, stageName: "prod", configHash: "aaaa" } };
    await expect(apigwDeployment.create(ctx, d)).rejects.toMatchObject({ name: "BadRequestException" });
  });
});
