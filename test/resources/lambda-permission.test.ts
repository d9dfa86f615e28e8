import { mockClient } from "aws-sdk-client-mock";
import { strToU8, zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { createClients } from "../../src/aws/clients.js";
import { LambdaModel } from "../../src/local/models/lambda.js";
import { AwsError } from "../../src/local/service.js";
import type { Ctx, ResolvedResource } from "../../src/resources/kind.js";
import { lambdaPermission } from "../../src/resources/lambda-permission.js";
import type { PermissionProps } from "../../src/resources/props.js";
import { plug } from "../support/plug.js";
import { errorOf } from "../support/ctx.js";

const region = "ap-northeast-1";
const accountId = "123456789012";
const apiArn = (apiId: string): string => `arn:aws:execute-api:${region}:${accountId}:${apiId}/*`;

async function setup(withFunction = true): Promise<{ model: LambdaModel; ctx: Ctx }> {
  const model = new LambdaModel({ region, accountId });
  const clients = createClients({ region, credentials: { accessKeyId: "x", secretAccessKey: "y" } });
  plug(mockClient(clients.lambda()), model, await import("@aws-sdk/client-lambda"));
  if (withFunction) {
    await model.dispatch("CreateFunction", {
      FunctionName: "my-chat-connect",
      Role: `arn:aws:iam::${accountId}:role/chatctl/my-chat-connect`,
      Runtime: "nodejs22.x",
      Handler: "index.handler",
      Code: { ZipFile: zipSync({ "index.mjs": strToU8("export const handler = async () => ({});") }) },
    });
  }
  return { model, ctx: { region, accountId, partition: "aws", stack: "my-chat", clients } };
}

function desired(overrides: Partial<PermissionProps> = {}): ResolvedResource<PermissionProps> {
  return {
    id: "permission.connect",
    kind: "lambda.permission",
    name: "my-chat-connect/chatctl-apigateway",
    props: {
      functionName: "my-chat-connect",
      statementId: "chatctl-apigateway",
      action: "lambda:InvokeFunction",
      principal: "apigateway.amazonaws.com",
      sourceArn: apiArn("abc123"),
      ...overrides,
    },
  };
}

describe("lambda.permission", () => {
  it("adds the statement and reads it back from the function's policy", async () => {
    const { ctx } = await setup();
    const created = await lambdaPermission.create(ctx, desired());
    const read = await lambdaPermission.read(ctx, desired());
    expect(read).toEqual(created);
    expect(read?.attributes).toEqual({
      functionName: "my-chat-connect",
      statementId: "chatctl-apigateway",
      action: "lambda:InvokeFunction",
      principal: "apigateway.amazonaws.com",
      sourceArn: apiArn("abc123"),
    });
    expect(read?.ownership).toEqual({ by: "parent" });
    expect(lambdaPermission.diff(desired(), read!)).toEqual([]);
  });

  it("is absent when the function, its policy or the statement is missing", async () => {
    const none = await setup(false);
    expect(await lambdaPermission.read(none.ctx, desired())).toBeUndefined();
    const { model, ctx } = await setup();
    expect(await lambdaPermission.read(ctx, desired())).toBeUndefined();
    await model.dispatch("AddPermission", { FunctionName: "my-chat-connect", StatementId: "someone-else", Action: "lambda:InvokeFunction", Principal: "s3.amazonaws.com" });
    expect(await lambdaPermission.read(ctx, desired())).toBeUndefined();
  });

  it("replaces the statement when what it allows changes, saying why", async () => {
    const { ctx } = await setup();
    const actual = await lambdaPermission.create(ctx, desired());
    const changes = lambdaPermission.diff(desired({ sourceArn: apiArn("newapi") }), actual);
    expect(changes).toEqual([
      {
        path: "sourceArn",
        before: apiArn("abc123"),
        after: apiArn("newapi"),
        forcesReplacement: true,
        reason: "a Lambda permission statement cannot be changed in place",
      },
    ]);
  });

  it("continues when an earlier run already added the same statement", async () => {
    const { model, ctx } = await setup();
    await lambdaPermission.create(ctx, desired());
    const again = await lambdaPermission.create(ctx, desired());
    expect(again.attributes.sourceArn).toBe(apiArn("abc123"));
    expect(model.calls.filter((c) => c.operation === "RemovePermission")).toHaveLength(0);
  });

  it("replaces a statement of the same id that allows something else", async () => {
    const { ctx } = await setup();
    await lambdaPermission.create(ctx, desired({ sourceArn: apiArn("oldapi") }));
    const again = await lambdaPermission.create(ctx, desired());
    expect(again.attributes.sourceArn).toBe(apiArn("abc123"));
    expect((await lambdaPermission.read(ctx, desired()))?.attributes.sourceArn).toBe(apiArn("abc123"));
  });

  it("deletes the statement, and deleting it again succeeds", async () => {
    const { ctx } = await setup();
    const actual = await lambdaPermission.create(ctx, desired());
    await lambdaPermission.delete(ctx, actual);
    expect(await lambdaPermission.read(ctx, desired())).toBeUndefined();
    await expect(lambdaPermission.delete(ctx, actual)).resolves.toBeUndefined();
  });

  it("lets throttling surface with its AWS name", async () => {
    const { model, ctx } = await setup();
    model.beforeCall = () => {
      throw new AwsError("TooManyRequestsException", "Rate exceeded", 429);
    };
    expect((await errorOf(lambdaPermission.read(ctx, desired()))).name).toBe("TooManyRequestsException");
    expect((await errorOf(lambdaPermission.create(ctx, desired()))).name).toBe("TooManyRequestsException");
  });
});
