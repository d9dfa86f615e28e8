import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { LambdaRunner, type LogLine, type LogStreamRef } from "../../src/local/runner/runner.js";
import type { InvokeResult, LocalFunction } from "../../src/local/service.js";
import { localFunction, payloadJson } from "../support/functions.js";


const input = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value));

describe("LambdaRunner", () => {
  const logs: Array<{ fn: string; lines: readonly LogLine[]; stream: LogStreamRef }> = [];
  let runner: LambdaRunner | undefined;
  const start = (): LambdaRunner => {
    runner = new LambdaRunner({ endpointUrl: "http://127.0.0.1:4566", logSink: (fn, lines, stream) => void logs.push({ fn, lines, stream }) });
    return runner;
  };
  afterEach(async () => {
    await runner?.close();
    logs.length = 0;
  });

  it("runs an ESM handler with the event, its environment and Lambda's reserved variables", async () => {
    const fn = localFunction(
      "esm",
      {
        "index.mjs": `export const handler = async (event, context) => ({
          got: event.value,
          table: process.env.TABLE_NAME,
          endpoint: process.env.AWS_ENDPOINT_URL,
          region: process.env.AWS_REGION,
          name: process.env.AWS_LAMBDA_FUNCTION_NAME,
          memory: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
          hasKey: Boolean(process.env.AWS_ACCESS_KEY_ID && process.env.AWS_SECRET_ACCESS_KEY && process.env.AWS_SESSION_TOKEN),
          requestId: typeof context.awsRequestId,
          remaining: context.getRemainingTimeInMillis() > 0,
        });`,
      },
      { environment: { TABLE_NAME: "connections" } },
    );
    const result = await start().invoke(fn, input({ value: 7 }));
    expect(result.functionError).toBeUndefined();
    expect(payloadJson(result)).toEqual({
      got: 7,
      table: "connections",
      endpoint: "http://127.0.0.1:4566",
      region: "eu-west-1",
      name: "esm",
      memory: "128",
      hasKey: true,
      requestId: "string",
      remaining: true,
    });
  });

  it("runs CommonJS handlers (.js and .cjs) and callback-style handlers", async () => {
    const r = start();
    const cjs = localFunction("cjs", { "index.js": `exports.handler = async (e) => ({ kind: "js", n: e.n });` });
    const cjs2 = localFunction("cjs2", { "app.cjs": `module.exports.main = (e, ctx, cb) => cb(null, { kind: "callback" });` }, { handler: "app.main" });
    const nested = localFunction("nested", { "src/fns.mjs": `export const handlers = { hello: async () => "hi" };` }, { handler: "src/fns.handlers.hello" });
    expect(payloadJson(await r.invoke(cjs, input({ n: 1 })))).toEqual({ kind: "js", n: 1 });
    expect(payloadJson(await r.invoke(cjs2, input({})))).toEqual({ kind: "callback" });
    expect(payloadJson(await r.invoke(nested, input({})))).toBe("hi");
  });

  it("keeps a worker warm between invocations and starts fresh when the code changes", async () => {
    const r = start();
    const v1 = localFunction("warm", { "index.mjs": `let n = 0; export const handler = async () => ({ v: 1, n: ++n });` });
    expect(payloadJson(await r.invoke(v1, input({})))).toEqual({ v: 1, n: 1 });
    expect(payloadJson(await r.invoke(v1, input({})))).toEqual({ v: 1, n: 2 });
    const v2 = localFunction("warm", { "index.mjs": `let n = 0; export const handler = async () => ({ v: 2, n: ++n });` });
    expect(payloadJson(await r.invoke(v2, input({})))).toEqual({ v: 2, n: 1 });
    const v2env = { ...v2, environment: { X: "1" } };
    expect(payloadJson(await r.invoke(v2env, input({})))).toEqual({ v: 2, n: 1 });
  });

  it("runs concurrent invocations of one function side by side, each worker one at a time", async () => {
    const r = start();
    const fn = localFunction("pool", {
      "index.mjs": `let busy = false; export const handler = async () => {
        if (busy) throw new Error("overlap");
        busy = true; await new Promise((r) => setTimeout(r, 50)); busy = false; return "ok";
      };`,
    });
    const results = await Promise.all(Array.from({ length: 6 }, () => r.invoke(fn, input({}))));
    expect(results.map((x) => x.functionError)).toEqual(Array(6).fill(undefined));
    expect(results.map(payloadJson)).toEqual(Array(6).fill("ok"));
  });

  /**
   * Invokes `fn` `count` times, one arrival every `gapMs`, with at most 3 workers; how many
   * times an invocation started (its START line, stamped on the runner's thread) before one
   * that arrived earlier.
   */
  async function overtakings(fn: LocalFunction, count: number, gapMs: number): Promise<number> {
    const startedAt: number[] = [];
    runner = new LambdaRunner({
      endpointUrl: "http://127.0.0.1:4566",
      maxWorkersPerFunction: 3,
      logSink: (_fn, lines) => {
        const begin = lines.find((l) => l.message.startsWith("START "));
        const arrival = lines.map((l) => /arrival=(\d+)/.exec(l.message)?.[1]).find((a) => a !== undefined);
        if (begin && arrival !== undefined) startedAt[Number(arrival)] = begin.timestamp;
      },
    });
    const all: Promise<InvokeResult>[] = [];
    for (let arrival = 0; arrival < count; arrival++) {
      all.push(runner.invoke(fn, input({ arrival })));
      await new Promise((res) => setTimeout(res, gapMs));
    }
    const results = await Promise.all(all);
    expect(results.map((x) => x.functionError)).toEqual(Array(count).fill(undefined));
    expect(startedAt.filter((t) => t !== undefined)).toHaveLength(count);
    return startedAt.map((at, i) => startedAt.slice(0, i).filter((earlier) => earlier > at).length).reduce((x, y) => x + y, 0);
  }

  it("serves invocations of one function in arrival order while workers are busy and more are being added", async () => {
    // Slow (waiting on I/O) invocations: the runner adds workers, and those that wait meanwhile keep their turn.
    const fn = localFunction("fifo", { "index.mjs": `export const handler = async (event) => { console.log("arrival=" + event.arrival); await new Promise((r) => setTimeout(r, 120)); return "ok"; };` });
    expect(await overtakings(fn, 24, 15)).toBe(0);
  });

  it("starts invocations in arrival order while a new worker loads its module", async () => {
    // A worker released while a new one still loads must not start a later arrival before the one waiting longest.
    const fn = localFunction("slow-init", {
      "index.mjs": `await new Promise((r) => setTimeout(r, 300));
        export const handler = async (event) => { console.log("arrival=" + event.arrival); await new Promise((r) => setTimeout(r, 250)); return "ok"; };`,
    });
    expect(await overtakings(fn, 10, 40)).toBe(0);
  });

  it("adds no worker past one per core while the busy ones compute", async () => {
    const streams = new Set<string>();
    runner = new LambdaRunner({ endpointUrl: "http://127.0.0.1:4566", maxWorkersPerFunction: 6, logSink: (_fn, _lines, stream) => void streams.add(stream.logStreamName) });
    const fn = localFunction("cpu", { "index.mjs": `export const handler = async () => { const end = Date.now() + 250; while (Date.now() < end); return "ok"; };` });
    const results = await Promise.all(Array.from({ length: 6 }, () => runner!.invoke(fn, input({}))));
    expect(results.map(payloadJson)).toEqual(Array(6).fill("ok"));
    expect(streams.size).toBeLessThanOrEqual(availableParallelism());
  });

  it("gives short invocations queued behind a busy worker one worker per core, and a steady trickle only one", async () => {
    runner = new LambdaRunner({ endpointUrl: "http://127.0.0.1:4566", maxWorkersPerFunction: 8 });
    const r = runner;
    // A $connect-like handler: a few ms waiting on I/O, never long enough to look slow.
    const fn = localFunction("short", { "index.mjs": `export const handler = async () => { await new Promise((r) => setTimeout(r, 3)); return "ok"; };` });
    for (let i = 0; i < 5; i++) expect(payloadJson(await r.invoke(fn, input({})))).toBe("ok");
    expect(r.warmWorkers("short")).toBe(1);
    const burst = await Promise.all(Array.from({ length: 32 }, () => r.invoke(fn, input({}))));
    expect(burst.map(payloadJson)).toEqual(Array(32).fill("ok"));
    // One per core (maxWorkersPerFunction is 8): 2 on the 2-core machine this was measured on.
    expect(r.warmWorkers("short")).toBe(Math.min(availableParallelism(), 8));
  });

  it("adds a worker per core for a burst that queues behind the first cold start, before any invocation has finished", async () => {
    // Lambda scales on concurrency, not on how long calls took: 8 arrivals at a fresh function
    // wait on one module load. A second worker starts now, not once the first call is done.
    const gateDir = mkdtempSync(join(tmpdir(), "chatctl-runner-gate-"));
    const gate = join(gateDir, "open");
    runner = new LambdaRunner({ endpointUrl: "http://127.0.0.1:4566", maxWorkersPerFunction: 8 });
    const r = runner;
    const fn = localFunction("gated", {
      "index.mjs": `import { existsSync } from "node:fs";
        while (!existsSync(${JSON.stringify(gate)})) await new Promise((r) => setTimeout(r, 10));
        export const handler = async () => "ok";`,
    });
    const burst = Promise.all(Array.from({ length: 8 }, () => r.invoke(fn, input({}))));
    const expected = Math.min(availableParallelism(), 8);
    try {
      await vi.waitFor(() => expect(r.warmWorkers("gated")).toBe(expected), { timeout: 5000, interval: 20 });
    } finally {
      writeFileSync(gate, "");
    }
    expect((await burst).map(payloadJson)).toEqual(Array(8).fill("ok"));
    rmSync(gateDir, { recursive: true, force: true });
  });

  it("keeps one worker for a queue of medium invocations, each done before it looks slow", async () => {
    runner = new LambdaRunner({ endpointUrl: "http://127.0.0.1:4566", maxWorkersPerFunction: 8 });
    const r = runner;
    // A broadcast-like handler: ~60 ms a call, 8 in flight (the window-8 benchmark's shape).
    const fn = localFunction("medium", { "index.mjs": `export const handler = async () => { await new Promise((r) => setTimeout(r, 60)); return "ok"; };` });
    expect(payloadJson(await r.invoke(fn, input({})))).toBe("ok");
    const queue = await Promise.all(Array.from({ length: 8 }, () => r.invoke(fn, input({}))));
    expect(queue.map(payloadJson)).toEqual(Array(8).fill("ok"));
    expect(r.warmWorkers("medium")).toBe(1);
  });

  it("stops workers left idle after a burst but one, which keeps its state and serves the next invocation", async () => {
    runner = new LambdaRunner({ endpointUrl: "http://127.0.0.1:4566", maxWorkersPerFunction: 3, idleWorkerMs: 50 });
    const r = runner;
    // Slow invocations in parallel make the runner add workers; each names itself and counts its invocations.
    const fn = localFunction("burst", {
      "index.mjs": `const id = Math.random(); let n = 0; export const handler = async (e) => { n++; if (e.slow) await new Promise((r) => setTimeout(r, 1000)); return { id, n }; };`,
    });
    type Seen = { id: number; n: number };
    const burst = (await Promise.all(Array.from({ length: 4 }, () => r.invoke(fn, input({ slow: true }))))).map((x) => payloadJson(x) as Seen);
    const ids = new Set(burst.map((b) => b.id));
    expect(ids.size).toBeGreaterThan(1);
    await vi.waitFor(() => expect(r.warmWorkers("burst")).toBe(1), { timeout: 5000, interval: 20 });
    // The one kept is warm: one of the burst's workers, its module state carried on.
    const next = payloadJson(await r.invoke(fn, input({}))) as Seen;
    expect(ids.has(next.id)).toBe(true);
    expect(next.n).toBe(Math.max(...burst.filter((b) => b.id === next.id).map((b) => b.n)) + 1);
    expect(r.warmWorkers("burst")).toBe(1);
  });

  it("reports a thrown error as Unhandled with errorType, errorMessage and trace", async () => {
    const fn = localFunction("throws", { "index.mjs": `export const handler = async () => { throw new TypeError("bad input"); };` });
    const result = await start().invoke(fn, input({}));
    expect(result.functionError).toBe("Unhandled");
    const body = payloadJson(result) as { errorType: string; errorMessage: string; trace: string[] };
    expect(body.errorType).toBe("TypeError");
    expect(body.errorMessage).toBe("bad input");
    expect(body.trace[0]).toContain("TypeError: bad input");
  });

  it("reports a missing handler export or module like Lambda's runtime", async () => {
    const r = start();
    const noExport = localFunction("noexport", { "index.mjs": `export const other = 1;` });
    const noFile = localFunction("nofile", { "main.mjs": `export const handler = 1;` });
    expect((payloadJson(await r.invoke(noExport, input({}))) as { errorType: string }).errorType).toBe("Runtime.HandlerNotFound");
    expect((payloadJson(await r.invoke(noFile, input({}))) as { errorType: string }).errorType).toBe("Runtime.ImportModuleError");
  });

  it("provides the AWS SDK v3 packages chatctl has, as the runtime does, and names one it cannot provide with how to install it", async () => {
    const r = start();
    const sdk = localFunction("sdk", {
      "index.mjs": `import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { ApiGatewayManagementApiClient } from "@aws-sdk/client-apigatewaymanagementapi";
export const handler = async () => [typeof DynamoDBClient, typeof DynamoDBDocumentClient.from, typeof ApiGatewayManagementApiClient];`,
    });
    expect(payloadJson(await r.invoke(sdk, input({})))).toEqual(["function", "function", "function"]);
    const s3 = localFunction("s3", { "index.mjs": `import { S3Client } from "@aws-sdk/client-s3";\nexport const handler = async () => typeof S3Client;` });
    const body = payloadJson(await r.invoke(s3, input({}))) as { errorType: string; errorMessage: string };
    expect(body.errorType).toBe("Runtime.ImportModuleError");
    expect(body.errorMessage).toContain("@aws-sdk/client-s3");
    expect(body.errorMessage).toContain("npm install @aws-sdk/client-s3");
  });

  it("enforces the timeout, then serves the next invocation from a fresh worker", async () => {
    const r = start();
    const fn = localFunction(
      "slow",
      { "index.mjs": `let n = 0; export const handler = async (e) => { n++; if (e.hang) await new Promise(() => setInterval(() => {}, 1000)); return n; };` },
      { timeoutSeconds: 1 },
    );
    expect(payloadJson(await r.invoke(fn, input({})))).toBe(1);
    const timedOut = await r.invoke(fn, input({ hang: true }));
    expect(timedOut.functionError).toBe("Unhandled");
    expect(payloadJson(timedOut)).toMatchObject({ errorType: "Sandbox.Timedout", errorMessage: expect.stringContaining("Task timed out after 1.00 seconds") });
    expect(payloadJson(await r.invoke(fn, input({})))).toBe(1); // n restarted: a new worker
    const lines = logs.flatMap((l) => l.lines.map((x) => x.message));
    expect(lines.some((m) => m.endsWith("Task timed out after 1.00 seconds"))).toBe(true);
  });

  it("delivers console output to the log sink between START, END and REPORT lines", async () => {
    const fn = localFunction("logger", {
      "index.mjs": `console.log("init line");
        export const handler = async () => { console.log("hello %s", "world"); console.error("oops"); process.stdout.write("raw\\n"); return null; };`,
    });
    const result = await start().invoke(fn, input({}));
    expect(payloadJson(result)).toBeNull();
    const all = (): string[] => logs.flatMap((l) => l.lines.map((x) => x.message));
    // Raw stdout travels on its own stream and may come after the result.
    for (let i = 0; i < 300 && !all().includes("raw"); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    const messages = all();
    const startAt = messages.findIndex((m) => m.startsWith("START RequestId: "));
    const requestId = messages[startAt]?.split(" ")[2];
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(messages.findIndex((m) => m.endsWith("\tundefined\tINFO\tinit line"))).toBeLessThan(startAt);
    expect(messages).toContainEqual(expect.stringMatching(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\t${requestId}\\tINFO\\thello world$`)));
    expect(messages).toContainEqual(expect.stringMatching(new RegExp(`\\t${requestId}\\tERROR\\toops$`)));
    expect(messages).toContain("raw");
    expect(messages).toContain(`END RequestId: ${requestId}`);
    expect(messages).toContainEqual(expect.stringMatching(new RegExp(`^REPORT RequestId: ${requestId}\\tDuration: [\\d.]+ ms\\tBilled Duration: \\d+ ms\\tMemory Size: 128 MB`)));
    expect(logs[0]?.fn).toBe("logger");
    expect(logs[0]?.stream.logGroupName).toBe("/aws/lambda/logger");
    expect(logs[0]?.stream.logStreamName).toMatch(/^\d{4}\/\d\d\/\d\d\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(result.logTail).toContain("hello world");
  });
});
