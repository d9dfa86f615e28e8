import { strToU8, zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { ApiGatewayV2Model } from "../../src/local/models/apigatewayv2.js";
import { LambdaModel } from "../../src/local/models/lambda.js";
import { LogsModel } from "../../src/local/models/logs.js";

// The local models refuse what AWS refuses, so a spec check that is missing
// shows up as a failed apply in our own suite rather than on AWS.

const region = "ap-northeast-1";
const accountId = "123456789012";
const zip = zipSync({ "index.js": strToU8("exports.handler = async () => ({ statusCode: 200 });") });

const fails = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as { name: string; message: string },
  );

describe("tag rules in the models", () => {
  it("API Gateway, Lambda and CloudWatch Logs refuse characters outside [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]", async () => {
    const apigw = new ApiGatewayV2Model({ region, accountId });
    const api = await fails(apigw.dispatch("CreateApi", { Name: "x", ProtocolType: "WEBSOCKET", RouteSelectionExpression: "$request.body.action", Tags: { app: "chat (prod)" } }));
    expect(api).toMatchObject({ name: "BadRequestException" });
    const lambda = new LambdaModel({ region, accountId });
    const fn = await fails(
      lambda.dispatch("CreateFunction", {
        FunctionName: "f",
        Role: `arn:aws:iam::${accountId}:role/f`,
        Runtime: "nodejs22.x",
        Handler: "index.handler",
        Code: { ZipFile: zip },
        Tags: { team: "team!" },
      }),
    );
    expect(fn).toMatchObject({ name: "ValidationException" });
    expect(lambda.functionNames()).toEqual([]);
    const logs = new LogsModel({ region, accountId });
    expect(await fails(logs.dispatch("CreateLogGroup", { logGroupName: "/aws/lambda/f", tags: { "a,b": "x" } }))).toMatchObject({ name: "InvalidParameterException" });
    // What the rules allow still passes.
    await expect(apigw.dispatch("CreateApi", { Name: "y", ProtocolType: "WEBSOCKET", RouteSelectionExpression: "$request.body.action", Tags: { "team:owner": "chat-prod/eu = ok@x" } })).resolves.toBeDefined();
  });
});

describe("runtime deprecation in the Lambda model", () => {
  const create = (model: LambdaModel, name: string, runtime: string) =>
    model.dispatch("CreateFunction", { FunctionName: name, Role: `arn:aws:iam::${accountId}:role/f`, Runtime: runtime, Handler: "index.handler", Code: { ZipFile: zip } });

  it("refuses new functions on nodejs20.x from its create-block date, and updates from its update-block date", async () => {
    let today = new Date("2026-08-30");
    const model = new LambdaModel({ region, accountId, today: () => today });
    await create(model, "early", "nodejs20.x");
    today = new Date("2026-08-31");
    expect(await fails(create(model, "late", "nodejs20.x"))).toMatchObject({
      name: "InvalidParameterValueException",
      message: expect.stringContaining("The runtime parameter of nodejs20.x is no longer supported for creating or updating AWS Lambda functions"),
    });
    await expect(model.dispatch("UpdateFunctionConfiguration", { FunctionName: "early", Timeout: 5 })).resolves.toBeDefined();
    today = new Date("2026-09-30");
    expect(await fails(model.dispatch("UpdateFunctionCode", { FunctionName: "early", ZipFile: zip }))).toMatchObject({ name: "InvalidParameterValueException" });
    // Moving to a supported runtime is how a function gets off it.
    await expect(model.dispatch("UpdateFunctionConfiguration", { FunctionName: "early", Runtime: "nodejs22.x" })).resolves.toBeDefined();
  });
});
