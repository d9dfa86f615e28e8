import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { runCli, startTestCloud, type TestCloud } from "../support/cloud.js";

// The connection, logs and scan commands end to end: the real CLI entry against
// the local cloud running specs/chat.yaml, with a real WebSocket client.

let cloud: TestCloud;
let at: string[];

beforeAll(async () => {
  cloud = await startTestCloud();
  at = ["--endpoint-url", cloud.url];
  const applied = await runCli(["apply", "-f", "specs/chat.yaml", ...at, "--auto-approve"]);
  if (applied.code !== 0) throw new Error(`apply failed:\n${applied.stdout}\n${applied.stderr}`);
}, 60_000);
afterAll(async () => {
  await cloud?.stop();
});

function connect(url: string): Promise<{ ws: WebSocket; messages: string[]; closed: Promise<number> }> {
  const ws = new WebSocket(url, { headers: { "user-agent": "e2e-client/1.0" } });
  const messages: string[] = [];
  ws.on("message", (data: Buffer) => messages.push(data.toString("utf8")));
  const closed = new Promise<number>((resolve) => ws.on("close", (code: number) => resolve(code)));
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve({ ws, messages, closed }));
    ws.once("error", reject);
  });
}

async function until<T>(probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("condition not reached");
}

describe("ad-hoc commands against the local cloud", () => {
  it("finds the stack's URL, lists, messages and drops a live connection, reads logs and the table", async () => {
    const url = await runCli(["ws-get-url", "my-chat", ...at]);
    expect(url.code).toBe(0);
    expect(url.stdout.trim()).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/[a-z0-9]+\/prod$/);

    const client = await connect(url.stdout.trim());
    const listed = await runCli(["connections-list", "my-chat", "--json", ...at]);
    expect(listed.code).toBe(0);
    const { connections } = JSON.parse(listed.stdout) as { connections: Array<{ connectionId: string; sourceIp?: string; userAgent?: string }> };
    expect(connections).toHaveLength(1);
    const id = connections[0]?.connectionId ?? "";
    expect(connections[0]).toMatchObject({ sourceIp: "127.0.0.1", userAgent: "e2e-client/1.0" });

    const table = await runCli(["connections", "list", "my-chat", ...at]);
    expect(table.stdout).toMatch(new RegExp(`^CONNECTION ID\\s+AGE\\s+SOURCE IP\\s+USER AGENT\\n${id.replace(/[=+/]/g, "\\$&")}\\s+\\d+s\\s+127\\.0\\.0\\.1\\s+e2e-client/1\\.0\\n$`));

    // No table named: the one of the stack in the spec, as status finds its stack.
    const fromSpec = await runCli(["connections", "list", "-f", "specs/chat.yaml", "--json", ...at]);
    expect(fromSpec.code, fromSpec.stderr).toBe(0);
    expect(JSON.parse(fromSpec.stdout)).toEqual({ table: "my-chat-connections", connections: [expect.objectContaining({ connectionId: id })] });
    const scannedFromSpec = await runCli(["dynamodb", "scan", "-f", "specs/chat.yaml", "--json", ...at]);
    expect(JSON.parse(scannedFromSpec.stdout)).toEqual([expect.objectContaining({ connectionId: id })]);

    const sent = await runCli(["connection-send", "my-chat", id, '{"message":"from the CLI"}', ...at]);
    expect(sent.code).toBe(0);
    expect(await until(() => client.messages[0])).toBe('{"message":"from the CLI"}');
    const piped = await runCli(["connection", "send", "my-chat", id, "-", ...at], "piped");
    expect(piped.code).toBe(0);
    expect(await until(() => client.messages[1])).toBe("piped");

    const scan = await runCli(["dynamodb-scan", "my-chat", "--json", ...at]);
    expect(JSON.parse(scan.stdout)).toEqual([expect.objectContaining({ connectionId: id, sourceIp: "127.0.0.1" })]);

    const logs = await until(async () => {
      const r = await runCli(["lambda-logs", "my-chat-connect", "--json", ...at]);
      const events = r.code === 0 ? (JSON.parse(r.stdout) as Array<{ message: string }>) : [];
      return events.length > 0 ? events : undefined;
    });
    expect(logs.some((e) => e.message.includes(id))).toBe(true);

    const dropped = await runCli(["connection-disconnect", "my-chat", id, ...at]);
    expect(dropped.code).toBe(0);
    await client.closed;

    const gone = await runCli(["connection-send", "my-chat", id, "hello?", ...at]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe(`error: connection ${id} is gone (it closed or never existed)\n`);
  });

  it("without a table, says where it looked for chat.yaml, or which of the spec's tables to name", async () => {
    const none = await runCli(["connections", "list", ...at]);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(
      `error: chatctl connections list takes <table> (a table, or a stack with one table); without it the stack's table comes from chat.yaml, and there is none at ${resolve("chat.yaml")}: pass the table, or -f <path to chat.yaml>\n`,
    );
    const dir = mkdtempSync(join(tmpdir(), "chatctl-two-tables-"));
    try {
      writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "two-tables", type: "module" }));
      writeFileSync(join(dir, "h.mjs"), "export const handler = async () => ({ statusCode: 200 });\n");
      writeFileSync(join(dir, "chat.yaml"), "stack: two\nroutes:\n  $default: fn\nfunctions:\n  fn:\n    handler: ./h.mjs\n    tables: [rooms, users]\ntables:\n  rooms:\n    partitionKey: id\n  users:\n    partitionKey: id\n");
      const two = await runCli(["dynamodb-scan", "-f", join(dir, "chat.yaml"), ...at]);
      expect(two.code).toBe(1);
      expect(two.stderr).toBe(`error: ${join(dir, "chat.yaml")} declares 2 tables (rooms, users): pass the one to read, e.g. chatctl dynamodb scan two-rooms\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("tells which stage and API exist when given a wrong one", async () => {
    const wrongStage = await runCli(["connection-send", "my-chat", "dev", "abc=", "hi", ...at]);
    expect(wrongStage.code).toBe(1);
    expect(wrongStage.stderr).toMatch(/^error: API \w+ has no stage 'dev'; its stages: prod\n$/);
  });
});
