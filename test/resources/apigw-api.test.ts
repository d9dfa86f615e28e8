import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import * as sdk from "@aws-sdk/client-apigatewayv2";
import { ApiGatewayV2Client } from "@aws-sdk/client-apigatewayv2";
import { ApiGatewayV2Model } from "../../src/local/models/apigatewayv2.js";
import { apigwApi } from "../../src/resources/apigw-api.js";
import type { Ctx, ResolvedResource } from "../../src/resources/kind.js";
import type { ApiProps } from "../../src/resources/props.js";
import { plug } from "../support/plug.js";
import { TEST_REGION, kindCtx, throttledOnce } from "../support/ctx.js";

const region = TEST_REGION;
const ctx: Ctx = kindCtx();

let model: ApiGatewayV2Model;
let mock: ReturnType<typeof mockClient>;

beforeEach(() => {
  model = new ApiGatewayV2Model({ region, accountId: ctx.accountId, pageSize: 2 });
  mock = mockClient(ApiGatewayV2Client);
  plug(mock, model, sdk);
});

afterEach(() => mock.restore());

function desired(over: Partial<ApiProps> = {}): ResolvedResource<ApiProps> {
  return {
    id: "api",
    kind: "apigw.api",
    name: "my-chat",
    props: {
      name: "my-chat",
      protocolType: "WEBSOCKET",
      routeSelectionExpression: "$request.body.action",
      tags: { app: "chat", "chatctl:stack": "my-chat", "chatctl:id": "api" },
      ...over,
    },
  };
}

async function otherApis(n: number, tags: Record<string, string> = {}): Promise<void> {
  for (let i = 0; i < n; i++) {
    await model.dispatch("CreateApi", { Name: `other-${i}`, ProtocolType: "WEBSOCKET", RouteSelectionExpression: "$request.body.action", Tags: tags });
  }
}

describe("apigw.api", () => {
  it("creates an API and reads it back, past other APIs on earlier pages", async () => {
    await otherApis(5);
    const created = await apigwApi.create(ctx, desired());
    expect(created.outputs.apiId).toMatch(/^[a-z0-9]{10}$/);
    expect(created.outputs.apiEndpoint).toBe(`wss://${created.outputs.apiId}.execute-api.${region}.amazonaws.com`);
    expect(created.outputs.executeArn).toBe(`arn:aws:execute-api:${region}:123456789012:${created.outputs.apiId}`);
    expect(created.ownership).toEqual({ by: "tags", stack: "my-chat", id: "api" });

    const read = await apigwApi.read(ctx, desired());
    expect(read).toEqual(created);
    expect(apigwApi.diff(desired(), read ?? created)).toEqual([]);
  });

  it("reports attribute and per-tag changes, and update applies them", async () => {
    const created = await apigwApi.create(ctx, desired({ description: "old" }));
    const want = desired({
      routeSelectionExpression: "$request.body.type",
      tags: { team: "rt", "chatctl:stack": "my-chat", "chatctl:id": "api" },
    });
    const changes = apigwApi.diff(want, created);
    expect(changes).toEqual([
      { path: "routeSelectionExpression", before: "$request.body.action", after: "$request.body.type" },
      { path: "description", before: "old", after: undefined },
      { path: "tags.app", before: "chat", after: undefined },
      { path: "tags.team", before: undefined, after: "rt" },
    ]);
    const updated = await apigwApi.update(ctx, want, created, changes);
    expect(updated.physicalId).toBe(created.physicalId);
    expect(updated.attributes.tags).toEqual({ team: "rt", "chatctl:stack": "my-chat", "chatctl:id": "api" });
    expect(apigwApi.diff(want, updated)).toEqual([]);
    const again = await apigwApi.read(ctx, want);
    expect(again?.attributes.routeSelectionExpression).toBe("$request.body.type");
  });

  it("marks a protocol change as a replacement", async () => {
    const created = await apigwApi.create(ctx, desired());
    const changes = apigwApi.diff(desired({ protocolType: "HTTP" as "WEBSOCKET" }), created);
    expect(changes).toEqual([expect.objectContaining({ path: "protocolType", forcesReplacement: true })]);
  });

  it("deletes the API, and deleting it again succeeds", async () => {
    const created = await apigwApi.create(ctx, desired());
    await apigwApi.delete(ctx, created);
    expect(await apigwApi.read(ctx, desired())).toBeUndefined();
    await expect(apigwApi.delete(ctx, created)).resolves.toBeUndefined();
  });

  it("reads undefined when no API has the name", async () => {
    await otherApis(3);
    expect(await apigwApi.read(ctx, desired())).toBeUndefined();
  });

  it("converges when created twice: one API, not two", async () => {
    const first = await apigwApi.create(ctx, desired());
    const second = await apigwApi.create(ctx, desired({ description: "now described" }));
    expect(second.physicalId).toBe(first.physicalId);
    expect(second.attributes.description).toBe("now described");
    const all = await model.dispatch("GetApis", { MaxResults: "100" });
    expect(all.Items).toHaveLength(1);
  });

  it("lets a throttling error through unchanged for the executor to retry", async () => {
    model.beforeCall = throttledOnce("CreateApi");
    await expect(apigwApi.create(ctx, desired())).rejects.toMatchObject({ name: "TooManyRequestsException" });
    await expect(apigwApi.create(ctx, desired())).resolves.toMatchObject({ ownership: { by: "tags", stack: "my-chat" } });
  });

  it("shows an API with our name but no chatctl tag as not ours", async () => {
    await model.dispatch("CreateApi", { Name: "my-chat", ProtocolType: "WEBSOCKET", RouteSelectionExpression: "$request.body.action", Tags: { app: "x" } });
    const read = await apigwApi.read(ctx, desired());
    expect(read?.ownership).toEqual({ by: "tags", stack: undefined, id: undefined });
  });

  it("shows an API with our name and another stack's tag as that stack's", async () => {
    await model.dispatch("CreateApi", {
      Name: "my-chat",
      ProtocolType: "WEBSOCKET",
      RouteSelectionExpression: "$request.body.action",
      Tags: { "chatctl:stack": "their-chat", "chatctl:id": "api" },
    });
    const read = await apigwApi.read(ctx, desired());
    expect(read?.ownership).toEqual({ by: "tags", stack: "their-chat", id: "api" });
  });

  it("prefers our API when a foreign one shares the name", async () => {
    await model.dispatch("CreateApi", { Name: "my-chat", ProtocolType: "WEBSOCKET", RouteSelectionExpression: "$request.body.action" });
    const ours = await apigwApi.create(ctx, desired());
    expect((await apigwApi.read(ctx, desired()))?.physicalId).toBe(ours.physicalId);
  });

  it("lists every API of this stack, across pages, with its logical id", async () => {
    await otherApis(3, { "chatctl:stack": "their-chat", "chatctl:id": "api" });
    const ours = await apigwApi.create(ctx, desired());
    await otherApis(2);
    const listed = await apigwApi.list(ctx);
    expect(listed.map((a) => [a.logicalId, a.physicalId])).toEqual([["api", ours.physicalId]]);
  });
});
