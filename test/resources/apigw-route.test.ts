import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import * as sdk from "@aws-sdk/client-apigatewayv2";
import { ApiGatewayV2Client } from "@aws-sdk/client-apigatewayv2";
import { ApiGatewayV2Model } from "../../src/local/models/apigatewayv2.js";
import { apigwRoute } from "../../src/resources/apigw-route.js";
import type { Ctx, ResolvedResource } from "../../src/resources/kind.js";
import type { RouteProps } from "../../src/resources/props.js";
import { plug } from "../support/plug.js";
import { TEST_REGION, kindCtx, throttledOnce } from "../support/ctx.js";

const region = TEST_REGION;
const ctx: Ctx = kindCtx();

let model: ApiGatewayV2Model;
let mock: ReturnType<typeof mockClient>;
let apiId: string;
let targetA: string;
let targetB: string;

beforeEach(async () => {
  model = new ApiGatewayV2Model({ region, accountId: ctx.accountId, pageSize: 2 });
  mock = mockClient(ApiGatewayV2Client);
  plug(mock, model, sdk);
  const api = await model.dispatch("CreateApi", { Name: "my-chat", ProtocolType: "WEBSOCKET", RouteSelectionExpression: "$request.body.action" });
  apiId = String(api.ApiId);
  const integration = (fn: string) =>
    model.dispatch("CreateIntegration", {
      ApiId: apiId,
      IntegrationType: "AWS_PROXY",
      IntegrationUri: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/arn:aws:lambda:${region}:123456789012:function:${fn}/invocations`,
    });
  targetA = `integrations/${String((await integration("a")).IntegrationId)}`;
  targetB = `integrations/${String((await integration("b")).IntegrationId)}`;
});

afterEach(() => mock.restore());

function desired(routeKey = "sendmessage", target = targetA): ResolvedResource<RouteProps> {
  return { id: `route.${routeKey}`, kind: "apigw.route", name: routeKey, props: { apiId, routeKey, target, authorizationType: "NONE" } };
}

async function otherRoutes(...keys: string[]): Promise<void> {
  for (const RouteKey of keys) await model.dispatch("CreateRoute", { ApiId: apiId, RouteKey, Target: targetB });
}

describe("apigw.route", () => {
  it("creates a route and finds it again by its key, past other pages", async () => {
    await otherRoutes("$connect", "$disconnect", "$default");
    const created = await apigwRoute.create(ctx, desired());
    expect(created.outputs.routeId).toMatch(/^[a-z0-9]{7}$/);
    expect(created.ownership).toEqual({ by: "parent" });
    const read = await apigwRoute.read(ctx, desired());
    expect(read).toEqual(created);
    expect(apigwRoute.diff(desired(), created)).toEqual([]);
  });

  it("retargets a route in place", async () => {
    const created = await apigwRoute.create(ctx, desired());
    const changes = apigwRoute.diff(desired("sendmessage", targetB), created);
    expect(changes).toEqual([{ path: "target", before: targetA, after: targetB }]);
    const updated = await apigwRoute.update(ctx, desired("sendmessage", targetB), created, changes);
    expect(updated.physicalId).toBe(created.physicalId);
    expect((await apigwRoute.read(ctx, desired()))?.attributes.target).toBe(targetB);
  });

  it("deletes the route, and deleting it again succeeds", async () => {
    const created = await apigwRoute.create(ctx, desired());
    await apigwRoute.delete(ctx, created);
    expect(await apigwRoute.read(ctx, desired())).toBeUndefined();
    await expect(apigwRoute.delete(ctx, created)).resolves.toBeUndefined();
  });

  it("reads undefined when absent, or when the API itself is gone", async () => {
    await otherRoutes("$connect");
    expect(await apigwRoute.read(ctx, desired())).toBeUndefined();
    await model.dispatch("DeleteApi", { ApiId: apiId });
    expect(await apigwRoute.read(ctx, desired())).toBeUndefined();
  });

  it("converges when the key is already taken: re-reads and retargets", async () => {
    const first = await apigwRoute.create(ctx, desired());
    const again = await apigwRoute.create(ctx, desired());
    expect(again).toEqual(first);
    const retargeted = await apigwRoute.create(ctx, desired("sendmessage", targetB));
    expect(retargeted.physicalId).toBe(first.physicalId);
    expect(retargeted.attributes.target).toBe(targetB);
  });

  it("lets a throttling error through unchanged", async () => {
    model.beforeCall = throttledOnce("CreateRoute");
    await expect(apigwRoute.create(ctx, desired())).rejects.toMatchObject({ name: "TooManyRequestsException" });
    await expect(apigwRoute.create(ctx, desired())).resolves.toMatchObject({ attributes: { routeKey: "sendmessage" } });
  });

  it("lists every route of the API as route.<key>", async () => {
    await otherRoutes("$connect", "$default");
    const created = await apigwRoute.create(ctx, desired());
    const listed = await apigwRoute.list(ctx, { apiId });
    expect(listed.map((r) => r.logicalId)).toEqual(["route.$connect", "route.$default", "route.sendmessage"]);
    expect(listed.find((r) => r.logicalId === "route.sendmessage")?.physicalId).toBe(created.physicalId);
  });
});
