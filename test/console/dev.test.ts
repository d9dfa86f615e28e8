import { describe, expect, it } from "vitest";
import { createDevConsole } from "../../src/console/dev.js";

describe("the dev console's feed", () => {
  it("keeps the handlers' own lines, without Lambda's START/END/REPORT, with their level", () => {
    const dev = createDevConsole();
    dev.functionLog("chat-connect", "START RequestId: 1 Version: $LATEST\n");
    dev.functionLog("chat-connect", "2026-02-09T12:00:00.000Z\t1\tWARN\tslow table\n");
    dev.functionLog("chat-connect", '{"level":"info","msg":"structured"}');
    dev.functionLog("chat-connect", "REPORT RequestId: 1\tDuration: 1.00 ms");
    expect(dev.hub.events().map((e) => (e.kind === "log" ? [e.level, e.message] : []))).toEqual([
      ["WARN", "slow table"],
      ["", '{"level":"info","msg":"structured"}'],
    ]);
    dev.close();
  });

  it("keeps showing the last stack when an apply fails before it knows the stack", () => {
    const dev = createDevConsole();
    const stages = [{ stage: "prod", url: "ws://127.0.0.1:1/prod" }];
    dev.applied({ stack: "my-chat", region: "eu-west-1", stages, plan: undefined, result: undefined, ok: true, summary: "No changes." });
    dev.applied({ stack: "", region: "", stages: [], plan: undefined, result: undefined, ok: false, summary: "handler.ts:2:1: error: Unexpected end of file" });
    const stack = dev.hub.snapshot().stack;
    expect(stack).toMatchObject({ stack: "my-chat", region: "eu-west-1", stages, lastApply: { ok: false, summary: "handler.ts:2:1: error: Unexpected end of file" } });
    dev.close();
  });
});
