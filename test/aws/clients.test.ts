import { CreateApiCommand, GetApisCommand } from "@aws-sdk/client-apigatewayv2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClients } from "../../src/aws/clients.js";
import { startFrontDoor, type FrontDoor } from "../../src/local/front-door.js";
import { ApiGatewayV2Model } from "../../src/local/models/apigatewayv2.js";
import { AwsError } from "../../src/local/service.js";
import { apigatewayv2Wire } from "../../src/local/wire/apigatewayv2.js";

const model = new ApiGatewayV2Model({ region: "ap-northeast-1", accountId: "123456789012" });
let door: FrontDoor;
beforeAll(async () => {
  door = await startFrontDoor([apigatewayv2Wire(model)]);
});
afterAll(() => door.close());

function throttleNext(operation: string): () => number {
  let seen = 0;
  model.beforeCall = (_s, op) => {
    if (op !== operation) return;
    seen++;
    if (seen === 1) throw new AwsError("TooManyRequestsException", "slow down", 429);
  };
  return () => seen;
}

describe("the API Gateway client", () => {
  const apigw = () => createClients({ region: "ap-northeast-1", endpoint: door.url, credentials: { accessKeyId: "x", secretAccessKey: "y" } }).apigw();

  it("retries a throttled read", async () => {
    const calls = throttleNext("GetApis");
    await expect(apigw().send(new GetApisCommand({}))).resolves.toBeDefined();
    expect(calls()).toBe(2);
  });

  it("sends a create once, so a lost answer can never make a second API (the executor retries the step)", async () => {
    const calls = throttleNext("CreateApi");
    await expect(apigw().send(new CreateApiCommand({ Name: "x", ProtocolType: "WEBSOCKET", RouteSelectionExpression: "$request.body.action" }))).rejects.toMatchObject({
      name: "TooManyRequestsException",
    });
    expect(calls()).toBe(1);
    model.beforeCall = undefined;
  });
});
