import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import * as sdk from "@aws-sdk/client-apigatewayv2";
import { ApiGatewayV2Client } from "@aws-sdk/client-apigatewayv2";
import { ApiGatewayV2Model } from "../../src/local/models/apigatewayv2.js";
import { apigwIntegration } from "../../src/resources/apigw-integration.js";
import type { Ctx, ResolvedResource } from "../../src/resources/kind.js";
import type { IntegrationProps } from "../../src/resources/props.js";
import { plug } from "../support/plug.js";
import { TEST_REGION, kindCtx, throttledOnce } from "../support/ctx.js";

const region = TEST_REGION;
const ctx: Ctx = kindCtx();
const uriOf = (fn: string) =>
  `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/arn:aws:lambda:${region}:123456789012:function:${fn}/invocations`;

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

function desired(fn = "connect", over: Partial<IntegrationProps> = {}): ResolvedResource<IntegrationProps> {
  return {
    id: `integration.${fn}`,
    kind: "apigw.integration",
    name: `my-chat -> my-chat-${fn}`,
    props: {
      apiId,
      integrationType: "AWS_PROXY",
      integrationMethod: "POST",
      integrationUri: uriOf(`my-chat-${fn}`),
      description: `chatctl:integration.${fn}`,
      ...over,
    },
  };
}

async function handMade(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await model.dispatch("CreateIntegration", { ApiId: apiId, IntegrationType: "AWS_PROXY", IntegrationUri: uriOf(`hand-${i}`) });
}

describe("apigw.integration", () => {
  it("creates an integration and finds it again by its marker, past other pages", async () => {
    await handMade(3);
    const created = await apigwIntegration.create(ctx, desired());
    expect(created.outputs.integrationId).toMatch(/^[a-z0-9]{7}$/);
    expect(created.ownership).toEqual({ by: "parent" });
    await apigwIntegration.create(ctx, desired("disconnect"));
    const read = await apigwIntegration.read(ctx, desired());
    expect(read).toEqual(created);
    expect(apigwIntegration.diff(desired(), created)).toEqual([]);
  });

  it("updates the function it calls in place", async () => {
    const created = await apigwIntegration.create(ctx, desired());
    const want = desired("connect", { integrationUri: uriOf("my-chat-connect-v2") });
    const changes = apigwIntegration.diff(want, created);
    expect(changes).toEqual([{ path: "integrationUri", before: uriOf("my-chat-connect"), after: uriOf("my-chat-connect-v2") }]);
    const updated = await apigwIntegration.update(ctx, want, created, changes);
    expect(updated.physicalId).toBe(created.physicalId);
    expect((await apigwIntegration.read(ctx, want))?.attributes.integrationUri).toBe(uriOf("my-chat-connect-v2"));
  });

  it("deletes the integration, and deleting it again succeeds", async () => {
    const created = await apigwIntegration.create(ctx, desired());
    await apigwIntegration.delete(ctx, created);
    expect(await apigwIntegration.read(ctx, desired())).toBeUndefined();
    await expect(apigwIntegration.delete(ctx, created)).resolves.toBeUndefined();
  });

  it("does not delete an integration a route still uses: the error says so", async () => {
    const created = await apigwIntegration.create(ctx, desired());
    await model.dispatch("CreateRoute", { ApiId: apiId, RouteKey: "$connect", Target: `integrations/${created.physicalId}` });
    await expect(apigwIntegration.delete(ctx, created)).rejects.toMatchObject({ name: "ConflictException" });
  });

  it("reads undefined when absent, or when the API itself is gone", async () => {
    await handMade(3);
    expect(await apigwIntegration.read(ctx, desired())).toBeUndefined();
    await model.dispatch("DeleteApi", { ApiId: apiId });
    expect(await apigwIntegration.read(ctx, desired())).toBeUndefined();
  });

  it("converges when created twice: one integration per marker", async () => {
    const first = await apigwIntegration.create(ctx, desired());
    const second = await apigwIntegration.create(ctx, desired("connect", { integrationUri: uriOf("other") }));
    expect(second.physicalId).toBe(first.physicalId);
    expect(second.attributes.integrationUri).toBe(uriOf("other"));
    expect((await model.dispatch("GetIntegrations", { ApiId: apiId, MaxResults: "100" })).Items).toHaveLength(1);
  });

  it("lets a throttling error through unchanged", async () => {
    model.beforeCall = throttledOnce("CreateIntegration");
    await expect(apigwIntegration.create(ctx, desired())).rejects.toMatchObject({ name: "TooManyRequestsException" });
    await expect(apigwIntegration.create(ctx, desired())).resolves.toMatchObject({ ownership: { by: "parent" } });
  });

  it("lists only integrations chatctl marked, with their logical ids", async () => {
    await handMade(2);
    const a = await apigwIntegration.create(ctx, desired("connect"));
    const b = await apigwIntegration.create(ctx, desired("sendmessage"));
    const listed = await apigwIntegration.list(ctx, { apiId });
    expect(listed.map((i) => [i.logicalId, i.physicalId])).toEqual([
      ["integration.connect", a.physicalId],
      ["integration.sendmessage", b.physicalId],
    ]);
    expect(await apigwIntegration.list(ctx, {})).toEqual([]);
  });
});
