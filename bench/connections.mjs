// Connections/s of chatctl dev wave after wave: the first N handshakes on a fresh
// server pay for V8 compiling the path (TurboFan on its helper threads, the rest
// run unoptimized), the later ones show what a long load test gets. Between waves
// every client closes and the tree goes quiet ($disconnect done).
//   node bench/connections.mjs [N=1000] [waves=4] [handshakes in flight=32] [--spec chat.yaml]
// (specs/chat.yaml by default: the default handlers; --spec measures another project's, e.g. one
// written by `chatctl init`, whose handlers use the AWS SDK's DocumentClient)
// Per wave: connections/s (N / first handshake to N-th open), CPU ms per
// connection of the whole dev tree and of its main thread (the gateway, the
// local cloud, dynalite), the same for the wave's closes, and the client's own
// CPU per handshake: it shares the machine's cores with the dev tree, so on 2
// cores 1,000/s leaves the tree 2 ms per connection minus the client's share.
// The client first opens 3 x N handshakes against a plain `ws` server in another
// process, so wave 1 measures a fresh dev server, not a fresh client too (as in
// bench/compare.mjs, whose client is warm by its 1,000 row); --cold-client skips that.
// The last two columns: how busy the machine's cores were during the wave (/proc/stat), and
// the rate the machine would cap this wave at if every core ran nothing but the dev tree and
// the client at the CPU per connection measured (cores x 1,000 / (tree ms + client ms)).
// --threads adds, per wave, each dev thread's CPU ms and the ms it spent runnable
// but waiting for a core (/proc/PID/task/TID/schedstat): which thread holds the
// wave back, and what takes its cores.
import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startChatctl, startProcess } from "./emulators.mjs";
import { fmt, machine, machineTicks, procStat, requireDist, treeCpuSeconds, waitForQuietTree } from "./lib.mjs";
import { openClients } from "./wsfanout.mjs";

requireDist();
const specAt = process.argv.indexOf("--spec");
const spec = specAt >= 0 ? process.argv[specAt + 1] : undefined;
const showThreads = process.argv.includes("--threads");
const coldClient = process.argv.includes("--cold-client");
const [n = 1000, waves = 4, inFlight = 32] = process.argv
  .slice(2)
  .filter((a, i, all) => !a.startsWith("--") && all[i - 1] !== "--spec")
  .map(Number);

/** utime + stime of one thread, in seconds (/proc/PID/task/TID/stat fields 14-15). */
function threadCpuSeconds(pid, tid) {
  const f = procStat(`/proc/${pid}/task/${tid}/stat`);
  return f ? (Number(f[11]) + Number(f[12])) / 100 : 0;
}

/** CPU ms and run-queue wait ms of every thread of `pid` (schedstat: ns on CPU, ns waiting, slices). */
function threadTimes(pid) {
  const out = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const [, waitNs] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").trim().split(" ").map(Number);
      out.set(tid, { cpuMs: threadCpuSeconds(pid, tid) * 1000, waitMs: waitNs / 1e6 });
    } catch {
      // the thread ended
    }
  }
  return out;
}

/** The client's own code paths compiled against a throwaway server in another process, which shares nothing with the dev server. */
async function warmClient() {
  const server = startProcess(process.execPath, ["--input-type=module", "-e", 'import { WebSocketServer } from "ws"; const s = new WebSocketServer({ host: "127.0.0.1", port: 0 }); s.on("listening", () => console.log(`warm-up server on ${s.address().port}`));'], {
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    env: process.env,
    ready: /warm-up server on (\d+)/,
    limitMs: 10_000,
  });
  try {
    const [, port] = await server.started;
    for (let i = 0; i < 3; i++) {
      const { clients } = await openClients(`ws://127.0.0.1:${port}/warm-up`, n, inFlight, () => undefined);
      for (const ws of clients) ws.terminate();
    }
  } finally {
    await server.stop();
  }
}

if (!coldClient) await warmClient();
const emu = await startChatctl(spec ? { spec: resolve(spec) } : {});
const pid = emu.pids()[0];
const clientCpuSeconds = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};
const cores = availableParallelism();
const sample = () => ({ tree: treeCpuSeconds(emu.pids()), main: threadCpuSeconds(pid, pid), client: clientCpuSeconds(), threads: readdirSync(`/proc/${pid}/task`).length, machine: machineTicks() });
const busyShare = (a, b) => `${fmt((100 * (b.machine.busy - a.machine.busy)) / Math.max(1, b.machine.total - a.machine.total))}%`;
const ceiling = (a, b) => fmt((cores * n) / (b.tree - a.tree + b.client - a.client));
const perConn = (a, b, key) => fmt(((b[key] - a[key]) * 1000) / n, 2);
console.log(`# connections: ${machine()}; N=${n}, ${inFlight} handshakes in flight, chatctl dev on ${spec ?? "specs/chat.yaml"} (bench/wsfanout.mjs client, ${coldClient ? "cold" : "warmed on another server first"})`);
console.log("\n| wave | connections/s | CPU ms / connection (tree) | of which main thread | client CPU ms / connection | CPU ms / close (tree) | of which main thread | refused | threads | cores busy | ceiling /s at this CPU |");
console.log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
const threadLines = [];
try {
  // The same 32 untimed warm-up handshakes as bench/compare.mjs.
  const warm = await openClients(emu.url, inFlight, inFlight, () => undefined);
  for (const ws of warm.clients) ws.close();
  await waitForQuietTree(emu.pids());
  for (let wave = 1; wave <= waves; wave++) {
    const before = sample();
    const threadsBefore = showThreads ? threadTimes(pid) : undefined;
    const opened = await openClients(emu.url, n, inFlight, () => undefined);
    const open = sample();
    const threadsAfter = showThreads ? threadTimes(pid) : undefined;
    for (const ws of opened.clients) ws.close();
    await waitForQuietTree(emu.pids());
    const closed = sample();
    const rate = opened.clients.length / (opened.ms / 1000);
    if (threadsBefore && threadsAfter) {
      const wall = opened.ms;
      const rows = [...threadsAfter].map(([tid, t]) => ({ tid, cpu: t.cpuMs - (threadsBefore.get(tid)?.cpuMs ?? 0), wait: t.waitMs - (threadsBefore.get(tid)?.waitMs ?? 0), fresh: !threadsBefore.has(tid) }));
      const busy = rows.filter((r) => r.cpu > 0).sort((a, b) => b.cpu - a.cpu);
      threadLines.push(`wave ${wave} (${fmt(wall)} ms): ` + busy.map((r) => `${r.tid === String(pid) ? "main" : r.tid}${r.fresh ? " (new)" : ""} ${fmt(r.cpu)} ms CPU + ${fmt(r.wait)} ms waiting`).join("; "));
    }
    console.log(`| ${wave} | ${fmt(rate)} | ${perConn(before, open, "tree")} | ${perConn(before, open, "main")} | ${perConn(before, open, "client")} | ${perConn(open, closed, "tree")} | ${perConn(open, closed, "main")} | ${opened.failed} | ${open.threads} | ${busyShare(before, open)} | ${ceiling(before, open)} |`);
  }
  if (threadLines.length > 0) console.log(`\nThreads of the dev process (ids as /proc numbers them; the main thread runs the gateway, the local cloud and dynalite):\n${threadLines.map((l) => `- ${l}`).join("\n")}`);
} finally {
  await emu.stop();
}
