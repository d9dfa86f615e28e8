// `npm run bench`: every benchmark in sequence, each bounded in count and time,
// loopback only. Build first: npx tsc -p tsconfig.json
//   node bench/run.mjs            all of them (about 20 minutes on 2 cores: compare and broadcast are most of it)
//   node bench/run.mjs fanout     only the named ones (cli-start, apply, fanout, bundle-size, fanout-cpu, compare, connections, broadcast, console)
// `compare` runs chatctl dev and serverless-offline side by side (bench/compare.mjs);
// the peer is installed on first use into CHATCTL_PEER_DIR (or --peer-dir DIR).
import { spawn } from "node:child_process";
import { join } from "node:path";
import { machine, requireDist, root } from "./lib.mjs";

requireDist();

// [name, script args, time limit]: the limit stops a bench that hangs, it is not a target.
const benches = [
  ["cli-start", ["cli-start.mjs", "10"], 60_000],
  ["apply", ["apply.mjs", "50"], 120_000],
  ["bundle-size", ["bundle-size.mjs", "9"], 180_000],
  ["fanout-cpu", ["fanout-cpu.mjs", "2000", "5", "64"], 120_000],
  ["fanout", ["fanout.mjs", "10,100,500,1000", "200", "default,sdk"], 480_000],
  ["compare", ["compare.mjs", ...peerArgs()], 900_000],
  ["connections", ["connections.mjs", "1000", "4"], 300_000],
  ["broadcast", ["broadcast.mjs", "10000", "3"], 600_000],
  ["console", ["console.mjs", "1000", "5", "2000"], 180_000],
];

function peerArgs() {
  const i = process.argv.indexOf("--peer-dir");
  return i >= 0 && process.argv[i + 1] ? ["--peer-dir", process.argv[i + 1]] : [];
}

const only = process.argv.slice(2).filter((a, i, all) => a !== "--peer-dir" && all[i - 1] !== "--peer-dir");
console.log(`# npm run bench: ${machine()}`);
let failed = 0;
for (const [name, args, limitMs] of benches) {
  if (only.length > 0 && !only.includes(name)) continue;
  console.log(`\n## ${name}: node bench/${args.join(" ")}\n`);
  const t = performance.now();
  const code = await new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, "bench", args[0]), ...args.slice(1)], { cwd: root, stdio: "inherit", detached: true });
    // The whole group: a bench's own children (chatctl dev, dynalite) go with it.
    const timer = setTimeout(() => {
      console.error(`\n${name}: still running after ${limitMs / 1000} s; stopped.`);
      process.kill(-child.pid, "SIGKILL");
    }, limitMs);
    const interrupt = () => process.kill(-child.pid, "SIGTERM");
    process.once("SIGINT", interrupt);
    child.once("exit", (c, signal) => {
      process.off("SIGINT", interrupt);
      clearTimeout(timer);
      resolve(c ?? signal);
    });
  });
  console.log(`\n(${name}: ${((performance.now() - t) / 1000).toFixed(1)} s${code === 0 ? "" : `, exit ${code}`})`);
  if (code !== 0) failed++;
}
process.exitCode = failed > 0 ? 1 : 0;
