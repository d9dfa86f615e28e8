// Interleaved A/B of a fresh server's first wave of handshakes: run
// bench/connections.mjs (1 wave) with build A, then build B, pair after pair, and
// compare the means. On a small VM two batches of the same build differ by up to
// ±5%; pairs taken back to back share the machine's state, which is what makes a
// 2-3% change visible at all. The tree's CPU per connection is steadier than the rate.
//   node bench/ab.mjs --a <chatctl bin of build A> [--b <bin of build B; this tree's by default>]
//                     [--pairs 5] [--n 1000] [--in-flight 32] [--spec chat.yaml]
// Build A is usually a worktree of the commit before: `git worktree add /tmp/base HEAD~1`,
// `ln -s "$PWD/node_modules" /tmp/base/`, `(cd /tmp/base && npx tsc -p tsconfig.json)`,
// then `--a /tmp/base/bin/chatctl.js`.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { fmt } from "./lib.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
};
const a = arg("--a", undefined);
const b = arg("--b", join(here, "..", "bin", "chatctl.js"));
const pairs = Number(arg("--pairs", "5"));
const n = arg("--n", "1000");
const inFlight = arg("--in-flight", "32");
const spec = arg("--spec", undefined);
if (!a || !existsSync(a) || !existsSync(b)) {
  console.error("usage: node bench/ab.mjs --a <chatctl bin of build A> [--b <bin>] [--pairs 5] [--n 1000] [--in-flight 32] [--spec chat.yaml]");
  process.exit(2);
}

/** One fresh server's first wave with this build: [connections/s, tree ms, main-thread ms] per connection. */
function wave(cli) {
  const out = execFileSync(process.execPath, [join(here, "connections.mjs"), n, "1", inFlight, ...(spec ? ["--spec", resolve(spec)] : [])], {
    env: { ...process.env, BENCH_CLI: resolve(cli) },
    encoding: "utf8",
  });
  const row = out.split("\n").find((l) => l.startsWith("| 1 |"));
  if (!row) throw new Error(`no wave 1 row in bench/connections.mjs's output:\n${out}`);
  const cells = row.split("|").map((c) => c.trim().replace(/,/g, ""));
  return [Number(cells[2]), Number(cells[3]), Number(cells[4])];
}

const mean = (rows, i) => rows.reduce((s, r) => s + r[i], 0) / rows.length;
const change = (x, y) => `${y >= x ? "+" : ""}${fmt((100 * (y - x)) / x, 1)}%`;
const seenA = [];
const seenB = [];
console.log(`# A/B, ${pairs} pairs of one fresh server's first ${n} handshakes (${inFlight} in flight)\n# A: ${a}\n# B: ${b}`);
console.log("\n| pair | A connections/s | A tree ms | A main ms | B connections/s | B tree ms | B main ms |\n|---:|---:|---:|---:|---:|---:|---:|");
for (let i = 1; i <= pairs; i++) {
  const ra = wave(a);
  const rb = wave(b);
  seenA.push(ra);
  seenB.push(rb);
  console.log(`| ${i} | ${fmt(ra[0])} | ${fmt(ra[1], 2)} | ${fmt(ra[2], 2)} | ${fmt(rb[0])} | ${fmt(rb[1], 2)} | ${fmt(rb[2], 2)} |`);
}
const [rateA, treeA, mainA] = [0, 1, 2].map((i) => mean(seenA, i));
const [rateB, treeB, mainB] = [0, 1, 2].map((i) => mean(seenB, i));
console.log(`\nmeans: connections/s ${fmt(rateA)} -> ${fmt(rateB)} (${change(rateA, rateB)}), tree CPU ms per connection ${fmt(treeA, 3)} -> ${fmt(treeB, 3)} (${change(treeA, treeB)}), main thread ${fmt(mainA, 3)} -> ${fmt(mainB, 3)} (${change(mainA, mainB)})`);
