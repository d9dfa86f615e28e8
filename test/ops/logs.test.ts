import { describe, expect, it } from "vitest";
import { followLogs, readLogs, type LogEvent } from "../../src/ops/logs.js";
import { clientsOn, makeModels, region, type Models } from "./world.js";

async function logGroup(models: Models, fn: string): Promise<void> {
  await models.logs.dispatch("CreateLogGroup", { logGroupName: `/aws/lambda/${fn}` });
}

async function emit(models: Models, fn: string, stream: string, events: Array<[number, string]>): Promise<void> {
  await models.logs.dispatch("CreateLogStream", { logGroupName: `/aws/lambda/${fn}`, logStreamName: stream }).catch(() => undefined);
  await models.logs.dispatch("PutLogEvents", {
    logGroupName: `/aws/lambda/${fn}`,
    logStreamName: stream,
    logEvents: events.map(([timestamp, message]) => ({ timestamp, message })),
  });
}

describe("lambda-logs", () => {
  it("reads every page since the start time, oldest first, across streams", async () => {
    const models = makeModels();
    const clients = await clientsOn(models);
    const now = Date.now();
    await logGroup(models, "chat");
    await emit(models, "chat", "2026/01/01/[$LATEST]aaaaaa11", [
      [now - 20 * 60_000, "too old"],
      [now - 5000, "START RequestId: 1\n"],
      [now - 3000, "hello one"],
    ]);
    await emit(models, "chat", "2026/01/01/[$LATEST]bbbbbb22", [
      [now - 4000, "hello two"],
      [now - 1000, "END RequestId: 1"],
    ]);
    const events = await readLogs(clients, { functionName: "chat", startTime: now - 10 * 60_000 });
    expect(events.map((e) => e.message)).toEqual(["START RequestId: 1", "hello two", "hello one", "END RequestId: 1"]);
    expect(events[1]).toMatchObject({ logStream: "2026/01/01/[$LATEST]bbbbbb22", time: new Date(now - 4000).toISOString() });
    // pageSize 2 in the model: four events take at least two pages.
    expect(models.logs.calls.filter((c) => c.operation === "FilterLogEvents").length).toBeGreaterThan(1);
  });

  it("passes --filter to CloudWatch and explains a pattern it refuses", async () => {
    const models = makeModels();
    const clients = await clientsOn(models);
    const now = Date.now();
    await logGroup(models, "f");
    await emit(models, "f", "s", [
      [now - 3000, "INFO fine"],
      [now - 2000, "ERROR broken"],
    ]);
    expect((await readLogs(clients, { functionName: "f", startTime: now - 60_000, filterPattern: "ERROR" })).map((e) => e.message)).toEqual(["ERROR broken"]);
    await expect(readLogs(clients, { functionName: "f", startTime: now - 60_000, filterPattern: "?A ?B" })).rejects.toThrow("CloudWatch Logs rejected the filter pattern '?A ?B'");
  });

  it("says when there is no log group", async () => {
    const clients = await clientsOn(makeModels());
    await expect(readLogs(clients, { functionName: "quiet", startTime: 0 })).rejects.toThrow(
      `no logs for quiet: log group /aws/lambda/quiet does not exist in ${region} (the function has not run yet, or there is no such function)`,
    );
  });

  it("--follow prints only new events, waits for a group that does not exist yet, and stops when asked", async () => {
    const models = makeModels();
    const clients = await clientsOn(models);
    const start = Date.now() - 1000;
    const printed: LogEvent[][] = [];
    const waiting: string[] = [];
    const stop = new AbortController();
    let polls = 0;
    // Each "sleep" is where time passes: new events land between polls.
    const sleep = async (): Promise<void> => {
      polls++;
      if (polls === 1) {
        await logGroup(models, "tail");
        await emit(models, "tail", "s", [[start + 10, "first"]]);
      } else if (polls === 2) {
        await emit(models, "tail", "s", [[start + 20, "second"], [start + 30, "third"]]);
      } else if (polls === 3) {
        // nothing new
      } else {
        stop.abort();
      }
    };
    await followLogs(clients, { functionName: "tail", startTime: start, signal: stop.signal, sleep, onEvents: (e) => printed.push(e), onWaiting: (m) => waiting.push(m) });
    expect(waiting).toEqual(["waiting for /aws/lambda/tail to appear (the function has not logged yet)..."]);
    expect(printed.map((batch) => batch.map((e) => e.message))).toEqual([["first"], ["second", "third"]]);
  });
});
