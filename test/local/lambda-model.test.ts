import { strToU8, zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { LambdaModel } from "../../src/local/models/lambda.js";
import type { FunctionInvoker, LocalFunction } from "../../src/local/service.js";

const region = "ap-northeast-1";
const accountId = "123456789012";
const role = `arn:aws:iam::${accountId}:role/chatctl/f`;
const zipOf = (body: string): Uint8Array => zipSync({ "index.js": strToU8(body) });

function recordingInvoker(): FunctionInvoker & { seen: LocalFunction[] } {
  const seen: LocalFunction[] = [];
  return {
    seen,
    invoke(fn) {
      seen.push(fn);
      return Promise.resolve({ statusCode: 200, payload: strToU8(JSON.stringify(fn.codeSha256)) });
    },
  };
}

async function createF(model: LambdaModel, extra: Record<string, unknown> = {}): Promise<void> {
  await model.dispatch("CreateFunction", {
    FunctionName: "f",
    Role: role,
    Runtime: "nodejs22.x",
    Handler: "index.handler",
    Code: { ZipFile: zipOf("exports.handler = async () => 1;") },
    Environment: { Variables: { TABLE_CONNECTIONS: "t" } },
    ...extra,
  });
}

describe("Lambda model, as the local cloud uses it", () => {
  it("hands the runner the function with its environment, by name or ARN", async () => {
    const model = new LambdaModel({ region, accountId });
    await createF(model, { Timeout: 7, MemorySize: 512 });
    const fn = model.localFunction("f");
    expect(fn).toMatchObject({
      functionName: "f",
      functionArn: `arn:aws:lambda:${region}:${accountId}:function:f`,
      runtime: "nodejs22.x",
      handler: "index.handler",
      timeoutSeconds: 7,
      memoryMb: 512,
      environment: { TABLE_CONNECTIONS: "t" },
    });
    expect(model.localFunction(`arn:aws:lambda:${region}:${accountId}:function:f`)?.functionName).toBe("f");
    expect(model.localFunction(`arn:aws:lambda:us-west-2:${accountId}:function:f`)).toBeUndefined();
    expect(model.localFunction("nope")).toBeUndefined();
    expect(model.functionNames()).toEqual(["f"]);
  });

  it("keeps serving the previous code while an update is in progress, as AWS does", async () => {
    const model = new LambdaModel({ region, accountId, stateTransitionMs: 30 });
    const invoker = recordingInvoker();
    model.setInvoker(invoker);
    await createF(model);
    expect(model.localFunction("f")).toBeUndefined(); // Pending: nothing to run yet
    const pending = await model.dispatch("Invoke", { FunctionName: "f", Payload: "{}" }).catch((e: unknown) => e);
    expect((pending as Error).name).toBe("ResourceConflictException");

    await new Promise((r) => setTimeout(r, 40));
    const before = model.localFunction("f")?.codeSha256;
    const updated = await model.dispatch("UpdateFunctionCode", { FunctionName: "f", ZipFile: zipOf("exports.handler = async () => 2;") });
    expect(model.localFunction("f")?.codeSha256).toBe(before);
    const second = await model.dispatch("UpdateFunctionConfiguration", { FunctionName: "f", Timeout: 9 }).catch((e: unknown) => e);
    expect((second as Error).name).toBe("ResourceConflictException");
    expect((second as Error).message).toBe(
      `The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:${region}:${accountId}:function:f`,
    );

    await new Promise((r) => setTimeout(r, 40));
    expect(model.localFunction("f")?.codeSha256).toBe(updated["CodeSha256"]);
    await model.dispatch("Invoke", { FunctionName: "f", Payload: "{}" });
    expect(invoker.seen.at(-1)?.codeSha256).toBe(updated["CodeSha256"]);
  });

  it("accepts an asynchronous invocation at once", async () => {
    const model = new LambdaModel({ region, accountId });
    const invoker = recordingInvoker();
    model.setInvoker(invoker);
    await createF(model);
    const out = await model.dispatch("Invoke", { FunctionName: "f", InvocationType: "Event", Payload: "{}" });
    expect(out["StatusCode"]).toBe(202);
    await new Promise((r) => setImmediate(r));
    expect(invoker.seen).toHaveLength(1);
  });

  it("refuses reserved environment variables and oversized environments in AWS's words", async () => {
    const model = new LambdaModel({ region, accountId });
    const reserved = await createF(model, { Environment: { Variables: { AWS_REGION: "x" } } }).catch((e: unknown) => e);
    expect((reserved as Error).name).toBe("InvalidParameterValueException");
    expect((reserved as Error).message).toMatch(/reserved keys .* AWS_REGION$/);
    const big = await createF(model, { Environment: { Variables: { BIG: "x".repeat(5000) } } }).catch((e: unknown) => e);
    expect((big as Error).message).toMatch(/exceeded the 4KB limit/);
  });
});
