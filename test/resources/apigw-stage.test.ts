import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import * as sdk from "@aws-sdk/client-apigatewayv2";
import { ApiGatewayV2Client } from "@aws-sdk/client-apigatewayv2";
import { ApiGatewayV2Model } from "../../src/local/models/apigatewayv2.js";
import { apigwStage } from "../../src/resources/apigw-stage.js";
import type { Ctx, ResolvedResource } from "../../src/resources/kind.js";
import type { StageProps } from "../../src/resources/props.js";
import { plug } from "../support/plug.js";
import { TEST_REGION, kindCtx, throttledOnce } from "../support/ctx.js";

const region = TEST_REGION;
const ctx: Ctx = kindCtx();
const ourTags = { app: "chat", "chatctl:stack": "my-chat", "chatctl:id": "stage" };

let model: ApiGatewayV2Model;
let mock: ReturnType<typeof mockClient>;
let apiId: string;

beforeEach(async () => {
  model = new ApiGatewayV2Model({ region, accountId: ctx.accountId, pageSize: 2 });
  mock = mockClient(ApiGatewayV2Client);
  plug(mock, model, sdk);
  const api = await model.dispatch("CreateApi", { Name: "my-chat", ProtocolType: "WEBSOCKET", RouteSelectionExpression: "$request.body.action" });
  apiId = String(api.ApiId);
});

afterEach(() => mock.restore());

function desired(over: Partial<StageProps> = {}): ResolvedResource<StageProps> {
  return { id: "stage", kind: "apigw.stage", name: "prod", props: { apiId, stageName: "prod", tags: ourTags, ...over } };
}

describe("apigw.stage", () => {
  it("creates a stage with its invoke URL and reads it back", async () => {
    expect(apigwStage.knownOutputs(ctx, desired())).toEqual({ stageName: "prod" });
    const created = await apigwStage.create(ctx, desired());
    expect(created.outputs).toEqual({ stageName: "prod", invokeUrl: `wss://${apiId}.execute-api.${region}.amazonaws.com/prod` });
    expect(created.ownership).toEqual({ by: "tags", stack: "my-chat", id: "stage" });
    const read = await apigwStage.read(ctx, desired());
    expect(read).toEqual(created);
    expect(apigwStage.diff(desired(), created)).toEqual([]);
  });

  it("takes the invoke URL from the API's endpoint, wherever the API lives", async () => {
    model = new ApiGatewayV2Model({ region, accountId: ctx.accountId, endpointFor: (id) => `ws://127.0.0.1:4510/${id}` });
    mock.reset();
    plug(mock, model, sdk);
    apiId = String((await model.dispatch("CreateApi", { Name: "local", ProtocolType: "WEBSOCKET", RouteSelectionExpression: "$request.body.action" })).ApiId);
    const created = await apigwStage.create(ctx, desired());
    expect(created.outputs.invokeUrl).toBe(`ws://127.0.0.1:4510/${apiId}/prod`);
  });

  it("updates the description and tags in place", async () => {
    const created = await apigwStage.create(ctx, desired());
    const want = desired({ description: "production", tags: { team: "rt", "chatctl:stack": "my-chat", "chatctl:id": "stage" } });
    const changes = apigwStage.diff(want, created);
    expect(changes).toEqual([
      { path: "description", before: undefined, after: "production" },
      { path: "tags.app", before: "chat", after: undefined },
      { path: "tags.team", before: undefined, after: "rt" },
    ]);
    const updated = await apigwStage.update(ctx, want, created, changes);
    expect(updated.attributes).toMatchObject({ description: "production", tags: want.props.tags });
    expect(apigwStage.diff(want, updated)).toEqual([]);
  });

  it("deletes the stage, and deleting it again succeeds", async () => {
    const created = await apigwStage.create(ctx, desired());
    await apigwStage.delete(ctx, created);
    expect(await apigwStage.read(ctx, desired())).toBeUndefined();
    await expect(apigwStage.delete(ctx, created)).resolves.toBeUndefined();
  });

  it("reads undefined when absent, or when the API itself is gone", async () => {
    expect(await apigwStage.read(ctx, desired())).toBeUndefined();
    await model.dispatch("DeleteApi", { ApiId: apiId });
    expect(await apigwStage.read(ctx, desired())).toBeUndefined();
  });

  it("converges when created twice", async () => {
    const first = await apigwStage.create(ctx, desired());
    const second = await apigwStage.create(ctx, desired({ description: "now described" }));
    expect(second.physicalId).toBe(first.physicalId);
    expect(second.attributes.description).toBe("now described");
  });

  it("lets a throttling error through unchanged", async () => {
    model.beforeCall = throttledOnce("CreateStage");
    await expect(apigwStage.create(ctx, desired())).rejects.toMatchObject({ name: "TooManyRequestsException" });
    await expect(apigwStage.create(ctx, desired())).resolves.toMatchObject({ physicalId: "prod" });
  });

  it("shows a stage of that name without our tag as not ours, and never takes it over", async () => {
    await model.dispatch("CreateStage", { ApiId: apiId, StageName: "prod", Tags: { "chatctl:stack": "their-chat" } });
    const read = await apigwStage.read(ctx, desired());
    expect(read?.ownership).toEqual({ by: "tags", stack: "their-chat", id: undefined });
    await expect(apigwStage.create(ctx, desired())).rejects.toMatchObject({ name: "ConflictException" });
    const untagged = await model.dispatch("GetStage", { ApiId: apiId, StageName: "prod" });
    expect(untagged.Tags).toEqual({ "chatctl:stack": "their-chat" });
  });

  it("lists the stages this stack tagged, with their logical ids", async () => {
    await model.dispatch("CreateStage", { ApiId: apiId, StageName: "hand" });
    await model.dispatch("CreateStage", { ApiId: apiId, StageName: "theirs", Tags: { "chatctl:stack": "their-chat" } });
    await apigwStage.create(ctx, desired());
    const listed = await apigwStage.list(ctx, { apiId });
    expect(listed.map((s) => [s.logicalId, s.physicalId])).toEqual([["stage", "prod"]]);
  });
});
