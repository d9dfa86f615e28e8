import { describe, expect, it } from "vitest";
import { ConsoleHub } from "../../src/console/hub.js";
import type { Batch } from "../../src/console/events.js";
import { ConnectionsModel } from "../../src/local/models/connections.js";

const conn = (id: string, at = 1) => ({ connectionId: id, apiId: "api1", stage: "prod", at, sourceIp: "127.0.0.1", userAgent: "ua", query: "?room=1", function: "connect", durationMs: 3 });

/** A @connections model the hub follows, with connections opened and closed as the gateway does. */
function followed(hub: ConsoleHub): { open(id: string): void; close(id: string, code: number, reason: string): void } {
  let at = 0;
  const model = new ConnectionsModel({ now: () => ++at });
  hub.follow(model);
  const sink = { send: () => true, close: () => undefined };
  return {
    open: (id) => model.connect({ connectionId: id, apiId: "api1", stage: "prod", connectedAt: 1, sourceIp: "127.0.0.1", userAgent: "ua", query: "?room=1" }, sink),
    close: (id, code, reason) => model.disconnect(id, code, reason),
  };
}

describe("ConsoleHub", () => {
  it("keeps only the newest events, in order, and says how many it let go", () => {
    const hub = new ConsoleHub({ historySize: 3 });
    for (let i = 1; i <= 5; i++) hub.record({ kind: "error", message: `e${i}` });
    const snap = hub.snapshot();
    expect(snap.events.map((e) => (e.kind === "error" ? e.message : ""))).toEqual(["e3", "e4", "e5"]);
    expect(snap.events.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(snap.dropped).toBe(2);
  });

  it("lists open connections with their message counts, and keeps a bounded number of closed ones", () => {
    const hub = new ConsoleHub({ closedKept: 1 });
    const gateway = followed(hub);
    gateway.open("a");
    gateway.open("b");
    gateway.open("c");
    hub.observer.message({ connectionId: "a", at: 2, bytes: 5, preview: "hello", routeKey: "$default", function: "default", durationMs: 1, outcome: "ok" });
    hub.observer.managed({ connectionId: "a", at: 3, method: "POST", status: 200, bytes: 2, preview: "hi", caller: "sendmessage" });
    hub.observer.managed({ connectionId: "b", at: 3, method: "POST", status: 410, bytes: 2, preview: "hi", caller: "sendmessage" });
    gateway.close("b", 1000, "bye");
    gateway.close("c", 1001, "Going away");

    const rows = hub.connections();
    expect(rows.map((r) => r.connectionId)).toEqual(["a", "c"]); // b, the older closed one, is forgotten
    expect(rows[0]).toMatchObject({ messagesIn: 1, messagesOut: 1, query: "?room=1", closed: undefined });
    expect(rows[1]?.closed).toMatchObject({ code: 1001, reason: "Going away" });
    expect(hub.events().filter((e) => e.kind === "disconnect")).toMatchObject([
      { connectionId: "b", code: 1000, reason: "bye" },
      { connectionId: "c", code: 1001, reason: "Going away" },
    ]);
    const out = hub.events().filter((e) => e.kind === "out");
    expect(out.map((e) => (e.kind === "out" ? [e.status, e.function] : []))).toEqual([
      [200, "sendmessage"],
      [410, "sendmessage"],
    ]);
  });

  it("records a refused connection with its status, without listing it as a connection", () => {
    const hub = new ConsoleHub();
    hub.observer.connect({ ...conn("x"), status: 403 });
    expect(hub.connections()).toEqual([]);
    expect(hub.events()).toMatchObject([{ kind: "connect", connectionId: "x", status: 403, function: "connect" }]);
  });

  it("batches events for listeners only, and a listener that falls behind is told how many it missed", () => {
    const hub = new ConsoleHub({ maxBatch: 2, batchMs: 60_000 });
    hub.record({ kind: "error", message: "before anyone listens" });
    const batches: Batch[] = [];
    const stop = hub.subscribe((b) => batches.push(b));
    for (let i = 1; i <= 5; i++) hub.record({ kind: "error", message: `e${i}` });
    hub.flush();
    expect(batches).toHaveLength(1);
    expect(batches[0]?.events.map((e) => e.seq)).toEqual([5, 6]);
    expect(batches[0]?.skipped).toBe(3);
    stop();
    hub.record({ kind: "error", message: "after" });
    hub.flush();
    expect(batches).toHaveLength(1);
    expect(hub.events()).toHaveLength(7); // history is kept whether or not anyone listens
  });

  it("sends the stack to listeners with the apply outcome in the timeline", () => {
    const hub = new ConsoleHub({ batchMs: 60_000 });
    const batches: Batch[] = [];
    hub.subscribe((b) => batches.push(b));
    hub.setStack({ stack: "my-chat", region: "ap-northeast-1", stages: [{ stage: "prod", url: "ws://127.0.0.1:1/prod" }], resources: [], lastApply: { at: 1, ok: false, summary: "Apply failed" } });
    hub.flush();
    expect(batches[0]?.stack?.stack).toBe("my-chat");
    expect(batches[0]?.events).toMatchObject([{ kind: "apply", ok: false, summary: "Apply failed" }]);
    expect(hub.snapshot().stack?.lastApply?.ok).toBe(false);
  });
});
