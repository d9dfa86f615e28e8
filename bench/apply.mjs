// Apply speed against the local cloud with a delay on every AWS call (50 ms, like a region).
//   node bench/apply.mjs [delayMs=50]
//
// 1. In this process, against an empty local cloud: what `chatctl apply` does
//    (prepare: bundle + STS; take the stack lock; plan: read every resource;
//    execute the plan; release the lock), with every SDK call recorded from the
//    client side: its operation, start, end, and which task made it.
//    Then a no-op plan (what `chatctl plan` does) against the stack just made.
// 2. The real CLI, `chatctl apply --auto-approve` as a child process, against a
//    second empty cloud: the wall time a user sees, node start-up included.
//
// Critical path, in AWS calls: the fewest sequential calls this apply could be
// done in, given the dependencies, at any concurrency:
//   - each task (prepare, lock, one resource's read, one kind's orphan listing,
//     one plan step, unlock) weighs the longest chain of its own calls that ran
//     one after another (calls of one task that overlapped count once);
//   - reads form a DAG (a read waits for the reads its Refs name), the orphan
//     listings follow all reads, the plan's steps form a DAG (dependsOn);
//   - the phases run in sequence: prepare, lock, plan, execute, unlock.
// The critical path is the heaviest path through that; its time is the sum of
// the measured durations of the calls on it. Wall over critical path is 1.0
// when nothing but dependencies made anything wait.
import { spawn } from "node:child_process";
import { AsyncLocalStorage } from "node:async_hooks";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliBin, distUrl, fmt, machine, requireDist, root } from "./lib.mjs";

requireDist();
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

const delayMs = Number(process.argv[2] ?? 50);
const spec = join(root, "specs", "chat.yaml");
const credentials = { accessKeyId: "bench", secretAccessKey: "bench" };

const { startLocalCloud } = await import(distUrl("local/cloud.js"));
const { prepareStack } = await import(distUrl("stack/prepare.js"));
const { planStack, executeStack } = await import(distUrl("stack/run.js"));
const { acquireStackLock } = await import(distUrl("stack/lock.js"));
const { registry } = await import(distUrl("resources/registry.js"));
const { collectRefs } = await import(distUrl("resources/refs.js"));
const { hasChanges } = await import(distUrl("plan/planner.js"));
const { LambdaClient } = await import("@aws-sdk/client-lambda");

// Every SDK client's send goes through the one smithy Client.prototype.send.
const task = new AsyncLocalStorage();
let calls = [];
const clientProto = Object.getPrototypeOf(LambdaClient.prototype);
const originalSend = clientProto.send;
clientProto.send = function (command, ...rest) {
  const record = { task: task.getStore() ?? "(none)", service: this.constructor.name.replace(/Client$/, ""), op: command.constructor.name.replace(/Command$/, ""), start: performance.now(), end: NaN };
  calls.push(record);
  const out = originalSend.call(this, command, ...rest);
  const done = () => (record.end = performance.now());
  if (out && typeof out.then === "function") out.then(done, done);
  return out;
};
// Which resource each read, listing and step is for. A step that reads its own
// resource (during execute) stays that step's task.
const inStep = () => task.getStore()?.startsWith("step:") === true;
for (const kind of Object.values(registry)) {
  const read = kind.read;
  kind.read = (ctx, d) => (inStep() ? read.call(kind, ctx, d) : task.run(`read:${d.id}`, () => read.call(kind, ctx, d)));
  if (kind.list) {
    const list = kind.list;
    kind.list = (ctx, parents) => task.run(`list:${kind.kind}`, () => list.call(kind, ctx, parents));
  }
}

const READ_OPS = /^(Get|List|Describe|Scan|Query|BatchGet)/;
const isWrite = (c) => !READ_OPS.test(c.op);

/** Longest run of one-after-another calls among `cs`: count and summed duration. */
function chain(cs) {
  const sorted = [...cs].sort((a, b) => a.start - b.start);
  const best = [];
  let top = { count: 0, ms: 0 };
  for (let i = 0; i < sorted.length; i++) {
    let prev = { count: 0, ms: 0 };
    for (let j = 0; j < i; j++) {
      if (sorted[j].end <= sorted[i].start && (best[j].count > prev.count || (best[j].count === prev.count && best[j].ms > prev.ms))) prev = best[j];
    }
    best[i] = { count: prev.count + 1, ms: prev.ms + (sorted[i].end - sorted[i].start) };
    if (best[i].count > top.count || (best[i].count === top.count && best[i].ms > top.ms)) top = best[i];
  }
  return top;
}

const add = (a, b) => ({ count: a.count + b.count, ms: a.ms + b.ms });
const heavier = (a, b) => (b.count > a.count || (b.count === a.count && b.ms > a.ms) ? b : a);

