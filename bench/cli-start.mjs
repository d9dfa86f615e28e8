// CLI start-up: wall time of `chatctl --version` and `chatctl --help`, each a
// fresh `node bin/chatctl.js` process, from spawn to exit.
//   node bench/cli-start.mjs [runs=10]
// Also bare `node -e ""`: what any Node CLI pays before its first line.
import { spawnSync } from "node:child_process";
import { cliBin, fmt, machine, median, quantile, requireDist, root } from "./lib.mjs";

requireDist();
const runs = Number(process.argv[2] ?? 10);
const BUDGET_MS = 300;

function wallMs(args) {
  const t = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: root, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`node ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return ms;
}


const cases = [
  ["node -e \"\" (no CLI)", ["-e", ""]],
  ["chatctl --version", [cliBin, "--version"]],
  ["chatctl --help", [cliBin, "--help"]],
];

console.log(`# cli start: ${machine()}`);
console.log(`# ${runs} runs each after one warm-up run (file cache warm), spawn to exit`);
console.log("");
console.log("| command | median ms | p90 ms | min ms | budget |");
console.log("|---|---:|---:|---:|---|");
for (const [label, args] of cases) {
  wallMs(args);
  const times = Array.from({ length: runs }, () => wallMs(args));
  const m = median(times);
  const budget = label.startsWith("chatctl") ? (m < BUDGET_MS ? `met (< ${BUDGET_MS} ms)` : `**MISSED** (< ${BUDGET_MS} ms)`) : "";
  console.log(`| ${label} | ${fmt(m)} | ${fmt(quantile(times, 0.9))} | ${fmt(Math.min(...times))} | ${budget} |`);
}
