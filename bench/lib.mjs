// Helpers shared by the bench scripts: where dist/ is, the machine, statistics.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const cliBin = join(root, "bin", "chatctl.js");

/** The bench scripts run the built CLI; say how to build it rather than fail on an import. */
export function requireDist() {
  if (!existsSync(join(root, "dist", "cli", "main.js"))) {
    console.error("dist/ is missing: build first with `npx tsc -p tsconfig.json` (the benches run the built CLI).");
    process.exit(1);
  }
}

export function distUrl(path) {
  return pathToFileURL(join(root, "dist", path)).href;
}

export function machine() {
  const model = cpus()[0]?.model ?? "unknown CPU";
  // The load average says how much else ran on the machine: its cores are shared.
  const load = loadavg().map((l) => l.toFixed(2)).join(" ");
  return `${new Date().toISOString().slice(0, 10)}; ${cpus().length} cores (${model}); ${(totalmem() / 2 ** 30).toFixed(1)} GiB; node ${process.version}; ${process.platform}; load average ${load}`;
}

export function median(xs) {
  return quantile(xs, 0.5);
}

/** Nearest-rank quantile: p99 of 200 samples is the 198th smallest. */
export function quantile(xs, q) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

/** Peak and current resident set of a process (Linux), in MB. */
export function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { peakMb: kb("VmHWM") / 1024, rssMb: kb("VmRSS") / 1024 };
}

/**
 * The fields of a /proc/.../stat file after the command name, so field N of stat(5)
 * is [N - 3] (the name may hold spaces and parentheses: it ends at the last ")");
 * undefined once the process or thread is gone.
 */
export function procStat(path) {
  try {
    const stat = readFileSync(path, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process has used so far (Linux; all its threads). */
export function cpuSecondsOf(pid) {
  const fields = procStat(`/proc/${pid}/stat`);
  if (!fields) throw new Error(`no process ${pid}`);
  // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export function fmt(n, digits = 0) {
  if (!Number.isFinite(n)) return "n/a";
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** The pid and every live descendant of it (Linux: /proc/<pid>/stat's ppid field). */
export function treePids(rootPid) {
  const children = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = procStat(`/proc/${entry}/stat`);
    if (!fields) continue; // the process ended while we looked
    const ppid = Number(fields[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  const out = [];
  const stack = [rootPid];
  while (stack.length > 0) {
    const pid = stack.pop();
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

/**
 * CPU seconds (user + system) of every process under the given roots, the time of
 * children that ended and were waited for included (cutime + cstime).
 */
export function treeCpuSeconds(rootPids) {
  let ticks = 0;
  for (const root of rootPids) {
    for (const pid of treePids(root)) {
      const f = procStat(`/proc/${pid}/stat`);
      // utime, stime, cutime, cstime: fields 14-17 of stat(5), in clock ticks.
      if (f) ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    }
  }
  return ticks / 100;
}

/** Resident memory of every process under the roots, in MB: the sum now, and the sum of each one's peak. */
export function treeMemory(rootPids) {
  let rssMb = 0;
  let peakMb = 0;
  let processes = 0;
  for (const root of rootPids) {
    for (const pid of treePids(root)) {
      try {
        const m = memoryOf(pid);
        if (!Number.isFinite(m.rssMb)) continue;
        rssMb += m.rssMb;
        peakMb += m.peakMb;
        processes++;
      } catch {
        // gone
      }
    }
  }
  return { rssMb, peakMb, processes };
}

/**
 * The machine's busy and total CPU time so far (the `cpu` line of /proc/stat, in ticks):
 * user through steal; guest time is already counted in user (proc(5)).
 */
export function machineTicks() {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

/**
 * Waits (at most `limitMs`) until the machine's CPUs were at least 85% idle over
 * one second, so a row does not start while the last one's processes still wind
 * down; returns that last second's idle share.
 */
export async function waitForIdleCpu(limitMs = 60_000) {
  const until = Date.now() + limitMs;
  for (;;) {
    const a = machineTicks();
    await new Promise((r) => setTimeout(r, 1000));
    const b = machineTicks();
    const idle = b.total > a.total ? 1 - (b.busy - a.busy) / (b.total - a.total) : 1;
    if (idle >= 0.85 || Date.now() > until) return idle;
  }
}

/**
 * Waits until a process tree uses under 5% of a core for half a second (its
 * $disconnects done, say), at most `limitMs`; false if it never went quiet.
 */
export async function waitForQuietTree(pids, limitMs = 30_000) {
  const until = Date.now() + limitMs;
  let last = treeCpuSeconds(pids);
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 500));
    const now = treeCpuSeconds(pids);
    if (now - last < 0.025) return true;
    last = now;
  }
  return false;
}
