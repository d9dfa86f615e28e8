import { describe, expect, it } from "vitest";
import { ApiGatewayModel } from "../../src/local/models/apigateway.js";
import { IamModel } from "../../src/local/models/iam.js";

// UpdateAccount refuses, as AWS does, a role API Gateway could not assume.
describe("API Gateway account settings", () => {
  const iam = new IamModel({ accountId: "000000000000" });
  const model = new ApiGatewayModel({ trustPolicyOf: (arn) => iam.trustPolicyOf(arn) });
  const set = (value: string) => model.dispatch("UpdateAccount", { patchOperations: [{ op: "replace", path: "/cloudwatchRoleArn", value }] });
  const trusting = (service: string) => JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }] });

  it("has no CloudWatch Logs role until one is set", async () => {
    expect((await model.dispatch("GetAccount", {})).cloudwatchRoleArn).toBeUndefined();
  });

  it("refuses a role that does not exist or does not trust API Gateway", async () => {
    await expect(set("arn:aws:iam::000000000000:role/nobody")).rejects.toMatchObject({ name: "BadRequestException" });
    await iam.dispatch("CreateRole", { RoleName: "for-lambda", AssumeRolePolicyDocument: trusting("lambda.amazonaws.com") });
    await expect(set("arn:aws:iam::000000000000:role/for-lambda")).rejects.toMatchObject({ name: "BadRequestException" });
    await expect(set("not-an-arn")).rejects.toMatchObject({ name: "BadRequestException" });
  });

  it("sets a role that trusts API Gateway, and refuses other paths", async () => {
    await iam.dispatch("CreateRole", { RoleName: "logs", AssumeRolePolicyDocument: trusting("apigateway.amazonaws.com") });
    expect((await set("arn:aws:iam::000000000000:role/logs")).cloudwatchRoleArn).toBe("arn:aws:iam::000000000000:role/logs");
    expect((await model.dispatch("GetAccount", {})).cloudwatchRoleArn).toBe("arn:aws:iam::000000000000:role/logs");
    await expect(model.dispatch("UpdateAccount", { patchOperations: [{ op: "replace", path: "/features", value: "x" }] })).rejects.toMatchObject({ name: "BadRequestException" });
  });
});
