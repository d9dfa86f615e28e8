// chatctl dev against serverless-offline, measured in the same run by a client
// that is neither's (bench/wsfanout.mjs), each emulator on a fresh process for
// every row, loopback only, bounded in count and time.
//   node bench/compare.mjs [--peer-dir DIR] [--only chatctl|peer] [--sizes 500,1000] [--quick]
// The peer is installed into DIR (CHATCTL_PEER_DIR; /work/scratch/peer by default)
// on first use; nothing of it is kept in this repository.
//
// Per row: idle RSS of the emulator's whole process tree once ready, N clients
// (32 handshakes in flight, after 32 warm-up handshakes), M broadcasts with the
// next sent when all N received the last (window 1) or 8 in flight (window 8).
//   CPU ms / delivery   user+system time of every process in the tree during the M broadcasts / deliveries
//   deliveries/s        deliveries / (last received - first sent)
//   p50 / p99 / max     per broadcast, sent -> received by the last of the N clients
//   connections/s       N / (N-th open - first handshake); on the largest row also for a second
//                       N handshakes once the first N were closed and their $disconnects done
//                       (a load test run again against the same server: code already compiled)
//   peak RSS            the sum over the tree of each process's VmHWM, read before it stops
import { loadavg } from "node:os";
import { startChatctl, startPeer, peerDir } from "./emulators.mjs";
import { fmt, machine, requireDist, treeCpuSeconds, treeMemory, waitForIdleCpu, waitForQuietTree } from "./lib.mjs";
import { runFanout } from "./wsfanout.mjs";

requireDist();

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
};
const quick = process.argv.includes("--quick");
const only = arg("--only", "");
const sizes = arg("--sizes", quick ? "100" : "500,1000").split(",").map(Number);
const dir = peerDir();
const IN_FLIGHT = 32;
const broadcastsFor = (n, window) => (quick ? 10 : window > 1 ? 64 : n >= 1000 ? 30 : 40);

const emulators = [
  ["chatctl", () => startChatctl()],
  ["peer", () => startPeer(dir)],
].filter(([key]) => !only || only === key);


async function measure(start, n, window) {
  const emu = await start();
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const idle = treeMemory(emu.pids());
    let cpuOpen0 = 0;
    let cpuOpen = 0;
    let quietBeforeReopen = true;
    let cpuReopen0 = 0;
    let cpuReopen = 0;
    let cpu0 = 0;
    let cpu = 0;
    const r = await runFanout({
      url: emu.url,
      n,
      broadcasts: broadcastsFor(n, window),
      window,
      inFlight: IN_FLIGHT,
      probe: (at) => {
        const s = treeCpuSeconds(emu.pids());
        if (at === "before-open") cpuOpen0 = s;
        if (at === "after-open") cpuOpen = s - cpuOpen0;
        if (at === "before-broadcasts") cpu0 = s;
        if (at === "after-broadcasts") cpu = s - cpu0;
        if (at === "before-reopen") cpuReopen0 = s;
        if (at === "after-reopen") cpuReopen = s - cpuReopen0;
      },
      // Only the largest row runs a second wave of handshakes (the connections/s target's row).
      reopen: window === 1 && n === sizes[sizes.length - 1],
      settle: async () => {
        quietBeforeReopen = await waitForQuietTree(emu.pids());
      },
    });
    const peak = treeMemory(emu.pids());
    if (r.error) throw new Error(`${emu.name}, N=${n}: ${r.error}\n${emu.tail()}`);
    return {
      ...r,
      emulator: emu.name,
      cpuPerDeliveryMs: (cpu * 1000) / r.deliveries,
      cpuPerConnectionMs: (cpuOpen * 1000) / r.connected,
      ...(r.again ? { connPerSAgain: r.again.connPerS, cpuPerConnectionAgainMs: (cpuReopen * 1000) / r.again.connected, reopenFailed: r.again.connectFailed, quietBeforeReopen } : {}),
      idleMb: idle.rssMb,
      idleProcesses: idle.processes,
      peakMb: peak.peakMb,
      processes: peak.processes,
    };
  } finally {
    await emu.stop();
  }
}

console.log(`# compare: ${machine()}`);
console.log(`# peer: ${dir}; client: bench/wsfanout.mjs (plain ws), ${IN_FLIGHT} handshakes in flight`);
const rows = [];
const plan = [...sizes.map((n) => [n, 1]), [sizes[0], 8]];
for (const [n, window] of plan) {
  for (const [key, start] of emulators) {
    const idle = await waitForIdleCpu();
    const load = loadavg()[0];
    const r = await measure(start, n, window);
    rows.push({ key, ...r, load, idle });
  }
}

