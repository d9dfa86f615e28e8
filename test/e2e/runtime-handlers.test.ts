import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DynamoDBClient, PutItemCommand, GetItemCommand } from "@aws-sdk/client-dynamodb";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitForOutput } from "../support/output.js";

// Handlers written for the Lambda runtime (ESM and CommonJS, the SDK v3 from the
// runtime, both forms of the management endpoint, 410 handling) in a project with no
// dependencies, run by `npx chatctl dev` as a user would start it. One dev server for
// the whole file; a second one, in another project, for --local and a shared stage name.

const root = resolve(import.meta.dirname, "../..");
const built = existsSync(join(root, "dist/cli/main.js"));
const FIXTURE = join(root, "test/fixtures/runtime-project");

interface Proc {
  readonly child: ChildProcess;
  output: string;
}

function start(command: string, args: readonly string[], cwd: string, home: string): Proc {
  const child = spawn(command, args, { cwd, env: { ...process.env, CHATCTL_HOME: home, NO_COLOR: "1", CHATCTL_LOCAL: "" } });
  const proc: Proc = { child, output: "" };
  child.stdout?.on("data", (d: Buffer) => (proc.output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (proc.output += d.toString()));
  return proc;
}

function waitFor(proc: Proc, pattern: RegExp, from = 0, timeoutMs = 60_000): Promise<RegExpExecArray> {
  return waitForOutput(() => proc.output, pattern, from, timeoutMs);
}

function run(args: readonly string[], cwd: string, home: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [join(root, "bin/chatctl.js"), ...args], { cwd, env: { ...process.env, CHATCTL_HOME: home, NO_COLOR: "1", CHATCTL_LOCAL: "" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("exit", (code) => resolvePromise({ code, stdout, stderr }));
  });
}

class Client {
  readonly ws: WebSocket;
  readonly messages: string[] = [];
  private waiters: Array<() => void> = [];
  closeCode: number | undefined;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on("message", (d) => {
      this.messages.push(String(d));
      for (const w of this.waiters.splice(0)) w();
    });
    this.ws.on("close", (code) => {
      this.closeCode = code;
      for (const w of this.waiters.splice(0)) w();
    });
  }

  opened(): Promise<void> {
    return new Promise((r, j) => this.ws.once("open", () => r()).once("error", j));
  }

  /** The next message after the `seen` first ones. */
  async message(seen: number): Promise<string> {
    while (this.messages.length <= seen) await new Promise<void>((r) => this.waiters.push(r));
    return this.messages[seen]!;
  }

  async closed(): Promise<number> {
    while (this.closeCode === undefined) await new Promise<void>((r) => this.waiters.push(r));
    return this.closeCode;
  }
}

/** A project as `chatctl init` leaves it, chatctl as its only (dev) dependency, `npx chatctl` finding it. */
function project(name: string): string {
  const dir = join(work, name);
  cpSync(FIXTURE, dir, { recursive: true });
  mkdirSync(join(dir, "node_modules/.bin"), { recursive: true });
  symlinkSync(root, join(dir, "node_modules/chatctl"));
  symlinkSync("../chatctl/bin/chatctl.js", join(dir, "node_modules/.bin/chatctl"));
  return dir;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((r) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      r(false);
    });
    s.once("error", () => r(true));
  });
}

let work: string;
let home: string;
let a: string;
let devA: Proc;
let urlA = "";
let cloudA = "";

