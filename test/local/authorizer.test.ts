import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { describe, expect, it } from "vitest";
import { evaluateAuthorizerAnswer, identityValue } from "../../src/local/gateway/authorizer.js";
import { directoryFromModels } from "../../src/local/gateway/directory.js";
import { ApiGatewayV2Model } from "../../src/local/models/apigatewayv2.js";
import { verifySigV4 } from "../../src/local/gateway/sigv4.js";
import { accessLogLine } from "../../src/local/gateway/stage-limits.js";

const METHOD_ARN = "arn:aws:execute-api:ap-northeast-1:000000000000:abc123/prod/$connect";
const answer = (Effect: string, Resource: unknown, Action: unknown = "execute-api:Invoke", extra: Record<string, unknown> = {}) => ({
  principalId: "ann",
  policyDocument: { Version: "2012-10-17", Statement: [{ Effect, Action, Resource }] },
  ...extra,
});

describe("the authorizer's policy, as API Gateway evaluates it", () => {
  it.each([
    ["the exact methodArn", METHOD_ARN],
    ["* for the whole resource", "*"],
    ["* spanning stage and route", "arn:aws:execute-api:ap-northeast-1:000000000000:abc123/*"],
    ["* in region and account", "arn:aws:execute-api:*:*:abc123/prod/$connect"],
    ["? for one character", "arn:aws:execute-api:ap-northeast-1:000000000000:abc12?/prod/$connect"],
  ])("allows with %s", (_what, resource) => {
    expect(evaluateAuthorizerAnswer(answer("Allow", resource), METHOD_ARN)).toMatchObject({ allow: true, principalId: "ann" });
  });

  it.each([
    ["another stage", "arn:aws:execute-api:ap-northeast-1:000000000000:abc123/dev/$connect"],
    ["another API", "arn:aws:execute-api:ap-northeast-1:000000000000:zzz999/*"],
    ["a * that does not cross the ':' of the account", "arn:aws:execute-api:ap-northeast-1:*abc123/*"],
  ])("refuses an Allow of %s (403)", (_what, resource) => {
    expect(evaluateAuthorizerAnswer(answer("Allow", resource), METHOD_ARN)).toMatchObject({ allow: false, status: 403 });
  });

  it("lets a Deny win over an Allow, and ignores statements for other actions", () => {
    const both = { principalId: "x", policyDocument: { Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }, { Effect: "Deny", Action: "execute-api:*", Resource: METHOD_ARN }] } };
    expect(evaluateAuthorizerAnswer(both, METHOD_ARN)).toMatchObject({ allow: false, status: 403 });
    expect(evaluateAuthorizerAnswer(answer("Allow", "*", "execute-api:ManageConnections"), METHOD_ARN)).toMatchObject({ allow: false, status: 403 });
    expect(evaluateAuthorizerAnswer(answer("Allow", "*", ["s3:GetObject", "EXECUTE-API:invoke"]), METHOD_ARN)).toMatchObject({ allow: true });
  });

  it("refuses malformed answers: no principal, no statements, objects in the context, too big", () => {
    for (const bad of [
      null,
      "not json",
      { policyDocument: answer("Allow", "*").policyDocument },
      { principalId: "ann", policyDocument: {} },
      answer("Allow", "*", "execute-api:Invoke", { context: { roles: ["admin"] } }),
      answer("Allow", "*", "execute-api:Invoke", { context: { big: "x".repeat(9000) } }),
    ]) {
      expect(evaluateAuthorizerAnswer(bad, METHOD_ARN)).toMatchObject({ allow: false, status: 403 });
    }
    expect(evaluateAuthorizerAnswer(answer("Allow", "*", "execute-api:Invoke", { context: { n: 1, ok: false, s: "t" } }), METHOD_ARN)).toEqual({
      allow: true,
      principalId: "ann",
      context: { n: 1, ok: false, s: "t" },
    });
  });

  it("reads identity sources: headers without regard to case, query strings by exact name, empty as missing", () => {
    const h = { headers: { authorization: "Bearer x", "X-Empty": " " }, multiValueHeaders: {}, query: new URLSearchParams("token=t&Token=T&blank=") };
    expect(identityValue("route.request.header.Authorization", h, {}, {})).toBe("Bearer x");
    expect(identityValue("route.request.header.X-Empty", h, {}, {})).toBeUndefined();
    expect(identityValue("route.request.querystring.Token", h, {}, {})).toBe("T");
    expect(identityValue("route.request.querystring.blank", h, {}, {})).toBeUndefined();
    expect(identityValue("stageVariables.key", h, { key: "v" }, {})).toBe("v");
    expect(identityValue("context.identity.sourceIp", h, {}, { identity: { sourceIp: "127.0.0.1" } })).toBe("127.0.0.1");
  });
});

