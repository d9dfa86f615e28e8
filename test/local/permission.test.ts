import { describe, expect, it } from "vitest";
import { arnLike, policyAllowsApiGateway } from "../../src/local/gateway/permission.js";

const fn = "arn:aws:lambda:ap-northeast-1:000000000000:function:my-chat-connect";
const source = { apiId: "abc123defg", stage: "prod", routeKey: "$connect" };

function policy(...statements: object[]): string {
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

function allow(sourceArn?: string, extra: object = {}): object {
  return {
    Sid: "s",
    Effect: "Allow",
    Principal: { Service: "apigateway.amazonaws.com" },
    Action: "lambda:InvokeFunction",
    Resource: fn,
    ...(sourceArn ? { Condition: { ArnLike: { "AWS:SourceArn": sourceArn } } } : {}),
    ...extra,
  };
}

describe("arnLike", () => {
  it("matches part by part, with * spanning slashes in the resource", () => {
    expect(arnLike("arn:aws:execute-api:ap-northeast-1:000000000000:abc123defg/*", "arn:aws:execute-api:ap-northeast-1:000000000000:abc123defg/prod/$connect")).toBe(true);
    expect(arnLike("arn:aws:execute-api:*:*:abc123defg/*/$connect", "arn:aws:execute-api:us-east-1:111111111111:abc123defg/dev/$connect")).toBe(true);
  });

  it("does not let a wildcard in one part swallow another", () => {
    expect(arnLike("arn:aws:execute-api:ap-northeast-1:000000000000:other/*", "arn:aws:execute-api:ap-northeast-1:000000000000:abc123defg/prod/x")).toBe(false);
    expect(arnLike("arn:aws:execute-api:us-east-1:*:abc123defg/*", "arn:aws:execute-api:ap-northeast-1:000000000000:abc123defg/prod/x")).toBe(false);
    expect(arnLike("not an arn", "arn:aws:execute-api:a:b:c")).toBe(false);
  });
});

describe("policyAllowsApiGateway", () => {
  it("allows what chatctl grants: this API, any stage and route", () => {
    expect(policyAllowsApiGateway(policy(allow("arn:aws:execute-api:ap-northeast-1:000000000000:abc123defg/*")), source)).toBe(true);
  });

  it("refuses another API, a narrower route, or no statement at all", () => {
    expect(policyAllowsApiGateway(policy(allow("arn:aws:execute-api:ap-northeast-1:000000000000:zzz/*")), source)).toBe(false);
    expect(policyAllowsApiGateway(policy(allow("arn:aws:execute-api:ap-northeast-1:000000000000:abc123defg/prod/sendmessage")), source)).toBe(false);
    expect(policyAllowsApiGateway(policy(), source)).toBe(false);
  });

  it("refuses other principals and actions", () => {
    expect(policyAllowsApiGateway(policy(allow(undefined, { Principal: { Service: "s3.amazonaws.com" } })), source)).toBe(false);
    expect(policyAllowsApiGateway(policy(allow(undefined, { Action: "lambda:GetFunction" })), source)).toBe(false);
  });

  it("lets a Deny win over an Allow", () => {
    const arn = "arn:aws:execute-api:ap-northeast-1:000000000000:abc123defg/*";
    expect(policyAllowsApiGateway(policy(allow(arn), allow(arn, { Effect: "Deny" })), source)).toBe(false);
  });
});
