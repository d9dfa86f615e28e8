// The dev console under load: N connections and a flood of messages, with the page
// open in headless Chromium and without it.
//   node bench/console.mjs [connections=1000] [seconds=5] [rate=2000]
//
// A `chatctl dev` child (bench/specs/console.yaml: a $connect only, so each message is
// the gateway's own "Forbidden" answer and nothing waits on a Lambda) gets N clients;
// they send `rate` messages a second between them for `seconds`, first with no page
// open, then with the console open. Reported:
//   first paint     page load -> the connection list shows all N (snapshot of N rows)
//   messages/s      handled by the dev server (its "in" events), without and with the page
//   dev CPU         CPU seconds of the dev process per 1,000 messages, without and with
//   long tasks      the page's main-thread tasks over 50 ms during the flood: count, longest
//   page heap       JS heap of the page after the flood (history is bounded: 5,000 events)
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { cliBin, cpuSecondsOf, fmt, machine, requireDist, root } from "./lib.mjs";

requireDist();
const n = Number(process.argv[2] ?? 1000);
const seconds = Number(process.argv[3] ?? 5);
const rate = Number(process.argv[4] ?? 2000);
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

const dir = mkdtempSync(join(tmpdir(), "chatctl-bench-console-"));
let out = "";
const dev = spawn(process.execPath, [cliBin, "dev", "-f", join(root, "bench/specs/console.yaml"), "--port", "0", "--no-watch", "--quiet"], {
  env: { ...process.env, CHATCTL_HOME: join(dir, "home"), NO_COLOR: "1" },
});
dev.stdout.on("data", (d) => (out += d));
dev.stderr.on("data", (d) => (out += d));
const wait = async (re) => {
  for (;;) {
    const m = re.exec(out);
    if (m) return m;
    await new Promise((r) => setTimeout(r, 50));
  }
};
const base = (await wait(/Dev console: (http:\/\/127\.0\.0\.1:\d+)\//))[1];
const wsUrl = (await wait(/WebSocket URL: (ws:\/\/\S+)/))[1];

const clients = [];
for (let i = 0; i < n; i += 50) {
  const batch = [];
  for (let j = i; j < Math.min(n, i + 50); j++) {
    const ws = new WebSocket(`${wsUrl}?user=u${j}`);
    ws.on("message", () => undefined);
    clients.push(ws);
    batch.push(new Promise((r, k) => ws.once("open", r).once("error", k)));
  }
  await Promise.all(batch);
}

async function inEvents() {
  const s = await (await fetch(`${base}/@console/state`)).json();
  return s.events.length > 0 ? s.events[s.events.length - 1].seq : 0;
}

async function flood() {
  const cpu0 = cpuSecondsOf(dev.pid);
  const seq0 = await inEvents();
  const t0 = performance.now();
  let sent = 0;
  while (performance.now() - t0 < seconds * 1000) {
    const due = Math.floor(((performance.now() - t0) / 1000) * rate);
    for (; sent < due; sent++) clients[sent % n].send("x");
    await new Promise((r) => setTimeout(r, 10));
  }
  await new Promise((r) => setTimeout(r, 500)); // let the last ones through
  const elapsed = (performance.now() - t0) / 1000;
  const handled = (await inEvents()) - seq0;
  return { sent, perSecond: handled / elapsed, cpuPer1000: ((cpuSecondsOf(dev.pid) - cpu0) / Math.max(1, handled)) * 1000 };
}

const without = await flood();

const { chromium } = await import("playwright-core");
const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: process.getuid?.() === 0 ? ["--no-sandbox"] : [] });
const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
await page.addInitScript(() => {
  window.__long = [];
  new PerformanceObserver((l) => window.__long.push(...l.getEntries().map((e) => e.duration))).observe({ type: "longtask", buffered: true });
});
const p0 = performance.now();
await page.goto(`${base}/`);
await page.locator("#connections .count", { hasText: `${n} open` }).waitFor({ timeout: 60_000 });
const firstPaint = performance.now() - p0;
await page.evaluate(() => (window.__long = []));
const withPage = await flood();
const long = await page.evaluate(() => window.__long);
const heap = await page.evaluate(() => performance.memory?.usedJSHeapSize ?? NaN);
const shown = await page.locator("#timeline .count").textContent();
await browser.close();

console.log(`# node bench/console.mjs ${n} ${seconds} ${rate}: ${machine()}`);
console.log(`connections: ${n}; offered: ${rate} messages/s for ${seconds} s`);
console.log(`first paint with ${n} connections: ${fmt(firstPaint)} ms`);
console.log(`messages/s handled: ${fmt(without.perSecond)} without the page, ${fmt(withPage.perSecond)} with it open`);
console.log(`dev CPU per 1,000 messages: ${fmt(without.cpuPer1000, 3)} s without, ${fmt(withPage.cpuPer1000, 3)} s with the page`);
console.log(`page long tasks (>50 ms) during the flood: ${long.length}, longest ${fmt(Math.max(0, ...long))} ms`);
console.log(`page JS heap after the flood: ${fmt(heap / 2 ** 20, 1)} MB; timeline: ${shown}`);

for (const c of clients) c.terminate();
dev.kill("SIGINT");
await new Promise((r) => dev.once("exit", r));
rmSync(dir, { recursive: true, force: true });
