import dynalite from "dynalite";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClients, type AwsClients } from "../../src/aws/clients.js";
import { acquireStackLock, forceUnlock } from "../../src/stack/lock.js";

let server: Server;
let clients: AwsClients;

beforeAll(async () => {
  server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }) as Server;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  clients = createClients({ region: "ap-northeast-1", endpoint: `http://127.0.0.1:${port}`, credentials: { accessKeyId: "x", secretAccessKey: "y" } });
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("stack lock", () => {
  it("lets one run in and tells the second who holds the stack and since when", async () => {
    const first = await acquireStackLock(clients, "my-chat", { operation: "apply", timeoutMs: 0 });
    const second = acquireStackLock(clients, "my-chat", { operation: "destroy", timeoutMs: 0 });
    await expect(second).rejects.toThrow(/stack my-chat is being changed by .* pid \d+ \(apply\) since \d{4}-\d\d-\d\dT/);
    await expect(second).rejects.toThrow(/chatctl force-unlock my-chat/);
    await first.release();
    const third = await acquireStackLock(clients, "my-chat", { operation: "apply", timeoutMs: 0 });
    await third.release();
  });

  it("does not block other stacks", async () => {
    const a = await acquireStackLock(clients, "stack-a", { operation: "apply", timeoutMs: 0 });
    const b = await acquireStackLock(clients, "stack-b", { operation: "apply", timeoutMs: 0 });
    await a.release();
    await b.release();
  });

  it("waits up to --lock-timeout for the holder to finish", async () => {
    const first = await acquireStackLock(clients, "waiting", { operation: "apply", timeoutMs: 0 });
    const waits: string[] = [];
    const second = acquireStackLock(clients, "waiting", { operation: "apply", timeoutMs: 10_000, onWait: (h) => waits.push(h.owner) });
    setTimeout(() => void first.release(), 300);
    const lock = await second;
    expect(waits).toEqual([first.holder.owner]);
    await lock.release();
  });

  it("force-unlock removes a lock left behind and reports who held it", async () => {
    const stale = await acquireStackLock(clients, "stale", { operation: "apply", timeoutMs: 0 });
    const holder = await forceUnlock(clients, "stale");
    expect(holder?.owner).toBe(stale.holder.owner);
    expect(await forceUnlock(clients, "stale")).toBeUndefined();
    const next = await acquireStackLock(clients, "stale", { operation: "apply", timeoutMs: 0 });
    await next.release();
  });

  it("takes over a lapsed lease", async () => {
    let clock = Date.now();
    const first = await acquireStackLock(clients, "lapsed", { operation: "apply", timeoutMs: 0, now: () => clock });
    clock += 60_000; // the holder stopped renewing a minute ago
    const second = await acquireStackLock(clients, "lapsed", { operation: "apply", timeoutMs: 0, now: () => clock });
    expect(second.holder.since).not.toBe(first.holder.since);
    await second.release();
  });
});
