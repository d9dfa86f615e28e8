import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mockClient } from "aws-sdk-client-mock";
import { strToU8, zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClients } from "../../src/aws/clients.js";
import { LambdaModel, ROLE_CANNOT_BE_ASSUMED, type LambdaModelOptions } from "../../src/local/models/lambda.js";
import { AwsError } from "../../src/local/service.js";
import type { Ctx, ResolvedResource } from "../../src/resources/kind.js";
import { createLambdaFunctionKind } from "../../src/resources/lambda-function.js";
import type { FunctionProps } from "../../src/resources/props.js";
import { plug } from "../support/plug.js";
import { errorOf } from "../support/ctx.js";

const region = "ap-northeast-1";
const accountId = "123456789012";
const roleArn = `arn:aws:iam::${accountId}:role/chatctl/my-chat-connect`;
// Tests must not sleep long: poll every few milliseconds.
const kind = createLambdaFunctionKind({ pollIntervalMs: 2, maxPollIntervalMs: 5, timeoutMs: 5_000 });

let dir: string;
let zipV1: { sha256: string; zipPath: string };
let zipV2: { sha256: string; zipPath: string };

async function writeZip(name: string, source: string): Promise<{ sha256: string; zipPath: string }> {
  const zip = zipSync({ "index.mjs": strToU8(source) }, { mtime: new Date("2020-01-01T00:00:00Z") });
  const zipPath = join(dir, name);
  await writeFile(zipPath, zip);
  return { sha256: createHash("sha256").update(zip).digest("base64"), zipPath };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "chatctl-lambda-kind-"));
  zipV1 = await writeZip("v1.zip", "export const handler = async () => ({ statusCode: 200 });");
  zipV2 = await writeZip("v2.zip", "export const handler = async () => ({ statusCode: 204 });");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function setup(options: Partial<LambdaModelOptions> = {}): Promise<{ model: LambdaModel; ctx: Ctx }> {
  const model = new LambdaModel({ region, accountId, ...options });
  const clients = createClients({ region, credentials: { accessKeyId: "x", secretAccessKey: "y" } });
  plug(mockClient(clients.lambda()), model, await import("@aws-sdk/client-lambda"));
  return { model, ctx: { region, accountId, partition: "aws", stack: "my-chat", clients } };
}

function desired(overrides: Partial<FunctionProps> = {}): ResolvedResource<FunctionProps> {
  return {
    id: "function.connect",
    kind: "lambda.function",
    name: "my-chat-connect",
    props: {
      functionName: "my-chat-connect",
      roleArn,
      runtime: "nodejs22.x",
      handler: "index.handler",
      memory: 128,
      timeout: 10,
      description: "chat connect handler",
      environment: { TABLE_CONNECTIONS: "my-chat-connections" },
      code: zipV1,
      tags: { app: "chat" },
      ...overrides,
    },
  };
}

const writes = (model: LambdaModel): string[] =>
  model.calls.map((c) => c.operation).filter((op) => !op.startsWith("Get") && !op.startsWith("List"));

