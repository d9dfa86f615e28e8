import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Browser, Page } from "playwright-core";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { browserTestsEnabled, launchChromium } from "../support/browser.js";
import { waitForMatch } from "../support/wait.js";

const root = resolve(import.meta.dirname, "../..");
const built = existsSync(join(root, "dist/cli/main.js"));
const spec = join(root, "test/fixtures/console/chat.yaml");
/** Outside git, so a reviewer can look at it after a run (printed below). */
const screenshotPath = process.env.CHATCTL_CONSOLE_SCREENSHOT ?? join(tmpdir(), "chatctl-console", "console.png");

let dir: string;
let dev: ChildProcessWithoutNullStreams | undefined;
let browser: Browser | undefined;
let page: Page;
let output = "";
let base = "";
let wsUrl = "";
const clients: WebSocket[] = [];

function waitForOutput(pattern: RegExp, timeoutMs = 45_000): Promise<RegExpExecArray> {
  return waitForMatch(() => output, pattern, timeoutMs);
}

function connect(query: string): Promise<WebSocket> {
  const ws = new WebSocket(`${wsUrl}${query}`);
  clients.push(ws);
  return new Promise((r, j) => ws.once("open", () => r(ws)).once("error", j));
}

function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((r) => ws.once("message", (d: Buffer) => r(d.toString("utf8"))));
}

/** GET on the dev port with the headers given (Host included), as a browser elsewhere might send. */
function get(path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((r, j) => {
    const req = request(`${base}${path}`, { headers }, (res) => {
      res.resume();
      r(res.statusCode ?? 0);
    });
    req.once("error", j);
    req.end();
  });
}

const row = (list: string, text: string) => page.locator(`#${list} .vrow`, { hasText: text });

