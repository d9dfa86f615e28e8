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
import { readdirSync } from "node:fs";
import { resolve } from "node:path";
import { startChatctl } from "./emulators.mjs";
import { fmt, machine, procStat, requireDist, treeCpuSeconds, waitForQuietTree } from "./lib.mjs";
import { openClients } from "./wsfanout.mjs";

requireDist();
const specAt = process.argv.indexOf("--spec");
const spec = specAt >= 0 ? process.argv[specAt + 1] : undefined;
const [n = 1000, waves = 4, inFlight = 32] = process.argv
  .slice(2)
  .filter((_, i, all) => all[i] !== "--spec" && all[i - 1] !== "--spec")
  .map(Number);

/** utime + stime of one thread, in seconds (/proc/PID/task/TID/stat fields 14-15). */
function threadCpuSeconds(pid, tid) {
  const f = procStat(`/proc/${pid}/task/${tid}/stat`);
  return f ? (Number(f[11]) + Number(f[12])) / 100 : 0;
}


const emu = await startChatctl(spec ? { spec: resolve(spec) } : {});
const pid = emu.pids()[0];
const clientCpuSeconds = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};
const sample = () => ({ tree: treeCpuSeconds(emu.pids()), main: threadCpuSeconds(pid, pid), client: clientCpuSeconds(), threads: readdirSync(`/proc/${pid}/task`).length });
const perConn = (a, b, key) => fmt(((b[key] - a[key]) * 1000) / n, 2);
console.log(`# connections: ${machine()}; N=${n}, ${inFlight} handshakes in flight, chatctl dev on ${spec ?? "specs/chat.yaml"} (bench/wsfanout.mjs client)`);
console.log("\n| wave | connections/s | CPU ms / connection (tree) | of which main thread | client CPU ms / connection | CPU ms / close (tree) | of which main thread | refused | threads |");
console.log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
try {
  // The same 32 untimed warm-up handshakes as bench/compare.mjs.
  const warm = await openClients(emu.url, inFlight, inFlight, () => undefined);
  for (const ws of warm.clients) ws.close();
  await waitForQuietTree(emu.pids());
  for (let wave = 1; wave <= waves; wave++) {
    const before = sample();
    const opened = await openClients(emu.url, n, inFlight, () => undefined);
    const open = sample();
    for (const ws of opened.clients) ws.close();
    await waitForQuietTree(emu.pids());
    const closed = sample();
    const rate = opened.clients.length / (opened.ms / 1000);
    console.log(`| ${wave} | ${fmt(rate)} | ${perConn(before, open, "tree")} | ${perConn(before, open, "main")} | ${perConn(before, open, "client")} | ${perConn(open, closed, "tree")} | ${perConn(open, closed, "main")} | ${opened.failed} | ${open.threads} |`);
  }
} finally {
  await emu.stop();
}