describe("lambda.function", () => {
  it("creates the function, waits until it is Active, and reads it back as the spec describes it", async () => {
    const { model, ctx } = await setup({ stateTransitionMs: 20 });
    const d = desired();
    const created = await kind.create(ctx, d);

    expect((await model.dispatch("GetFunctionConfiguration", { FunctionName: "my-chat-connect" }))["State"]).toBe("Active");
    expect(created.attributes).toEqual({
      runtime: "nodejs22.x",
      handler: "index.handler",
      memory: 128,
      timeout: 10,
      description: "chat connect handler",
      environment: { TABLE_CONNECTIONS: "my-chat-connections" },
      roleArn,
      codeSha256: zipV1.sha256,
      tags: { app: "chat" },
    });
    expect(created.ownership).toEqual({ by: "tags", stack: "my-chat", id: "function.connect" });
    expect(created.outputs).toEqual(kind.knownOutputs(ctx, d));
    expect(created.outputs["functionArn"]).toBe(`arn:aws:lambda:${region}:${accountId}:function:my-chat-connect`);

    const read = await kind.read(ctx, d);
    expect(read).toEqual(created);
    expect(kind.diff(d, read!)).toEqual([]);
  });

  it("reads a function that is not there as absent, and deleting it succeeds", async () => {
    const { ctx } = await setup();
    expect(await kind.read(ctx, desired())).toBeUndefined();
    await expect(
      kind.delete(ctx, { physicalId: "arn:aws:lambda:ap-northeast-1:123456789012:function:my-chat-connect", attributes: {} as never, outputs: { functionName: "my-chat-connect" }, ownership: { by: "tags", stack: "my-chat", id: "function.connect" } }),
    ).resolves.toBeUndefined();
  });

  it("shows code as its sha256, environment per variable and tags per key", async () => {
    const { ctx } = await setup();
    const actual = await kind.create(ctx, desired());
    const changes = kind.diff(desired({ code: zipV2, environment: { TABLE_CONNECTIONS: "other", LOG_LEVEL: "debug" }, tags: { app: "chat2" }, timeout: 29 }), actual);
    expect(changes).toEqual([
      { path: "code.sha256", before: zipV1.sha256, after: zipV2.sha256 },
      { path: "timeout", before: 10, after: 29 },
      { path: "environment.LOG_LEVEL", before: undefined, after: "debug" },
      { path: "environment.TABLE_CONNECTIONS", before: "my-chat-connections", after: "other" },
      { path: "tags.app", before: "chat", after: "chat2" },
    ]);
  });

  it("updates only the code when only the code changed", async () => {
    const { model, ctx } = await setup();
    const actual = await kind.create(ctx, desired());
    model.calls.length = 0;
    const d = desired({ code: zipV2 });
    const updated = await kind.update(ctx, d, actual, kind.diff(d, actual));
    expect(writes(model)).toEqual(["UpdateFunctionCode"]);
    expect(updated.attributes.codeSha256).toBe(zipV2.sha256);
    expect(model.localFunction("my-chat-connect")?.codeSha256).toBe(zipV2.sha256);
  });

  it("updates only the configuration when only the configuration changed", async () => {
    const { model, ctx } = await setup();
    const actual = await kind.create(ctx, desired());
    model.calls.length = 0;
    const d = desired({ memory: 256, environment: { TABLE_CONNECTIONS: "my-chat-connections", LOG_LEVEL: "debug" } });
    const updated = await kind.update(ctx, d, actual, kind.diff(d, actual));
    expect(writes(model)).toEqual(["UpdateFunctionConfiguration"]);
    expect(updated.attributes.memory).toBe(256);
    expect(updated.attributes.environment).toEqual({ TABLE_CONNECTIONS: "my-chat-connections", LOG_LEVEL: "debug" });
    expect(updated.attributes.codeSha256).toBe(zipV1.sha256);
  });

  it("updates code, then configuration, then tags, waiting in between so Lambda never refuses", async () => {
    const { model, ctx } = await setup({ stateTransitionMs: 15 });
    const actual = await kind.create(ctx, desired());
    model.calls.length = 0;
    const d = desired({ code: zipV2, timeout: 29, tags: { team: "chat" } });
    const updated = await kind.update(ctx, d, actual, kind.diff(d, actual));
    expect(writes(model)).toEqual(["UpdateFunctionCode", "UpdateFunctionConfiguration", "TagResource", "UntagResource"]);
    // Between the two updates the kind looked until the code update had settled.
    const ops = model.calls.map((c) => c.operation);
    expect(ops.slice(ops.indexOf("UpdateFunctionCode") + 1, ops.indexOf("UpdateFunctionConfiguration"))).toContain("GetFunctionConfiguration");
    expect(updated.attributes).toMatchObject({ codeSha256: zipV2.sha256, timeout: 29, tags: { team: "chat" } });
    expect(updated.ownership).toEqual({ by: "tags", stack: "my-chat", id: "function.connect" });
  });

  it("waits out an update someone else started before making its own", async () => {
    const { model, ctx } = await setup({ stateTransitionMs: 15 });
    const actual = await kind.create(ctx, desired());
    await model.dispatch("UpdateFunctionConfiguration", { FunctionName: "my-chat-connect", Description: "changed by hand" });
    const d = desired({ timeout: 30 });
    const updated = await kind.update(ctx, d, actual, kind.diff(d, actual));
    expect(updated.attributes.timeout).toBe(30);
  });

  it("deletes the function", async () => {
    const { model, ctx } = await setup();
    const actual = await kind.create(ctx, desired());
    await kind.delete(ctx, actual);
    expect(model.functionNames()).toEqual([]);
    expect(await kind.read(ctx, desired())).toBeUndefined();
  });

  it("continues from a function an earlier run already created, bringing it to the spec", async () => {
    const { ctx } = await setup();
    await kind.create(ctx, desired({ timeout: 3 }));
    const again = await kind.create(ctx, desired());
    expect(again.attributes.timeout).toBe(10);
  });

  it("reports a function of our name owned by another stack, and does not take it over", async () => {
    const { model, ctx } = await setup();
    await model.dispatch("CreateFunction", {
      FunctionName: "my-chat-connect",
      Role: roleArn,
      Runtime: "nodejs22.x",
      Handler: "index.handler",
      Code: { ZipFile: zipSync({ "index.mjs": strToU8("export const handler = () => 1;") }) },
      Tags: { "chatctl:stack": "someone-else", "chatctl:id": "function.connect" },
    });
    const read = await kind.read(ctx, desired());
    expect(read?.ownership).toEqual({ by: "tags", stack: "someone-else", id: "function.connect" });
    const err = await errorOf(kind.create(ctx, desired()));
    expect(err.message).toMatch(/not owned by stack my-chat \(owner: someone-else\)/);
    expect(model.calls.map((c) => c.operation)).not.toContain("UpdateFunctionCode");
  });

  it("lets throttling surface with its AWS name", async () => {
    const { model, ctx } = await setup();
    model.beforeCall = () => {
      throw new AwsError("TooManyRequestsException", "Rate exceeded", 429);
    };
    expect((await errorOf(kind.read(ctx, desired()))).name).toBe("TooManyRequestsException");
    expect((await errorOf(kind.create(ctx, desired()))).name).toBe("TooManyRequestsException");
  });

  it("surfaces Lambda's role-propagation error in AWS's words", async () => {
    const { ctx } = await setup({ roles: { lookup: () => ({ createdAt: Date.now() }) }, rolePropagationMs: 60_000 });
    const err = await errorOf(kind.create(ctx, desired()));
    expect(err.name).toBe("InvalidParameterValueException");
    expect(err.message).toBe(ROLE_CANNOT_BE_ASSUMED);
  });

  it("refuses to upload a zip other than the one the plan was made for", async () => {
    const { ctx } = await setup();
    const err = await errorOf(kind.create(ctx, desired({ code: { sha256: zipV2.sha256, zipPath: zipV1.zipPath } })));
    expect(err.message).toMatch(/run the plan again/);
  });

  it("lists this stack's functions with their logical ids, across pages", async () => {
    const { model, ctx } = await setup({ pageSize: 1 });
    await kind.create(ctx, desired());
    await kind.create(ctx, { ...desired({ functionName: "my-chat-default" }), id: "function.default" });
    await model.dispatch("CreateFunction", {
      FunctionName: "unrelated",
      Role: roleArn,
      Runtime: "nodejs22.x",
      Handler: "index.handler",
      Code: { ZipFile: zipSync({ "index.mjs": strToU8("export const handler = () => 1;") }) },
    });
    const listed = await kind.list(ctx);
    expect(listed.map((a) => [a.logicalId, a.outputs["functionName"]])).toEqual([
      ["function.connect", "my-chat-connect"],
      ["function.default", "my-chat-default"],
    ]);
  });
});