describe.skipIf(!built || !browserTestsEnabled("the dev console's browser tests"))("the dev console, in a browser", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "chatctl-console-"));
    dev = spawn(process.execPath, [join(root, "bin/chatctl.js"), "dev", "-f", spec, "--port", "0", "--no-watch"], {
      env: { ...process.env, CHATCTL_HOME: join(dir, "home"), NO_COLOR: "1" },
    });
    dev.stdout.on("data", (d: Buffer) => (output += d.toString()));
    dev.stderr.on("data", (d: Buffer) => (output += d.toString()));
    // The browser starts while the stack is applied.
    const [launched, console] = await Promise.all([launchChromium(), waitForOutput(/Dev console: (http:\/\/127\.0\.0\.1:\d+)\//)]);
    browser = launched;
    base = console[1]!;
    wsUrl = (await waitForOutput(/WebSocket URL: (ws:\/\/127\.0\.0\.1:\d+\/[a-z0-9]+\/prod)/))[1]!;
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.setDefaultTimeout(15_000); // a step that never comes fails with its locator named, inside the test's own timeout
    // Opened right after the apply, as a user would: esbuild's service was once stopped
    // under the page's build and the page never loaded (test/bundle/esbuild-service.test.ts).
    // Should the first navigation fail again, the requests seen and dev's output say where.
    const seen: string[] = [];
    const t0 = Date.now();
    const note = (event: string) => (r: { url(): string }) => seen.push(`+${Date.now() - t0} ms ${event} ${r.url()}`);
    page.on("request", note("request"));
    page.on("requestfinished", note("finished"));
    page.on("requestfailed", note("failed"));
    try {
      await page.goto(`${base}/`, { timeout: 30_000 });
    } catch (err) {
      process.stderr.write(`console test: first navigation failed; requests:\n${seen.join("\n")}\ndev output:\n${output.slice(-3000)}\n`);
      throw err;
    }
    await page.locator("#stream-status", { hasText: "live" }).waitFor();
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) c.on("error", () => undefined).terminate();
    await browser?.close();
    if (dev && dev.exitCode === null) {
      dev.kill("SIGKILL");
      await new Promise((r) => dev!.once("exit", r));
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("lists a client, posts to it and kicks it from the page, and drives a client of its own", async () => {
    // The stack, as applied.
    await page.locator("#apply-status", { hasText: "applied" }).waitFor();
    expect(await page.locator("#stack-name").textContent()).toBe("console-test");

    // A client of the test shows up in the list, with its query string.
    const tester = await connect("?name=tester");
    const testerRow = row("connections", "?name=tester");
    await testerRow.waitFor();
    const testerId = (await testerRow.locator(".id").textContent())!.trim();
    expect(testerId).toMatch(/^[A-Za-z0-9=]{16}$/);

    // The page opens its own client and sends a raw frame; the stock $default answers it through @connections.
    await page.fill("#client-query", "?name=browser");
    await page.click("#client-connect");
    await page.locator("#client-state", { hasText: "connected as" }).waitFor();
    await page.fill("#frame", '{"action":"dance"}');
    await page.click("#client-send");
    await page.locator("#inbox li", { hasText: "unknown action" }).waitFor();
    await row("timeline", "POST").filter({ hasText: "from console-test-default" }).first().waitFor();

    // Re-send that frame from the timeline, by keyboard: select it, Enter.
    await row("timeline", '{"action":"dance"}').click();
    await page.keyboard.press("Enter");
    await page.locator("#inbox li", { hasText: "unknown action" }).nth(1).waitFor();

    // Select the test's client in the list and post to it through @connections.
    const received = nextMessage(tester);
    await testerRow.click();
    expect(await page.inputValue("#target")).toBe(testerId);
    await page.fill("#frame", "hello from the page");
    await page.click("#post");
    expect(await received).toBe("hello from the page");
    await page.locator("#drive-note", { hasText: `Posted to ${testerId}: 200` }).waitFor();

    // Kick it: the client is closed with 1000, and the timeline shows its $disconnect.
    const closed = new Promise<number>((r) => tester.once("close", (code: number) => r(code)));
    await page.click("#kick");
    expect(await closed).toBe(1000);
    await row("timeline", testerId).filter({ has: page.locator(".badge", { hasText: "disconnect" }) }).waitFor();
    await row("timeline", `gone: ${testerId}`).waitFor(); // the $disconnect handler ran
    await row("connections", testerId).and(page.locator(".closed")).waitFor(); // faded, with its close code
  });

  it("shows a refused connection with its status", async () => {
    const refused = new WebSocket(`${wsUrl}?deny=1`);
    clients.push(refused);
    const status = await new Promise<number>((r) => refused.once("unexpected-response", (_req, res) => r(res.statusCode ?? 0)).once("open", () => r(101)));
    expect(status).toBe(403);
    await row("timeline", "?deny=1").filter({ has: page.locator(".badge", { hasText: "refused 403" }) }).waitFor();
  });

  it("filters the timeline by connection and by kind", async () => {
    const a = await connect("?name=filter-a");
    await connect("?name=filter-b");
    a.send("just for a");
    await row("timeline", "just for a").waitFor();
    const aId = (await row("connections", "?name=filter-a").locator(".id").textContent())!.trim();
    await page.fill("#f-connection", aId);
    await row("timeline", "?name=filter-b").waitFor({ state: "detached" });
    await row("timeline", "just for a").waitFor();
    await page.fill("#f-connection", "");
    await page.selectOption("#f-kind", "refused");
    await row("timeline", "?name=filter-a").waitFor({ state: "detached" });
    await row("timeline", "?deny=1").waitFor();
    await page.selectOption("#f-kind", "");

    mkdirSync(join(screenshotPath, ".."), { recursive: true });
    await page.screenshot({ path: screenshotPath });
    console.log(`dev console screenshot: ${screenshotPath}`);
  });

  it("answers only on its own address, and to no other origin", async () => {
    const port = new URL(base).port;
    expect(await get("/@console/state", { host: `127.0.0.1:${port}` })).toBe(200);
    expect(await get("/@console/state", { host: `localhost:${port}` })).toBe(200);
    // DNS rebinding: a page of another site resolving its name to 127.0.0.1.
    expect(await get("/@console/state", { host: `attacker.example:${port}` })).toBe(403);
    expect(await get("/@console/events", { host: `127.0.0.1:${port}`, origin: "http://attacker.example" })).toBe(403);
    // Not a stage: a WebSocket client cannot open it as one.
    const ws = new WebSocket(`${base.replace(/^http/, "ws")}/@console/events`);
    clients.push(ws);
    expect(await new Promise<number>((r) => ws.once("unexpected-response", (_req, res) => r(res.statusCode ?? 0)).once("open", () => r(101)))).toBe(403);
  });
});
