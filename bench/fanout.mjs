// Gateway fan-out on the local cloud, as a user of `chatctl dev` feels it.
//   node bench/fanout.mjs [N list=10,100,500,1000] [M=200] [variants=default,sdk]
//
// For each handler variant and each N, a fresh `chatctl dev` child process
// (--port 0 --no-watch --quiet) applies the spec; this process (the clients)
// opens N WebSocket connections to it, at most OPEN_IN_FLIGHT handshakes at a
// time, and one of them sends M sendmessage broadcasts one after another: the
// next is sent when the sender has its {"type":"sent"} receipt for the previous
// one (the handler sends it after every post of the fan-out was answered).
// WARMUP broadcasts before the M are not counted (they start the sendmessage
// worker and load its bundle).
//   deliveries/s  N x M broadcast messages received by the clients / (last one received - first send)
//   latency       per broadcast, send -> the moment the last of the N clients received it
//   connections/s N / time from the first handshake to the N-th open
//   peak RSS      VmHWM of the dev process (worker threads included), read before it stops
// Clients and dev run in separate processes so that on 2 cores the clients'
// receive work does not run on the gateway's thread.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { cliBin, cpuSecondsOf, fmt, machine, memoryOf, quantile, requireDist, root } from "./lib.mjs";

requireDist();

const sizes = (process.argv[2] ?? "10,100,500,1000").split(",").map(Number);
const broadcasts = Number(process.argv[3] ?? 200);
const variantNames = (process.argv[4] ?? "default,sdk").split(",");
const OPEN_IN_FLIGHT = 100;
const WARMUP = 3;
const RECEIPT_TIMEOUT_MS = 30_000;
const DRAIN_TIMEOUT_MS = 10_000;

const VARIANTS = {
  default: { label: "default handlers (handlers/sendmessage.ts)", spec: join(root, "specs", "chat.yaml") },
  sdk: { label: "plain SDK PostToConnectionCommand (bench/handlers/sendmessage-sdk.ts)", spec: join(root, "bench", "specs", "chat-sdk.yaml") },
};

/** `chatctl dev` as a user starts it; resolves once the stack is applied and its ws:// URL printed. */
function startDev(spec) {
  const home = mkdtempSync(join(tmpdir(), "chatctl-bench-home-"));
  // BENCH_DEV_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the dev process.
  const nodeArgs = (process.env.BENCH_DEV_NODE_ARGS ?? "").split(" ").filter(Boolean);
  // BENCH_CLI=/path/to/bin/chatctl.js runs another build (a prototype of a fix) against the same workload.
  const child = spawn(process.execPath, [...nodeArgs, process.env.BENCH_CLI ?? cliBin, "dev", "-f", spec, "--port", "0", "--no-watch", "--quiet"], {
    cwd: root,
    env: { ...process.env, CHATCTL_HOME: home, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr.setEncoding("utf8").on("data", (d) => (err = (err + d).slice(-4000)));
  const exited = new Promise((r) => child.once("exit", (code, signal) => r({ code, signal })));
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`chatctl dev did not print a WebSocket URL within 60 s:\n${out.slice(-2000)}\n${err}`)), 60_000);
    child.stdout.setEncoding("utf8").on("data", (d) => {
      out += d;
      const m = /WebSocket URL: (ws:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`chatctl dev exited (${code}) before it was ready:\n${out.slice(-2000)}\n${err}`));
    });
  });
  return {
    pid: child.pid,
    ready,
    stderrTail: () => err,
    async stop() {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

function openClient(url, onBroadcast) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const client = { ws, receipts: [] };
    ws.on("message", (data) => {
      const at = performance.now();
      const msg = JSON.parse(data.toString());
      if (msg.type === "message") onBroadcast(msg.message, at);
      else if (msg.type === "sent") {
        const waiter = client.receipts.shift();
        waiter?.(msg);
      }
    });
    ws.once("open", () => resolve(client));
    ws.once("error", reject);
  });
}

async function openAll(url, n, onBroadcast) {
  const clients = [];
  let next = 0;
  let failed = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(OPEN_IN_FLIGHT, n) }, async () => {
      while (next < n) {
        next++;
        try {
          clients.push(await openClient(url, onBroadcast));
        } catch {
          failed++;
        }
      }
    }),
  );
  return { clients, failed, ms: performance.now() - t0 };
}

