import { describe, expect, it } from "vitest";
import { apigwAuthorizer } from "../../src/resources/apigw-authorizer.js";
import { apigwRoute } from "../../src/resources/apigw-route.js";
import { apigwStage } from "../../src/resources/apigw-stage.js";
import type { Ctx, ResolvedResource } from "../../src/resources/kind.js";
import type { AuthorizerProps, RouteProps, StageProps } from "../../src/resources/props.js";
import { lambdaUri as uriOf, useApigwModel } from "../support/apigw.js";
import { TEST_REGION, errorOf, kindCtx } from "../support/ctx.js";

const region = TEST_REGION;
const ctx: Ctx = kindCtx();
const fx = useApigwModel(ctx.accountId);

function desired(over: Partial<AuthorizerProps> = {}): ResolvedResource<AuthorizerProps> {
  return {
    id: "authorizer.tickets",
    kind: "apigw.authorizer",
    name: "chatctl-tickets",
    props: { apiId: fx.apiId, name: "chatctl-tickets", authorizerType: "REQUEST", authorizerUri: uriOf("my-chat-authorize"), identitySource: ["route.request.querystring.ticket"], ...over },
  };
}

describe("apigw.authorizer", () => {
  it("creates a REQUEST authorizer, reads it back by name past other pages, and converges", async () => {
    for (let i = 0; i < 3; i++) {
      await fx.model.dispatch("CreateAuthorizer", { ApiId: fx.apiId, Name: `hand-${i}`, AuthorizerType: "REQUEST", AuthorizerUri: uriOf(`hand-${i}`), IdentitySource: ["route.request.header.Auth"] });
    }
    const created = await apigwAuthorizer.create(ctx, desired());
    expect(created.outputs.authorizerId).toMatch(/^[a-z0-9]{6}$/);
    expect(await apigwAuthorizer.read(ctx, desired())).toEqual(created);
    expect(apigwAuthorizer.diff(desired(), created)).toEqual([]);
  });

  it("a retried create adopts the first one instead of making a second", async () => {
    const first = await apigwAuthorizer.create(ctx, desired());
    const again = await apigwAuthorizer.create(ctx, desired({ identitySource: ["route.request.header.Authorization"] }));
    expect(again.physicalId).toBe(first.physicalId);
    expect(again.attributes.identitySource).toEqual(["route.request.header.Authorization"]);
    expect((await fx.model.dispatch("GetAuthorizers", { ApiId: fx.apiId })).Items).toHaveLength(1);
  });

  it("updates identity sources and the function in place", async () => {
    const created = await apigwAuthorizer.create(ctx, desired());
    const want = desired({ identitySource: ["route.request.header.Authorization", "route.request.querystring.room"], authorizerUri: uriOf("my-chat-other") });
    const changes = apigwAuthorizer.diff(want, created);
    expect(changes.map((c) => c.path)).toEqual(["authorizerUri", "identitySource"]);
    const updated = await apigwAuthorizer.update(ctx, want, created, changes);
    expect(updated.physicalId).toBe(created.physicalId);
    expect(apigwAuthorizer.diff(want, updated)).toEqual([]);
  });

  it("lists only chatctl's authorizers, with their logical ids; delete is safe to repeat", async () => {
    await fx.model.dispatch("CreateAuthorizer", { ApiId: fx.apiId, Name: "by-hand", AuthorizerType: "REQUEST", AuthorizerUri: uriOf("x"), IdentitySource: [] });
    const created = await apigwAuthorizer.create(ctx, desired());
    expect((await apigwAuthorizer.list(ctx, { apiId: fx.apiId })).map((a) => a.logicalId)).toEqual(["authorizer.tickets"]);
    expect(await apigwAuthorizer.list(ctx, {})).toEqual([]);
    await apigwAuthorizer.delete(ctx, created);
    await apigwAuthorizer.delete(ctx, created);
    expect(await apigwAuthorizer.read(ctx, desired())).toBeUndefined();
  });

  it("the $connect route takes it as CUSTOM, then IAM, then none; a message route cannot", async () => {
    const authorizerId = (await apigwAuthorizer.create(ctx, desired())).physicalId;
    const integration = await fx.model.dispatch("CreateIntegration", { ApiId: fx.apiId, IntegrationType: "AWS_PROXY", IntegrationUri: uriOf("my-chat-connect") });
    const target = `integrations/${String(integration.IntegrationId)}`;
    const route = (key: string, over: Partial<RouteProps>): ResolvedResource<RouteProps> => ({
      id: `route.${key}`,
      kind: "apigw.route",
      name: key,
      props: { apiId: fx.apiId, routeKey: key, target, authorizationType: "NONE", ...over },
    });
    const custom = route("$connect", { authorizationType: "CUSTOM", authorizerId });
    const created = await apigwRoute.create(ctx, custom);
    expect(created.attributes).toMatchObject({ authorizationType: "CUSTOM", authorizerId });
    const iam = route("$connect", { authorizationType: "AWS_IAM" });
    const toIam = await apigwRoute.update(ctx, iam, created, apigwRoute.diff(iam, created));
    expect(toIam.attributes).toMatchObject({ authorizationType: "AWS_IAM", authorizerId: undefined });
    const none = route("$connect", {});
    const toNone = await apigwRoute.update(ctx, none, toIam, apigwRoute.diff(none, toIam));
    expect(apigwRoute.diff(none, toNone)).toEqual([]);
    expect((await errorOf(apigwRoute.create(ctx, route("sendmessage", { authorizationType: "CUSTOM", authorizerId })))).name).toBe("BadRequestException");
  });
});

describe("apigw.stage throttling and access logs", () => {
  const stage = (over: Partial<StageProps> = {}): ResolvedResource<StageProps> => ({
    id: "stage",
    kind: "apigw.stage",
    name: "prod",
    props: { apiId: fx.apiId, stageName: "prod", tags: { "chatctl:stack": "my-chat", "chatctl:id": "stage" }, ...over },
  });
  const accessLog = { destinationArn: `arn:aws:logs:${region}:123456789012:log-group:/aws/apigateway/my-chat/prod/access`, format: '{"requestId":"$context.requestId"}' };

  it("sets both throttling bounds together and the access log settings, and removes the log settings again", async () => {
    const want = stage({ throttling: { rateLimit: 50, burstLimit: 100 }, accessLog });
    const created = await apigwStage.create(ctx, want);
    expect(created.attributes.throttling).toEqual({ rateLimit: 50, burstLimit: 100 });
    expect(created.attributes.accessLog).toEqual(accessLog);
    expect(apigwStage.diff(want, created)).toEqual([]);

    const slower = stage({ throttling: { rateLimit: 5, burstLimit: 10 } });
    const changes = apigwStage.diff(slower, created);
    expect(changes.map((c) => c.path)).toEqual(["throttling", "accessLog"]);
    const updated = await apigwStage.update(ctx, slower, created, changes);
    expect(updated.attributes.throttling).toEqual({ rateLimit: 5, burstLimit: 10 });
    expect(updated.attributes.accessLog).toBeUndefined();
    expect(apigwStage.diff(slower, updated)).toEqual([]);
    // Throttling absent from the spec is left alone: AWS cannot unset it, and 0 would throttle everything.
    expect(apigwStage.diff(stage(), updated)).toEqual([]);
  });
});