describe.skipIf(!built)("handlers written for the Lambda runtime, under npx chatctl dev", () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "chatctl-runtime-"));
    home = join(work, "home");
    a = project("a");
    devA = start("npx", ["chatctl", "dev", "--port", "0"], a, home);
    cloudA = (await waitFor(devA, /Local cloud listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
    urlA = (await waitFor(devA, /WebSocket URL: (ws:\/\/127\.0\.0\.1:\d+\/[a-z0-9]+\/prod)/))[1]!;
  }, 90_000);

  afterAll(async () => {
    if (devA?.child.exitCode === null) devA.child.kill("SIGKILL");
    rmSync(work, { recursive: true, force: true });
  });

  it("chats: CommonJS $connect with a transaction, ESM sendmessage at the execute-api host, 410 cleans up a stale connection", async () => {
    expect(devA.output).toMatch(/@aws-sdk\/client-dynamodb/); // named as left to the runtime
    const ann = new Client(urlA);
    const bob = new Client(urlA);
    await Promise.all([ann.opened(), bob.opened()]);
    const ddb = new DynamoDBClient({ region: "ap-northeast-1", endpoint: cloudA, credentials: { accessKeyId: "x", secretAccessKey: "y" } });
    const members = await ddb.send(new GetItemCommand({ TableName: "rt-chat-connections", Key: { connectionId: { S: "#members" } } }));
    expect(members.Item?.n).toEqual({ N: "2" });
    await ddb.send(new PutItemCommand({ TableName: "rt-chat-connections", Item: { connectionId: { S: "stale0000000=" } } }));

    ann.ws.send(JSON.stringify({ action: "sendmessage", data: "hello from ann" }));
    expect(await ann.message(0)).toBe("hello from ann");
    expect(await bob.message(0)).toBe("hello from ann");
    await waitFor(devA, /removed stale stale0000000=/);
    const stale = await ddb.send(new GetItemCommand({ TableName: "rt-chat-connections", Key: { connectionId: { S: "stale0000000=" } } }));
    expect(stale.Item).toBeUndefined();
    ddb.destroy();
    ann.ws.close();
    bob.ws.close();
    await Promise.all([ann.closed(), bob.closed()]);
  });

  it("answers through https://{domainName}/{stage}, domainName in AWS's form; a rename-save and two in-place saves are each applied", async () => {
    const c = new Client(urlA);
    await c.opened();
    let seen = 0;
    const whoami = async (): Promise<{ version: string; domainName: string }> => {
      c.ws.send(JSON.stringify({ action: "whoami" }));
      return JSON.parse(await c.message(seen++)) as { version: string; domainName: string };
    };
    const first = await whoami();
    const apiId = /\/([a-z0-9]+)\/prod$/.exec(urlA)?.[1];
    expect(first).toMatchObject({ version: "v1", domainName: `${apiId}.execute-api.ap-northeast-1.amazonaws.com` });

    const file = join(a, "handlers/default.mjs");
    for (const [version, how] of [["v2", "rename"], ["v3", "in place"], ["v4", "in place"]] as const) {
      const mark = devA.output.length;
      const text = readFileSync(file, "utf8").replace(/version: "v\d"/, `version: "${version}"`);
      if (how === "rename") {
        writeFileSync(`${file}.swp`, text);
        renameSync(`${file}.swp`, file);
      } else {
        writeFileSync(file, text);
      }
      await waitFor(devA, /Apply complete: 0 created, 1 updated/, mark);
      expect((await whoami()).version).toBe(version);
    }
    c.ws.close();
    await c.closed();
  });

  it("a second dev server in another project: --local from each folder reaches its own, and two APIs on stage prod both answer at their printed URLs", async () => {
    const b = project("b");
    writeFileSync(join(b, "chat.yaml"), readFileSync(join(b, "chat.yaml"), "utf8").replace("stack: rt-chat", "stack: rt-other"));
    const devB = start(process.execPath, [join(root, "bin/chatctl.js"), "dev", "--port", "0"], b, home);
    try {
      const cloudB = (await waitFor(devB, /Local cloud listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
      await waitFor(devB, /WebSocket URL: /);
      const fromA = await run(["status", "--local"], a, home);
      const fromB = await run(["status", "--local"], b, home);
      expect(fromA.code, fromA.stderr).toBe(0);
      expect(fromB.code, fromB.stderr).toBe(0);
      expect(fromA.stderr).toContain(`reached chatctl dev at ${cloudA} (pid `);
      expect(fromB.stderr).toContain(`reached chatctl dev at ${cloudB} (pid ${devB.child.pid}`);

      // B's stack into A's cloud too: two APIs with stage prod in one local cloud.
      const port = new URL(cloudA).port;
      const applied = await run(["apply", "--local=" + port, "--auto-approve"], b, home);
      expect(applied.code, applied.stderr).toBe(0);
      const urlB = /WebSocket URL: (ws:\/\/\S+)/.exec(applied.stdout)?.[1];
      expect(urlB).toBeDefined();
      expect(urlB).not.toBe(urlA);
      const status = await run(["status", "--local=" + port], b, home);
      expect(status.stdout).toContain(`WebSocket URL: ${urlB}`);
      for (const url of [urlA, urlB!]) {
        const c = new Client(url);
        await c.opened();
        c.ws.send(JSON.stringify({ action: "sendmessage", data: `to ${url}` }));
        expect(await c.message(0)).toBe(`to ${url}`);
        c.ws.close();
        await c.closed();
      }
    } finally {
      devB.child.kill("SIGINT");
      await new Promise((r) => devB.child.once("exit", r));
    }
    expect(devB.output).toMatch(/Stopped\./);
    // A second dev server bundles and applies its own project: 10-16 s alone, near 30 s on a loaded machine.
  }, 90_000);

  it("stops on a SIGTERM sent to npx: clients get 1001, $disconnect runs for each, the port is freed", async () => {
    const clients = [new Client(urlA), new Client(urlA)];
    await Promise.all(clients.map((c) => c.opened()));
    const ids = await Promise.all(
      clients.map(async (c) => {
        c.ws.send(JSON.stringify({ action: "whoami" }));
        return (JSON.parse(await c.message(0)) as { connectionId: string }).connectionId;
      }),
    );
    const mark = devA.output.length;
    devA.child.kill("SIGTERM"); // npx's own process: the shell under it ends, chatctl dev sees its parent go
    expect(await Promise.all(clients.map((c) => c.closed()))).toEqual([1001, 1001]);
    await waitFor(devA, /Stopped\./, mark);
    for (const id of ids) expect(devA.output.slice(mark)).toContain(`disconnected ${id}`);
    expect(await portFree(Number(new URL(cloudA).port))).toBe(true);
  });
});