describe("SigV4 of an upgrade request", () => {
  const credentials = { accessKeyId: "chatctl-local", secretAccessKey: "chatctl-local" };
  const secretFor = (k: string) => (k === credentials.accessKeyId ? credentials.secretAccessKey : undefined);
  const signer = new SignatureV4({ service: "execute-api", region: "ap-northeast-1", credentials, sha256: Sha256 });
  const base = { method: "GET", protocol: "http:", hostname: "127.0.0.1", port: 8080, path: "/prod", headers: { host: "127.0.0.1:8080" } };
  const lower = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));

  it("accepts a presigned URL (what a browser can use) until it expires, and refuses it after or altered", async () => {
    const at = new Date("2026-12-01T12:00:00Z");
    const signed = await signer.presign(new HttpRequest({ ...base, query: { room: "lobby" } }), { expiresIn: 60, signingDate: at });
    const query = new URLSearchParams(Object.entries(signed.query as Record<string, string>));
    const req = { method: "GET", rawPath: "/prod", query, headers: { host: "127.0.0.1:8080" } };
    expect(verifySigV4(req, "ap-northeast-1", secretFor, at.getTime() + 30_000)).toEqual({ ok: true, accessKeyId: "chatctl-local" });
    expect(verifySigV4(req, "ap-northeast-1", secretFor, at.getTime() + 61_000)).toMatchObject({ ok: false });
    const altered = new URLSearchParams(query);
    altered.set("room", "admins");
    expect(verifySigV4({ ...req, query: altered }, "ap-northeast-1", secretFor, at.getTime())).toMatchObject({ ok: false, why: "the signature does not match" });
    expect(verifySigV4(req, "us-east-1", secretFor, at.getTime())).toMatchObject({ ok: false });
  });

  it("accepts a signed Authorization header, refuses another host or an old signature", async () => {
    const at = new Date("2026-12-01T12:00:00Z");
    const signed = await signer.sign(new HttpRequest(base), { signingDate: at });
    const req = { method: "GET", rawPath: "/prod", query: new URLSearchParams(), headers: lower(signed.headers) };
    expect(verifySigV4(req, "ap-northeast-1", secretFor, at.getTime())).toMatchObject({ ok: true });
    expect(verifySigV4({ ...req, headers: { ...req.headers, host: "evil:1" } }, "ap-northeast-1", secretFor, at.getTime())).toMatchObject({ ok: false });
    expect(verifySigV4(req, "ap-northeast-1", secretFor, at.getTime() + 16 * 60_000)).toMatchObject({ ok: false });
  });
});

describe("access log lines", () => {
  it("fills $context variables, '-' for what a request lacks, and keeps JSON formats JSON", () => {
    const line = accessLogLine('{"requestId":"$context.requestId","status":"$context.status","error":"$context.error.message"}', {
      requestId: "r1",
      status: 403,
      "error.message": 'say "no"',
    });
    expect(JSON.parse(line)).toEqual({ requestId: "r1", status: "403", error: 'say "no"' });
    expect(accessLogLine("$context.requestId $context.integrationErrorMessage", { requestId: "r2" })).toBe("r2 -");
  });
});

describe("authorization is deployed, stage settings are not", () => {
  it("a $connect route's authorizer changes only with a deployment; throttling applies at once", async () => {
    const model = new ApiGatewayV2Model({ region: "ap-northeast-1", accountId: "000000000000" });
    const fnUri = (fn: string) => `arn:aws:apigateway:ap-northeast-1:lambda:path/2015-03-31/functions/arn:aws:lambda:ap-northeast-1:000000000000:function:${fn}/invocations`;
    const ApiId = String((await model.dispatch("CreateApi", { Name: "a", ProtocolType: "WEBSOCKET", RouteSelectionExpression: "$request.body.action" })).ApiId);
    const integration = await model.dispatch("CreateIntegration", { ApiId, IntegrationType: "AWS_PROXY", IntegrationUri: fnUri("connect") });
    const authorizer = await model.dispatch("CreateAuthorizer", { ApiId, Name: "gate", AuthorizerType: "REQUEST", AuthorizerUri: fnUri("gate"), IdentitySource: ["route.request.querystring.token"] });
    const route = await model.dispatch("CreateRoute", { ApiId, RouteKey: "$connect", Target: `integrations/${String(integration.IntegrationId)}`, AuthorizationType: "CUSTOM", AuthorizerId: authorizer.AuthorizerId });
    await model.dispatch("CreateStage", { ApiId, StageName: "prod" });
    await model.dispatch("CreateDeployment", { ApiId, StageName: "prod" });
    const directory = directoryFromModels(model);
    const view = async () => directory.resolve({ stage: "prod" });

    expect((await view())?.connectAuth).toEqual({
      type: "CUSTOM",
      authorizer: { authorizerId: authorizer.AuthorizerId, functionName: "gate", identitySource: ["route.request.querystring.token"] },
    });
    expect((await view())?.executeArn).toBe(`arn:aws:execute-api:ap-northeast-1:000000000000:${ApiId}`);

    await model.dispatch("UpdateRoute", { ApiId, RouteId: route.RouteId, AuthorizationType: "AWS_IAM" });
    await model.dispatch("UpdateStage", { ApiId, StageName: "prod", DefaultRouteSettings: { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 } });
    expect((await view())?.connectAuth?.type).toBe("CUSTOM");
    expect((await view())?.throttling).toEqual({ rateLimit: 5, burstLimit: 10 });

    await model.dispatch("CreateDeployment", { ApiId, StageName: "prod" });
    expect((await view())?.connectAuth).toEqual({ type: "AWS_IAM" });
  });
});
