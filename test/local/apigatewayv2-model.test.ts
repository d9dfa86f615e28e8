import { describe, expect, it } from "vitest";
import { ApiGatewayV2Model, allItems } from "../../src/local/models/apigatewayv2.js";

const region = "eu-west-1";
const FN_URI = `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/arn:aws:lambda:${region}:123456789012:function:f/invocations`;

async function setup(opts: { pageSize?: number; endpointFor?: (apiId: string) => string } = {}) {
  const model = new ApiGatewayV2Model({ region, accountId: "123456789012", ...opts });
  const api = await model.dispatch("CreateApi", { Name: "chat", ProtocolType: "WEBSOCKET", RouteSelectionExpression: "$request.body.action", Tags: { a: "1" } });
  return { model, apiId: String(api.ApiId) };
}

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return err instanceof Error ? err.name : String(err);
  }
  return "no error";
}

describe("ApiGatewayV2Model", () => {
  it("reports the endpoint the local cloud gives it", async () => {
    const { model, apiId } = await setup({ endpointFor: (id) => `ws://127.0.0.1:4510/${id}` });
    expect((await model.dispatch("GetApi", { ApiId: apiId })).ApiEndpoint).toBe(`ws://127.0.0.1:4510/${apiId}`);
  });

  it("hands out copies: changing a result does not change the API", async () => {
    const { model, apiId } = await setup();
    const got = await model.dispatch("GetApi", { ApiId: apiId });
    (got.Tags as Record<string, string>).a = "changed";
    got.Name = "changed";
    const again = await model.dispatch("GetApi", { ApiId: apiId });
    expect(again).toMatchObject({ Name: "chat", Tags: { a: "1" } });
  });

  it("gives the gateway every route and integration through allItems, whatever the page size", async () => {
    const { model, apiId } = await setup({ pageSize: 2 });
    const integration = await model.dispatch("CreateIntegration", { ApiId: apiId, IntegrationType: "AWS_PROXY", IntegrationUri: FN_URI });
    const keys = ["$connect", "$disconnect", "$default", "a", "b"];
    for (const RouteKey of keys) await model.dispatch("CreateRoute", { ApiId: apiId, RouteKey, Target: `integrations/${String(integration.IntegrationId)}` });
    const routes = await allItems(model, "GetRoutes", { ApiId: apiId });
    expect(routes.map((r) => r.RouteKey)).toEqual(keys);
    expect(routes.every((r) => r.Target === `integrations/${String(integration.IntegrationId)}`)).toBe(true);
    const integrations = await allItems(model, "GetIntegrations", { ApiId: apiId });
    expect(integrations).toEqual([expect.objectContaining({ IntegrationUri: FN_URI, IntegrationType: "AWS_PROXY", PayloadFormatVersion: "1.0" })]);
  });

  it("keeps paging correctly when items are deleted between pages", async () => {
    const { model } = await setup({ pageSize: 2 });
    for (const Name of ["b", "c", "d", "e"]) await model.dispatch("CreateApi", { Name, ProtocolType: "WEBSOCKET", RouteSelectionExpression: "$request.body.action" });
    const first = await model.dispatch("GetApis", {});
    const firstItems = first.Items as { ApiId: string; Name: string }[];
    await model.dispatch("DeleteApi", { ApiId: firstItems[1]?.ApiId });
    const rest = await allItems(model, "GetApis", { NextToken: first.NextToken });
    expect(rest.map((a) => a.Name)).toEqual(["c", "d", "e"]);
  });

  it("refuses what AWS refuses", async () => {
    const { model, apiId } = await setup();
    const integration = await model.dispatch("CreateIntegration", { ApiId: apiId, IntegrationType: "AWS_PROXY", IntegrationUri: FN_URI });
    const target = `integrations/${String(integration.IntegrationId)}`;
    await model.dispatch("CreateRoute", { ApiId: apiId, RouteKey: "a", Target: target });
    const b = await model.dispatch("CreateRoute", { ApiId: apiId, RouteKey: "b", Target: target });
    expect(await failure(model.dispatch("UpdateRoute", { ApiId: apiId, RouteId: b.RouteId, RouteKey: "a" }))).toBe("ConflictException");
    expect(await failure(model.dispatch("CreateRoute", { ApiId: apiId, RouteKey: "$connected" }))).toBe("BadRequestException");
    expect(await failure(model.dispatch("CreateIntegration", { ApiId: apiId, IntegrationType: "LAMBDA" }))).toBe("BadRequestException");
    expect(await failure(model.dispatch("CreateStage", { ApiId: apiId, StageName: "prod", DeploymentId: "nope00" }))).toBe("NotFoundException");
    expect(await failure(model.dispatch("CreateDeployment", { ApiId: apiId, StageName: "missing" }))).toBe("NotFoundException");
    const tooMany = Object.fromEntries(Array.from({ length: 50 }, (_, n) => [`k${n}`, "v"]));
    const arn = `arn:aws:apigateway:${region}::/apis/${apiId}`;
    expect(await failure(model.dispatch("TagResource", { ResourceArn: arn, Tags: tooMany }))).toBe("BadRequestException");
    expect(await failure(model.dispatch("TagResource", { ResourceArn: arn, Tags: { "aws:x": "y" } }))).toBe("BadRequestException");
    expect(await failure(model.dispatch("GetTags", { ResourceArn: `arn:aws:apigateway:us-east-1::/apis/${apiId}` }))).toBe("NotFoundException");
    expect(await failure(model.dispatch("GetApis", { MaxResults: "0" }))).toBe("BadRequestException");
    expect(await failure(model.dispatch("ImportApi", { Body: "{}" }))).toBe("UnknownOperationException");
  });

  it("records every call for tests that count them", async () => {
    const { model, apiId } = await setup();
    await model.dispatch("GetApi", { ApiId: apiId });
    expect(model.calls.map((c) => c.operation)).toEqual(["CreateApi", "GetApi"]);
  });
});
