// A broadcast to 10,000 connections on `chatctl dev`, with and without the
// parallel path (clients and server on this machine, loopback).
//   node bench/broadcast.mjs [N=10000] [M=3]
// For each variant a fresh chatctl dev applies its spec; N plain ws clients
// connect (50 handshakes in flight); one sends M broadcasts, the next once all N
// received the previous one (bench/wsfanout.mjs). Reported per variant: wall
// time per broadcast (sent -> last of N received; p50 and max over M), lost and
// duplicated deliveries, dev CPU per delivery, and the dev tree's peak RSS.
//   single    bench/specs/chat-single.yaml: sendmessage posts to all N itself
//   parallel  bench/specs/chat-parallel.yaml: above 1,000 connections, segments of
//             ~2,500, each posted by an asynchronous broadcast invocation
import { join } from "node:path";
import { startChatctl } from "./emulators.mjs";
import { fmt, machine, requireDist, root, treeCpuSeconds, treeMemory } from "./lib.mjs";
import { runFanout } from "./wsfanout.mjs";

requireDist();
const n = Number(process.argv[2] ?? 10_000);
const m = Number(process.argv[3] ?? 3);
const variants = [
  ["single", join(root, "bench", "specs", "chat-single.yaml")],
  ["parallel", join(root, "bench", "specs", "chat-parallel.yaml")],
];

console.log(`# broadcast to ${fmt(n)}: ${machine()}`);
console.log("\n| path | N connected | broadcasts | p50 wall ms | max wall ms | lost | twice | dev CPU ms / delivery | connections/s | dev tree peak RSS MB |");
console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const [name, spec] of variants) {
  const dev = await startChatctl({ spec });
  try {
    let cpu0 = 0;
    let cpu = 0;
    const r = await runFanout({
      url: dev.url,
      n,
      broadcasts: m,
      warmup: 1,
      inFlight: 50,
      timeoutMs: 120_000,
      probe: (at) => {
        if (at === "before-broadcasts") cpu0 = treeCpuSeconds(dev.pids());
        if (at === "after-broadcasts") cpu = treeCpuSeconds(dev.pids()) - cpu0;
      },
    });
    const mem = treeMemory(dev.pids());
    if (r.error) throw new Error(`${name}: ${r.error}\n${dev.tail()}`);
    console.log(
      `| ${name} | ${fmt(r.connected)} | ${m} | ${fmt(r.p50)} | ${fmt(r.max)} | ${r.lost}${r.timedOut ? " (timed out)" : ""} | ${r.duplicates} | ${fmt((cpu * 1000) / r.deliveries, 3)} | ${fmt(r.connPerS)} | ${fmt(mem.peakMb)} |`,
    );
  } finally {
    await dev.stop();
  }
}