console.log("\n| emulator | N | window | deliveries/s | p50 ms | p99 ms | max ms | CPU ms / delivery | connections/s | CPU ms / connection | idle RSS MB (processes) | peak RSS MB (processes) | lost | refused handshakes | load (1 min) | CPU idle before |");
console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const r of rows) {
  console.log(
    `| ${r.emulator} | ${fmt(r.n)} | ${r.window} | ${fmt(r.perS)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${fmt(r.max, 1)} | ${fmt(r.cpuPerDeliveryMs, 3)} | ${fmt(r.connPerS)}${r.connPerSAgain !== undefined ? ` (next N: ${fmt(r.connPerSAgain)}${r.quietBeforeReopen ? "" : ", its tree still busy after 30 s"})` : ""} | ${fmt(r.cpuPerConnectionMs, 2)}${r.cpuPerConnectionAgainMs !== undefined ? ` (${fmt(r.cpuPerConnectionAgainMs, 2)})` : ""} | ${fmt(r.idleMb)} (${r.idleProcesses}) | ${fmt(r.peakMb)} (${r.processes}) | ${r.lost}${r.duplicates ? ` (+${r.duplicates} twice)` : ""} | ${r.connectFailed}${r.reopenFailed ? ` (+${r.reopenFailed})` : ""} | ${r.load.toFixed(2)} | ${Math.round(r.idle * 100)}% |`,
  );
}

const find = (key, n, window) => rows.find((r) => r.key === key && r.n === n && r.window === window);
const targets = [];
// [what, value of a row, target test on chatctl's figure (and the ratio), or undefined for a figure without a target]
const add = (what, n, window, value, meets, digits = 0) => {
  const ours = find("chatctl", n, window);
  const peer = find("peer", n, window);
  const a = ours ? value(ours) : NaN;
  const b = peer ? value(peer) : NaN;
  const ratio = a / b;
  targets.push([what, fmt(a, digits), fmt(b, digits), Number.isFinite(ratio) ? `${fmt(ratio, 2)}x` : "n/a", !ours ? "n/a" : meets === undefined ? "(no target)" : meets(a, ratio) ? "met" : "**MISSED**"]);
};
for (const n of sizes) {
  add(`CPU ms / delivery, N=${fmt(n)} (target <= 0.15)`, n, 1, (r) => r.cpuPerDeliveryMs, (a) => a <= 0.15, 3);
  add(`deliveries/s, N=${fmt(n)} (target >= 3x the peer)`, n, 1, (r) => r.perS, (_, ratio) => ratio >= 3);
  add(`p99 of a broadcast ms, N=${fmt(n)}`, n, 1, (r) => r.p99, undefined, 1);
}
const big = sizes[sizes.length - 1];
add(`connections/s, N=${fmt(big)}, ${IN_FLIGHT} in flight, first N on a fresh server (target >= 1,000)`, big, 1, (r) => r.connPerS, (a) => a >= 1000);
add(`connections/s, N=${fmt(big)}, ${IN_FLIGHT} in flight, the next N once those left (target >= 1,000)`, big, 1, (r) => r.connPerSAgain, (a) => a >= 1000);
add(`CPU ms / connection, first N`, big, 1, (r) => r.cpuPerConnectionMs, undefined, 2);
add(`CPU ms / connection, the next N`, big, 1, (r) => r.cpuPerConnectionAgainMs, undefined, 2);
add(`window 8 p99 / p50, N=${fmt(sizes[0])} (target <= 3)`, sizes[0], 8, (r) => r.p99 / r.p50, (a) => a <= 3, 2);
add(`window 8 max ms, N=${fmt(sizes[0])}`, sizes[0], 8, (r) => r.max, undefined, 1);
add(`idle RSS once applied MB, whole tree (target <= 150)`, sizes[0], 1, (r) => r.idleMb, (a) => a <= 150);
add(`peak RSS MB at N=${fmt(big)}, whole tree (target <= 300)`, big, 1, (r) => r.peakMb, (a) => a <= 300);
add(`lost or twice-delivered messages, all rows (target 0)`, sizes[0], 1, (row) => rows.filter((r) => r.key === row.key).reduce((s, r) => s + r.lost + r.duplicates, 0), (a) => a === 0);

console.log(`\ntargets (issue 16): chatctl dev / serverless-offline in the same run; load average now ${loadavg().map((l) => l.toFixed(2)).join(" ")}\n`);
console.log("| target | chatctl dev | serverless-offline + dynalite | ratio | |");
console.log("|---|---:|---:|---:|---|");
for (const t of targets) console.log(`| ${t.join(" | ")} |`);
