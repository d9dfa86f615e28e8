import { createHash } from "node:crypto";
import {
  AddPermissionCommand,
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  GetPolicyCommand,
  InvokeCommand,
  LambdaClient,
  ListFunctionsCommand,
  ListTagsCommand,
  RemovePermissionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  paginateListFunctions,
} from "@aws-sdk/client-lambda";
import { strToU8, zipSync } from "fflate";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startFrontDoor, type FrontDoor } from "../../src/local/front-door.js";
import { LambdaModel, ROLE_CANNOT_BE_ASSUMED } from "../../src/local/models/lambda.js";
import type { FunctionInvoker, LocalFunction } from "../../src/local/service.js";
import { lambdaWire } from "../../src/local/wire/lambda.js";
import { errorOf } from "../support/ctx.js";

const region = "us-east-1";
const accountId = "123456789012";
const role = `arn:aws:iam::${accountId}:role/chatctl/my-chat-connect`;
const zip = zipSync({ "index.mjs": strToU8("export const handler = async (e) => ({ statusCode: 200, body: JSON.stringify(e) });") });
const sha = (b: Uint8Array): string => createHash("sha256").update(b).digest("base64");

describe("Lambda over the wire (real LambdaClient -> front door -> model)", () => {
  let door: FrontDoor;
  let model: LambdaModel;
  let lambda: LambdaClient;
  const invoked: Array<{ fn: LocalFunction; payload: string }> = [];
  const invoker: FunctionInvoker = {
    async invoke(fn, payload) {
      const text = new TextDecoder().decode(payload);
      invoked.push({ fn, payload: text });
      if (text.includes("boom")) {
        return {
          statusCode: 200,
          payload: strToU8(JSON.stringify({ errorType: "Error", errorMessage: "boom" })),
          functionError: "Unhandled",
          logTail: "START\nERROR boom\nEND\n",
        };
      }
      return { statusCode: 200, payload: strToU8(JSON.stringify({ echo: JSON.parse(text) as unknown, env: fn.environment })), logTail: "hello from the handler\n" };
    },
  };

  beforeEach(async () => {
    invoked.length = 0;
    model = new LambdaModel({ region, accountId, invoker, pageSize: 2 });
    door = await startFrontDoor([lambdaWire(model)]);
    lambda = new LambdaClient({ region, endpoint: door.url, credentials: { accessKeyId: "x", secretAccessKey: "y" }, maxAttempts: 1 });
  });
  afterEach(async () => {
    lambda.destroy();
    await door.close();
  });

  const create = (name: string, extra: Partial<ConstructorParameters<typeof CreateFunctionCommand>[0]> = {}) =>
    lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Role: role,
        Runtime: "nodejs22.x",
        Handler: "index.handler",
        Code: { ZipFile: zip },
        Environment: { Variables: { TABLE_CONNECTIONS: "my-chat-connections" } },
        Tags: { "chatctl:stack": "my-chat" },
        ...extra,
      }),
    );

  it("creates a function and reads it back with code identity, configuration and tags", async () => {
    const created = await create("my-chat-connect", { Timeout: 29, MemorySize: 256, Description: "connect" });
    expect(created.FunctionArn).toBe(`arn:aws:lambda:${region}:${accountId}:function:my-chat-connect`);
    expect(created.CodeSha256).toBe(sha(zip));
    expect(created.CodeSize).toBe(zip.byteLength);
    expect(created.State).toBe("Pending"); // AWS answers create before the function is ready

    const got = await lambda.send(new GetFunctionCommand({ FunctionName: "my-chat-connect" }));
    expect(got.Configuration).toMatchObject({
      State: "Active",
      LastUpdateStatus: "Successful",
      Runtime: "nodejs22.x",
      Handler: "index.handler",
      Timeout: 29,
      MemorySize: 256,
      Description: "connect",
      Role: role,
      Environment: { Variables: { TABLE_CONNECTIONS: "my-chat-connections" } },
    });
    expect(got.Tags).toEqual({ "chatctl:stack": "my-chat" });
    expect(got.Code?.Location).toMatch(/^https:\/\//);

    const byArn = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: created.FunctionArn }));
    expect(byArn.FunctionName).toBe("my-chat-connect");
  });

  it("refuses a second function of the same name, an unknown runtime and a broken zip", async () => {
    await create("dup");
    const again = await errorOf(create("dup"));
    expect(again.name).toBe("ResourceConflictException");
    expect(again.message).toBe("Function already exist: dup");
    expect(again.$metadata?.httpStatusCode).toBe(409);

    const runtime = await errorOf(create("old", { Runtime: "nodejs18.x" }));
    expect(runtime.name).toBe("InvalidParameterValueException");

    const badZip = await errorOf(create("badzip", { Code: { ZipFile: strToU8("not a zip") } }));
    expect(badZip.name).toBe("InvalidParameterValueException");
    expect(badZip.message).toBe("Could not unzip uploaded file. Please check your file, then try to upload again.");

    const timeout = await errorOf(create("slow", { Timeout: 901 }));
    expect(timeout.name).toBe("ValidationException");
  });

  it("says the role cannot be assumed, in AWS's words, until the role has propagated", async () => {
    const roles = new Map<string, { createdAt: number }>();
    const strict = new LambdaModel({ region, accountId, roles: { lookup: (arn) => roles.get(arn) }, rolePropagationMs: 60_000 });
    const strictDoor = await startFrontDoor([lambdaWire(strict)]);
    const client = new LambdaClient({ region, endpoint: strictDoor.url, credentials: { accessKeyId: "x", secretAccessKey: "y" }, maxAttempts: 1 });
    try {
      const input = { FunctionName: "f", Role: role, Runtime: "nodejs22.x" as const, Handler: "index.handler", Code: { ZipFile: zip } };
      const unknown = await errorOf(client.send(new CreateFunctionCommand(input)));
      expect(unknown.name).toBe("InvalidParameterValueException");
      expect(unknown.message).toBe(ROLE_CANNOT_BE_ASSUMED);
      roles.set(role, { createdAt: Date.now() });
      const fresh = await errorOf(client.send(new CreateFunctionCommand(input)));
      expect(fresh.message).toBe("The role defined for the function cannot be assumed by Lambda.");
      roles.set(role, { createdAt: Date.now() - 120_000 });
      await expect(client.send(new CreateFunctionCommand(input))).resolves.toMatchObject({ FunctionName: "f" });
    } finally {
      client.destroy();
      await strictDoor.close();
    }
  });

  it("updates code and configuration, one at a time", async () => {
    await create("upd");
    const code2 = zipSync({ "index.mjs": strToU8("export const handler = async () => 2;") });
    const afterCode = await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: "upd", ZipFile: code2 }));
    expect(afterCode.LastUpdateStatus).toBe("InProgress");
    expect(afterCode.CodeSha256).toBe(sha(code2));
    const afterConfig = await lambda.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: "upd", Timeout: 10, Environment: { Variables: { LEVEL: "debug" } } }),
    );
    expect(afterConfig).toMatchObject({ Timeout: 10, Environment: { Variables: { LEVEL: "debug" } } });
    const read = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: "upd" }));
    expect(read).toMatchObject({ LastUpdateStatus: "Successful", CodeSha256: sha(code2), Timeout: 10 });
  });

  it("refuses an update while another is in progress, as AWS does", async () => {
    const slow = new LambdaModel({ region, accountId, stateTransitionMs: 60_000 });
    const slowDoor = await startFrontDoor([lambdaWire(slow)]);
    const client = new LambdaClient({ region, endpoint: slowDoor.url, credentials: { accessKeyId: "x", secretAccessKey: "y" }, maxAttempts: 1 });
    try {
      await client.send(new CreateFunctionCommand({ FunctionName: "busy", Role: role, Runtime: "nodejs22.x", Handler: "index.handler", Code: { ZipFile: zip } }));
      const pending = await errorOf(client.send(new UpdateFunctionConfigurationCommand({ FunctionName: "busy", Timeout: 5 })));
      expect(pending.name).toBe("ResourceConflictException");
      expect((await client.send(new GetFunctionConfigurationCommand({ FunctionName: "busy" }))).State).toBe("Pending");
    } finally {
      client.destroy();
      await slowDoor.close();
    }
  });

  it("lists functions page by page with Marker/NextMarker", async () => {
    for (const n of ["a", "b", "c", "d", "e"]) await create(n);
    const first = await lambda.send(new ListFunctionsCommand({}));
    expect(first.Functions?.map((f) => f.FunctionName)).toEqual(["a", "b"]);
    expect(first.NextMarker).toBeDefined();
    const names: string[] = [];
    for await (const page of paginateListFunctions({ client: lambda }, {})) names.push(...(page.Functions ?? []).map((f) => f.FunctionName ?? ""));
    expect(names).toEqual(["a", "b", "c", "d", "e"]);
    const one = await lambda.send(new ListFunctionsCommand({ MaxItems: 1, Marker: first.NextMarker }));
    expect(one.Functions?.map((f) => f.FunctionName)).toEqual(["c"]);
  });

  it("adds, reads and removes permissions, with AWS's policy JSON", async () => {
    const { FunctionArn } = await create("perm");
    const noPolicy = await errorOf(lambda.send(new GetPolicyCommand({ FunctionName: "perm" })));
    expect(noPolicy.name).toBe("ResourceNotFoundException");
    const sourceArn = `arn:aws:execute-api:${region}:${accountId}:abc123/*`;
    const added = await lambda.send(
      new AddPermissionCommand({
        FunctionName: "perm",
        StatementId: "chatctl-apigateway",
        Action: "lambda:InvokeFunction",
        Principal: "apigateway.amazonaws.com",
        SourceArn: sourceArn,
      }),
    );
    expect(JSON.parse(added.Statement ?? "{}")).toMatchObject({ Sid: "chatctl-apigateway" });
    const dup = await errorOf(
      lambda.send(new AddPermissionCommand({ FunctionName: "perm", StatementId: "chatctl-apigateway", Action: "lambda:InvokeFunction", Principal: "apigateway.amazonaws.com" })),
    );
    expect(dup.name).toBe("ResourceConflictException");
    const policy = await lambda.send(new GetPolicyCommand({ FunctionName: "perm" }));
    expect(JSON.parse(policy.Policy ?? "{}")).toEqual({
      Version: "2012-10-17",
      Id: "default",
      Statement: [
        {
          Sid: "chatctl-apigateway",
          Effect: "Allow",
          Principal: { Service: "apigateway.amazonaws.com" },
          Action: "lambda:InvokeFunction",
          Resource: FunctionArn,
          Condition: { ArnLike: { "AWS:SourceArn": sourceArn } },
        },
      ],
    });
    expect(policy.RevisionId).toBeDefined();
    await lambda.send(new RemovePermissionCommand({ FunctionName: "perm", StatementId: "chatctl-apigateway" }));
    const gone = await errorOf(lambda.send(new RemovePermissionCommand({ FunctionName: "perm", StatementId: "chatctl-apigateway" })));
    expect(gone.name).toBe("ResourceNotFoundException");
    expect(gone.message).toBe("Statement chatctl-apigateway is not found in resource policy.");
  });

  it("tags and untags by ARN", async () => {
    const { FunctionArn } = await create("tagged");
    await lambda.send(new TagResourceCommand({ Resource: FunctionArn, Tags: { app: "chat", team: "x" } }));
    await lambda.send(new UntagResourceCommand({ Resource: FunctionArn, TagKeys: ["team", "chatctl:stack"] }));
    const { Tags } = await lambda.send(new ListTagsCommand({ Resource: FunctionArn }));
    expect(Tags).toEqual({ app: "chat" });
  });

  it("invokes through the attached runner: payload, environment, function error and log tail", async () => {
    await create("inv");
    const ok = await lambda.send(new InvokeCommand({ FunctionName: "inv", Payload: JSON.stringify({ hi: 1 }), LogType: "Tail" }));
    expect(ok.StatusCode).toBe(200);
    expect(ok.FunctionError).toBeUndefined();
    expect(JSON.parse(ok.Payload?.transformToString() ?? "")).toEqual({ echo: { hi: 1 }, env: { TABLE_CONNECTIONS: "my-chat-connections" } });
    expect(Buffer.from(ok.LogResult ?? "", "base64").toString()).toBe("hello from the handler\n");
    expect(invoked[0]?.fn.functionName).toBe("inv");

    const failed = await lambda.send(new InvokeCommand({ FunctionName: "inv", Payload: JSON.stringify("boom"), LogType: "Tail" }));
    expect(failed.FunctionError).toBe("Unhandled");
    expect(JSON.parse(failed.Payload?.transformToString() ?? "")).toMatchObject({ errorMessage: "boom" });
    expect(Buffer.from(failed.LogResult ?? "", "base64").toString()).toContain("ERROR boom");

    const notJson = await errorOf(lambda.send(new InvokeCommand({ FunctionName: "inv", Payload: "{nope" })));
    expect(notJson.name).toBe("InvalidRequestContentException");
  });

  it("invokes with the new configuration and code once an update has settled", async () => {
    await create("changing");
    const envOf = async (): Promise<unknown> => (JSON.parse((await lambda.send(new InvokeCommand({ FunctionName: "changing", Payload: "{}" }))).Payload?.transformToString() ?? "") as { env: unknown }).env;
    expect(await envOf()).toEqual({ TABLE_CONNECTIONS: "my-chat-connections" });
    await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: "changing", Environment: { Variables: { LEVEL: "debug" } } }));
    expect(await envOf()).toEqual({ LEVEL: "debug" });
    // New code whose zip lacks the handler's module: the next invocation fails as Lambda's would.
    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: "changing", ZipFile: zipSync({ "other.mjs": strToU8("export const handler = async () => 1;") }) }));
    const out = await lambda.send(new InvokeCommand({ FunctionName: "changing", Payload: "{}" }));
    expect(JSON.parse(out.Payload?.transformToString() ?? "")).toMatchObject({ errorType: "Runtime.ImportModuleError" });
    expect(invoked.map((i) => i.fn.environment)).toEqual([{ TABLE_CONNECTIONS: "my-chat-connections" }, { LEVEL: "debug" }]);
  });

  it("fails at invoke, not at create, when the zip lacks the handler file", async () => {
    await create("nohandler", { Handler: "main.handler" });
    const out = await lambda.send(new InvokeCommand({ FunctionName: "nohandler", Payload: "{}" }));
    expect(out.FunctionError).toBe("Unhandled");
    expect(JSON.parse(out.Payload?.transformToString() ?? "")).toMatchObject({ errorType: "Runtime.ImportModuleError" });
    expect(invoked).toHaveLength(0);
  });

  it("says the local runner is missing when none is attached", async () => {
    const bare = new LambdaModel({ region, accountId });
    const bareDoor = await startFrontDoor([lambdaWire(bare)]);
    const client = new LambdaClient({ region, endpoint: bareDoor.url, credentials: { accessKeyId: "x", secretAccessKey: "y" }, maxAttempts: 1 });
    try {
      await client.send(new CreateFunctionCommand({ FunctionName: "f", Role: role, Runtime: "nodejs22.x", Handler: "index.handler", Code: { ZipFile: zip } }));
      const err = await errorOf(client.send(new InvokeCommand({ FunctionName: "f", Payload: "{}" })));
      expect(err.name).toBe("ServiceException");
      expect(err.message).toMatch(/runner is not attached/);
    } finally {
      client.destroy();
      await bareDoor.close();
    }
  });

  it("maps throttling and missing functions to the SDK's exceptions", async () => {
    const missing = await errorOf(lambda.send(new GetFunctionCommand({ FunctionName: "nope" })));
    expect(missing.name).toBe("ResourceNotFoundException");
    expect(missing.message).toBe(`Function not found: arn:aws:lambda:${region}:${accountId}:function:nope`);
    expect(missing.$metadata?.httpStatusCode).toBe(404);

    const { AwsError } = await import("../../src/local/service.js");
    model.beforeCall = () => {
      throw new AwsError("TooManyRequestsException", "Rate exceeded", 429);
    };
    const throttled = await errorOf(lambda.send(new ListFunctionsCommand({})));
    expect(throttled.name).toBe("TooManyRequestsException");
    expect(throttled.$metadata?.httpStatusCode).toBe(429);
  });

  it("deletes, and a second delete says the function is gone", async () => {
    await create("del");
    await lambda.send(new DeleteFunctionCommand({ FunctionName: "del" }));
    const again = await errorOf(lambda.send(new DeleteFunctionCommand({ FunctionName: "del" })));
    expect(again.name).toBe("ResourceNotFoundException");
    expect(model.functionNames()).toEqual([]);
  });
});