/** Heaviest path through a DAG: nodes [{ id, deps, weight }]. */
function longestPath(nodes) {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const memo = new Map();
  const visit = (id) => {
    if (memo.has(id)) return memo.get(id);
    const n = byId.get(id);
    let before = { count: 0, ms: 0 };
    for (const d of n.deps) if (byId.has(d) && d !== id) before = heavier(before, visit(d));
    const total = add(before, n.weight);
    memo.set(id, total);
    return total;
  };
  return nodes.reduce((top, n) => heavier(top, visit(n.id)), { count: 0, ms: 0 });
}

const callsOf = (name) => calls.filter((c) => c.task === name);

async function inProcessApply() {
  const dir = mkdtempSync(join(tmpdir(), "chatctl-bench-apply-"));
  const cloud = await startLocalCloud({ certDir: join(dir, "tls"), port: 0, callDelayMs: delayMs });
  try {
    const awsConfig = (region) => ({ region, endpoint: cloud.url, credentials });
    calls = [];
    const phases = {};
    const timed = async (name, fn) => {
      const t = performance.now();
      const out = await task.run(name, fn);
      phases[name] = performance.now() - t;
      return out;
    };
    const t0 = performance.now();
    const p = await timed("prepare", () => prepareStack(spec, { awsConfig, bundle: true, color: false }));
    const lock = await timed("lock", () => acquireStackLock(p.clients, p.spec.stack, { operation: "apply", timeoutMs: 0 }));
    const { plan } = await timed("plan", () => planStack(p, "apply", { deleteData: false }));
    const result = await timed("execute", () =>
      executeStack(p, plan, {
        // Calls made by a step's kind run in the step's async context from here on.
        onEvent: (e) => {
          if (e.type === "started") task.enterWith(`step:${e.step.id}`);
        },
      }),
    );
    await timed("unlock", () => lock.release());
    const wall = performance.now() - t0;
    if (!result.ok) throw new Error(`the apply failed: ${result.errors.map((e) => `${e.step.id}: ${e.message}`).join("; ")}`);
    const applyCalls = calls;

    const readNodes = p.desired.map((d) => ({ id: d.id, deps: collectRefs(d.props).map((r) => r.$ref), weight: chain(callsOf(`read:${d.id}`)) }));
    if (process.env.BENCH_VERBOSE) {
      for (const n of readNodes) console.error(`read:${n.id} deps=${n.deps.join(",")} ${n.weight.count} calls: ${callsOf(`read:${n.id}`).map((x) => `${x.op}@${Math.round(x.start - t0)}-${Math.round(x.end - t0)}`).join(" ")}`);
      for (const x of calls.filter((x) => x.task.startsWith("list:"))) console.error(`${x.task} ${x.op}@${Math.round(x.start - t0)}-${Math.round(x.end - t0)}`);
    }
    const listing = Object.keys(registry).reduce((top, k) => heavier(top, chain(callsOf(`list:${k}`))), { count: 0, ms: 0 });
    const planPath = add(longestPath(readNodes.map((n) => ({ ...n, id: `read:${n.id}`, deps: n.deps.map((d) => `read:${d}`) }))), listing);
    const stepNodes = plan.steps.map((s) => ({ id: s.id, deps: s.dependsOn, weight: chain(callsOf(`step:${s.id}`)) }));
    const executePath = longestPath(stepNodes);
    const critical = {
      prepare: chain(callsOf("prepare")),
      lock: chain(callsOf("lock")),
      plan: planPath,
      execute: executePath,
      unlock: chain(callsOf("unlock")),
    };
    const total = Object.values(critical).reduce(add, { count: 0, ms: 0 });
    const unattributed = applyCalls.filter((c) => c.task === "(none)" || c.task === "plan" || c.task === "execute").length;
    const retriedSteps = result.steps.filter((s) => s.attempts > 1).map((s) => `${s.step.id} (${s.attempts} attempts)`);
    const stepCalls = new Map(plan.steps.map((s) => [s.id, callsOf(`step:${s.id}`)]));
    const bundleMs = phases.prepare - critical.prepare.ms;

    // A no-op plan: what `chatctl plan` does (no lock) against what was just applied.
    calls = [];
    const tn = performance.now();
    const p2 = await task.run("prepare", () => prepareStack(spec, { awsConfig, bundle: true, color: false }));
    const { plan: plan2 } = await task.run("plan", () => planStack(p2, "apply", { deleteData: false }));
    const noopWall = performance.now() - tn;
    const noopReads = p2.desired.map((d) => ({ id: `read:${d.id}`, deps: collectRefs(d.props).map((r) => `read:${r.$ref}`), weight: chain(callsOf(`read:${d.id}`)) }));
    const noopListing = Object.keys(registry).reduce((top, k) => heavier(top, chain(callsOf(`list:${k}`))), { count: 0, ms: 0 });
    const noopCritical = add(add(chain(callsOf("prepare")), longestPath(noopReads)), noopListing);
    const noop = { calls: calls.length, writes: calls.filter(isWrite).map((c) => `${c.service}.${c.op}`), wall: noopWall, critical: noopCritical, changes: hasChanges(plan2) };

    return { wall, phases, bundleMs, applyCalls, critical, total, unattributed, retriedSteps, steps: plan.steps.length, stepCalls, executeWall: phases.execute, noop };
  } finally {
    clientProto.send = originalSend;
    await cloud.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function cliApply() {
  const dir = mkdtempSync(join(tmpdir(), "chatctl-bench-apply-cli-"));
  const cloud = await startLocalCloud({ certDir: join(dir, "tls"), port: 0, callDelayMs: delayMs });
  try {
    const t0 = performance.now();
    const code = await new Promise((resolve) => {
      const child = spawn(process.execPath, [cliBin, "apply", "-f", spec, "--endpoint-url", cloud.url, "--auto-approve"], {
        cwd: root,
        env: { ...process.env, CHATCTL_HOME: join(dir, "home"), NO_COLOR: "1", AWS_ACCESS_KEY_ID: "bench", AWS_SECRET_ACCESS_KEY: "bench", AWS_PROFILE: "" },
        stdio: ["ignore", "ignore", "inherit"],
      });
      child.once("exit", resolve);
    });
    const wall = performance.now() - t0;
    if (code !== 0) throw new Error(`chatctl apply exited ${code}`);
    const recorded = cloud.calls();
    return { wall, calls: recorded.length };
  } finally {
    await cloud.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const r = await inProcessApply();
const cli = await cliApply();
const c = r.critical;
const ratio = r.wall / r.total.ms;
const executeRatio = r.executeWall / c.execute.ms;

console.log(`# apply: ${machine()}`);
console.log(`# specs/chat.yaml (${r.steps} steps), ${delayMs} ms added to every AWS call by the local cloud; critical path method in bench/apply.mjs`);
console.log("");
console.log("| run | AWS calls | write calls | calls on the critical path | critical path ms | wall ms | wall / critical path |");
console.log("|---|---:|---:|---:|---:|---:|---:|");
console.log(`| cold apply, in process (prepare, lock, plan, execute, unlock) | ${r.applyCalls.length} | ${r.applyCalls.filter(isWrite).length} | ${c.prepare.count + c.lock.count + c.plan.count + c.execute.count + c.unlock.count} | ${fmt(r.total.ms)} | ${fmt(r.wall)} | ${fmt(ratio, 2)} |`);
console.log(`| of which: execute (the plan's ${r.steps} steps) | ${[...r.stepCalls.values()].flat().length} | ${[...r.stepCalls.values()].flat().filter(isWrite).length} | ${c.execute.count} | ${fmt(c.execute.ms)} | ${fmt(r.executeWall)} | ${fmt(executeRatio, 2)} |`);
console.log(`| cold apply, \`chatctl apply --auto-approve\` (child process) | ${cli.calls} | | | | ${fmt(cli.wall)} | ${fmt(cli.wall / r.total.ms, 2)} |`);
console.log(`| no-op plan, in process (prepare, plan) | ${r.noop.calls} | ${r.noop.writes.length} | ${r.noop.critical.count} | ${fmt(r.noop.critical.ms)} | ${fmt(r.noop.wall)} | ${fmt(r.noop.wall / r.noop.critical.ms, 2)} |`);
console.log("");
console.log("cold apply by phase (critical path calls / ms, wall ms):");
for (const [name, path] of Object.entries(c)) console.log(`  ${name.padEnd(8)} ${String(path.count).padStart(3)} calls ${fmt(path.ms).padStart(6)} ms on the critical path; wall ${fmt(r.phases[name]).padStart(6)} ms`);
console.log(`  prepare's time outside AWS calls (loading, bundling the handlers with esbuild): ${fmt(r.bundleMs)} ms`);
if (r.retriedSteps.length > 0) console.log(`  steps retried by the executor: ${r.retriedSteps.join(", ")}`);
if (r.unattributed > 0) console.log(`  note: ${r.unattributed} calls could not be attributed to a task`);
console.log("");
console.log("budget (issue 6)");
console.log("| budget | measured | |");
console.log("|---|---:|---|");
console.log(`| no-op plan makes no write call | ${r.noop.writes.length} write calls${r.noop.writes.length ? ` (${r.noop.writes.join(", ")})` : ""}; plan ${r.noop.changes ? "has changes" : "has no changes"} | ${r.noop.writes.length === 0 && !r.noop.changes ? "met" : "**MISSED**"} |`);
console.log(`| cold apply wall < 1.5x critical path | ${fmt(ratio, 2)}x (${fmt(r.wall)} / ${fmt(r.total.ms)} ms) | ${ratio < 1.5 ? "met" : "**MISSED**"} |`);
console.log(`| (execute phase alone) | ${fmt(executeRatio, 2)}x (${fmt(r.executeWall)} / ${fmt(c.execute.ms)} ms) | ${executeRatio < 1.5 ? "met" : "**MISSED**"} |`);