async function runOne(variant, n) {
  const dev = startDev(variant.spec);
  try {
    const url = await dev.ready;
    const idle = memoryOf(dev.pid);
    // Per broadcast: how many clients got it, and when the last one did.
    const got = new Map();
    const onBroadcast = (text, at) => {
      const rec = got.get(text);
      if (rec) {
        rec.count++;
        rec.last = at;
      } else got.set(text, { count: 1, last: at });
    };
    const cpuBeforeOpen = cpuSecondsOf(dev.pid);
    const opened = await openAll(url, n, onBroadcast);
    const openCpuMs = (cpuSecondsOf(dev.pid) - cpuBeforeOpen) * 1000;
    const sender = opened.clients[0];
    const broadcast = (text) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no receipt within ${RECEIPT_TIMEOUT_MS} ms for "${text}"\n${dev.stderrTail()}`)), RECEIPT_TIMEOUT_MS);
        sender.receipts.push((receipt) => {
          clearTimeout(timer);
          resolve(receipt);
        });
        sender.ws.send(JSON.stringify({ action: "sendmessage", message: text }));
      });

    for (let i = 0; i < WARMUP; i++) await broadcast(`warmup ${i}`);

    const cpu0 = cpuSecondsOf(dev.pid);
    const sentAt = [];
    let shortReceipts = 0;
    const t0 = performance.now();
    for (let i = 0; i < broadcasts; i++) {
      sentAt.push(performance.now());
      const receipt = await broadcast(`b${i}`);
      if (receipt.delivered !== opened.clients.length) shortReceipts++;
    }
    // The receipt can overtake deliveries to other clients; wait for the rest.
    const expected = opened.clients.length;
    const deadline = performance.now() + DRAIN_TIMEOUT_MS;
    const allIn = () => Array.from({ length: broadcasts }, (_, i) => got.get(`b${i}`)?.count ?? 0).every((c) => c >= expected);
    while (!allIn() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const devCpu = cpuSecondsOf(dev.pid) - cpu0;

    const latencies = [];
    let received = 0;
    let lastAt = t0;
    for (let i = 0; i < broadcasts; i++) {
      const rec = got.get(`b${i}`);
      received += rec?.count ?? 0;
      if (rec) lastAt = Math.max(lastAt, rec.last);
      if (rec && rec.count >= expected) latencies.push(rec.last - sentAt[i]);
    }
    const wallS = (lastAt - t0) / 1000;
    const memory = memoryOf(dev.pid);
    for (const c of opened.clients) c.ws.close();
    return {
      n,
      connected: opened.clients.length,
      connectFailed: opened.failed,
      connPerS: opened.clients.length / (opened.ms / 1000),
      openMs: opened.ms,
      devCpuPerConnectionMs: openCpuMs / Math.max(1, opened.clients.length),
      deliveries: received,
      lost: opened.clients.length * broadcasts - received,
      shortReceipts,
      perS: received / wallS,
      p50: quantile(latencies, 0.5),
      p99: quantile(latencies, 0.99),
      wallS,
      devCpuPerDeliveryMs: (devCpu * 1000) / received,
      peakMb: memory.peakMb,
      peakAfterApplyMb: idle.peakMb,
    };
  } finally {
    await dev.stop();
  }
}

console.log(`# fan-out: ${machine()}`);
console.log(`# M = ${broadcasts} broadcasts, sequential (next after the sender's receipt), ${WARMUP} warm-up broadcasts not counted; ${OPEN_IN_FLIGHT} handshakes in flight`);
const results = {};
for (const name of variantNames) {
  const variant = VARIANTS[name];
  if (!variant) throw new Error(`unknown variant ${name}: ${Object.keys(VARIANTS).join(", ")}`);
  results[name] = [];
  console.log(`\n${variant.label}\n`);
  console.log("| N | deliveries/s | p50 ms | p99 ms | connections/s (open N) | dev peak RSS MB (peak once applied) | lost | dev CPU ms / delivery | dev CPU ms / connection | wall s |");
  console.log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const n of sizes) {
    const r = await runOne(variant, n);
    results[name].push(r);
    const lost = r.lost + (r.connectFailed ? ` (${r.connectFailed} not connected)` : "") + (r.shortReceipts ? ` (${r.shortReceipts} short receipts)` : "");
    console.log(
      `| ${fmt(n)} | ${fmt(r.perS)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${fmt(r.connPerS)} (${fmt(r.openMs)} ms) | ${fmt(r.peakMb)} (${fmt(r.peakAfterApplyMb)}) | ${lost} | ${fmt(r.devCpuPerDeliveryMs, 3)} | ${fmt(r.devCpuPerConnectionMs, 2)} | ${fmt(r.wallS, 1)} |`,
    );
  }
}

if (results.default && results.sdk) {
  console.log("\nratio default / plain SDK (deliveries/s: higher is better; p99 and RSS: lower is better)\n");
  console.log("| N | deliveries/s | p50 | p99 | connections/s | peak RSS |");
  console.log("|---:|---:|---:|---:|---:|---:|");
  for (const d of results.default) {
    const s = results.sdk.find((r) => r.n === d.n);
    if (!s) continue;
    console.log(`| ${fmt(d.n)} | ${fmt(d.perS / s.perS, 2)}x | ${fmt(d.p50 / s.p50, 2)}x | ${fmt(d.p99 / s.p99, 2)}x | ${fmt(d.connPerS / s.connPerS, 2)}x | ${fmt(d.peakMb / s.peakMb, 2)}x |`);
  }
}

if (results.default) {
  const at = (n) => results.default.find((r) => r.n === n);
  const checks = [];
  const r500 = at(500);
  if (r500) {
    checks.push([`N=500 deliveries/s >= 6,900`, fmt(r500.perS), r500.perS >= 6900]);
    checks.push([`N=500 p99 < 150 ms`, fmt(r500.p99, 1), r500.p99 < 150]);
    checks.push([`N=500 connections/s >= 1,000`, fmt(r500.connPerS), r500.connPerS >= 1000]);
  }
  const r1000 = at(1000);
  if (r1000) {
    checks.push([`N=1,000 dev peak RSS < 300 MB`, fmt(r1000.peakMb), r1000.peakMb < 300]);
    checks.push([`N=1,000 nothing lost`, `${r1000.lost} lost, ${r1000.connectFailed} not connected`, r1000.lost === 0 && r1000.connectFailed === 0]);
  }
  if (checks.length > 0) {
    console.log("\nbudget (issue 6), default handlers\n");
    console.log("| budget | measured | |");
    console.log("|---|---:|---|");
    for (const [what, value, ok] of checks) console.log(`| ${what} | ${value} | ${ok ? "met" : "**MISSED**"} |`);
  }
}
