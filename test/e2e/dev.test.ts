import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cloud.js";
import { waitForOutput } from "../support/output.js";
import { chatctlBin, cliBuilt, useDevProjects } from "../support/dev-project.js";

const newProject = useDevProjects("dev");

let dir: string;
let dev: ChildProcessWithoutNullStreams;
let output = "";

function waitFor(pattern: RegExp, from: number, timeoutMs = 30_000): Promise<RegExpExecArray> {
  return waitForOutput(() => output, pattern, from, timeoutMs);
}

function nextMessage(ws: WebSocket): Promise<Record<string, unknown>> {
  return new Promise((r) => ws.once("message", (d) => r(JSON.parse(String(d)) as Record<string, unknown>)));
}

describe.skipIf(!cliBuilt)("chatctl dev", () => {
  let url = "";
  beforeAll(async () => {
    // A project of its own, so the test can edit a handler: its specs, handlers and package.json.
    dir = newProject({ specs: true });
    dev = spawn(process.execPath, [chatctlBin, "dev", "-f", join(dir, "specs/chat.yaml"), "--port", "0"], {
      env: { ...process.env, CHATCTL_HOME: join(dir, "home"), NO_COLOR: "1" },
    });
    dev.stdout.on("data", (d: Buffer) => (output += d.toString()));
    dev.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const m = await waitFor(/WebSocket URL: (ws:\/\/127\.0\.0\.1:\d+\/[a-z0-9]+\/prod)/, 0);
    url = m[1]!;
  }, 60_000);

  afterAll(async () => {
    if (dev && dev.exitCode === null) {
      dev.kill("SIGKILL");
      await new Promise((r) => dev.once("exit", r));
    }
  });

  it("serves the stack, re-applies an edited handler without dropping the connection, and stops cleanly", async () => {
    expect(output).toMatch(/Apply complete: 32 created/);
    const ws = new WebSocket(url);
    await new Promise((r, j) => ws.once("open", r).once("error", j));
    let closed = false;
    ws.on("close", () => (closed = true));

    ws.send(JSON.stringify({ action: "dance" }));
    expect(await nextMessage(ws)).toMatchObject({ type: "error", actions: ["sendmessage", "join"] });

    // Another command finds the running dev server with --local.
    process.env.CHATCTL_HOME = join(dir, "home");
    const status = await runCli(["status", "-f", join(dir, "specs/chat.yaml"), "--local"]);
    // ... or the one on a port given as the next word (not taken for the [stack] positional).
    const byPort = await runCli(["status", "--local", new URL(url).port, "-f", join(dir, "specs/chat.yaml")]);
    delete process.env.CHATCTL_HOME;
    expect(status.stdout).toMatch(/WebSocket URL: ws:\/\/127\.0\.0\.1:\d+\/[a-z0-9]+\/prod/);
    expect(status.code).toBe(0);
    expect(byPort.stdout).toContain(`WebSocket URL: ${url}`);
    expect(byPort.code).toBe(0);

    const file = join(dir, "handlers/default.ts");
    const source = readFileSync(file, "utf8");
    // A save that does not compile: the compiler's lines and dev's own advice, the old code still serving.
    const broken = output.length;
    writeFileSync(file, `${source}\nexport const oops = (;\n`);
    await waitFor(/Fix it and save: chatctl dev applies again\./, broken);
    expect(output.slice(broken)).toMatch(/handlers\/default\.ts:\d+:\d+: error: .*\nNothing was changed in the local cloud\.\n/);
    expect(output.slice(broken)).not.toContain("run again");
    ws.send(JSON.stringify({ action: "dance" }));
    expect(await nextMessage(ws)).toMatchObject({ type: "error", actions: ["sendmessage", "join"] });

    const mark = output.length;
    // The new code answers with its own list (the spec's CHAT_ACTIONS would otherwise win).
    writeFileSync(file, source.replace(/return configured && [^;]*;/, `return ["sendmessage", "dance"];`));
    await waitFor(/Apply complete: 0 created, 1 updated/, mark);
    expect(output.slice(mark)).toMatch(/~ update\s+lambda\.function\s+my-chat-default/);

    ws.send(JSON.stringify({ action: "dance" }));
    expect(await nextMessage(ws)).toMatchObject({ actions: ["sendmessage", "dance"] });
    expect(closed).toBe(false);

    const exited = new Promise<number | null>((r) => dev.once("exit", (code) => r(code)));
    dev.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(output).toMatch(/Stopped\./);
    await new Promise((r) => setTimeout(r, 100));
    expect(closed).toBe(true);
    expect(existsSync(join(dir, `home/local/${dev.pid}.json`))).toBe(false);
  }, 60_000);
});
