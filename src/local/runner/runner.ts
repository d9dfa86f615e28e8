import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import type { EventLoopUtilization } from "node:perf_hooks";
import { MessageChannel, type MessagePort, Worker } from "node:worker_threads";
import { SESSION_TOKEN_PREFIX } from "../gateway/observer.js";
import { heapFlagsForWorkers, holdHeapFlagsWhileStarting } from "../heap-flags.js";
import type { FunctionInvoker, InvokeResult, LocalFunction } from "../service.js";
import { WORKER_BOOTSTRAP } from "./bootstrap.js";
import { InProcessLink, type InProcessSocket } from "./in-process.js";
import { codeDirName, exposeRuntimeModules, findRuntimeModules, unzipInto } from "./code.js";

export interface LogLine {
  readonly timestamp: number; // epoch ms
  readonly message: string;
}

/** Where Lambda would have put the lines: one stream per execution environment (here: per worker). */
export interface LogStreamRef {
  readonly logGroupName: string; // "/aws/lambda/<name>"
  readonly logStreamName: string; // "2026/01/31/[$LATEST]<32 hex>"
}

export type LogSink = (functionName: string, lines: readonly LogLine[], stream: LogStreamRef) => void | Promise<void>;

export interface LambdaRunnerOptions {
  /** The local cloud's URL, given to functions as AWS_ENDPOINT_URL; a function when the port is known only later. */
  readonly endpointUrl: string | (() => string);
  /** Used when the function ARN does not name one. */
  readonly region?: string;
  /** PEM certificates the functions trust besides the public roots (the local cloud's own). */
  readonly trustedCertificates?: string | readonly string[];
  readonly logSink?: LogSink;
  /** Concurrent invocations of one function; more wait for a free worker, in arrival order. Default 8, reached only while invocations wait on I/O. */
  readonly maxWorkersPerFunction?: number;
  /** Added to every function's environment after its own (e.g. AWS_ENDPOINT_URL_DYNAMODB). */
  readonly environment?: Readonly<Record<string, string>>;
  /** Parent of the runner's private directory; the OS temp dir by default. */
  readonly tempDir?: string;
  /** A node_modules folder whose @aws-sdk is visible to functions, as Lambda's runtime provides; false for none. */
  readonly runtimeModules?: string | false;
  /**
   * Send the functions' TLS connections to API Gateway's execute-api host names
   * (`{apiId}.execute-api.{region}.amazonaws.com`) here instead, as the local
   * cloud's own: the @connections endpoint AWS's samples build reaches it unchanged.
   * Only inside the workers; the host's own connections are left alone.
   */
  readonly redirectExecuteApi?: boolean;
  /**
   * Serve the functions' connections to the local cloud's own host:port in process
   * (see in-process.ts): each is handed here as a Duplex, for the cloud's http.Server.
   */
  readonly acceptInProcess?: (socket: InProcessSocket) => void;
  /** Lambda gives module loading 10 s of its own, apart from the function's timeout. */
  readonly initTimeoutMs?: number;
  /**
   * A function's workers beyond one that have served nothing for this long are
   * stopped (default 60 s): each holds an isolate of ~20 MB. One stays warm.
   */
  readonly idleWorkerMs?: number;
}

interface LambdaErrorBody {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace?: readonly string[];
}

type Outcome =
  | { readonly kind: "ok"; readonly payload: string; readonly maxMemoryMb: number }
  | { readonly kind: "error"; readonly error: LambdaErrorBody; readonly maxMemoryMb?: number; readonly status?: string };

interface Invocation {
  readonly requestId: string;
  readonly lines: LogLine[];
  settle(outcome: Outcome): void;
}

class Slot {
  readonly worker: Worker;
  readonly streamName: string;
  busy = false;
  /** When the current invocation started (ms): tells a slow invocation from a queue of quick ones. */
  busySince = 0;
  /** Module init done: until then a busy worker is starting, not slow. */
  initialized = false;
  readyAt = 0;
  retired = false;
  dead = false;
  usedOnce = false;
  /** When it last finished an invocation (ms), while idle: the retirement sweep reads it. */
  idleSince = 0;
  initMs = 0;
  /** The worker's event-loop utilization when the current invocation began. */
  private eluAtStart: EventLoopUtilization | undefined;
  current: Invocation | undefined;
  /** Lines written while no invocation runs (module init, late stdout), flushed with the next one. */
  pending: LogLine[] = [];
  readonly ready: Promise<LambdaErrorBody | undefined>;

  private lateFlush: NodeJS.Immediate | undefined;

  constructor(
    readonly key: string,
    worker: Worker,
    now: Date,
    /** Lambda gives module loading this long, apart from the function's timeout. */
    initTimeoutMs: number,
    /** Output that arrives between invocations, once the first has run (e.g. raw stdout behind the result). */
    private readonly deliverLate: (lines: LogLine[], streamName: string) => void,
  ) {
    this.worker = worker;
    const date = `${now.getUTCFullYear()}/${String(now.getUTCMonth() + 1).padStart(2, "0")}/${String(now.getUTCDate()).padStart(2, "0")}`;
    this.streamName = `${date}/[$LATEST]${randomBytes(16).toString("hex")}`;
    let initTimer: NodeJS.Timeout | undefined;
    this.ready = new Promise<LambdaErrorBody | undefined>((resolve) => {
      initTimer = setTimeout(
        () => resolve({ errorType: "Runtime.InitError", errorMessage: `INIT timed out after ${(initTimeoutMs / 1000).toFixed(2)} seconds` }),
        initTimeoutMs,
      );
      initTimer.unref();
      const onMessage = (msg: unknown): void => {
        if (!isRecord(msg)) return;
        if (msg.type === "ready") {
          this.initMs = typeof msg.initMs === "number" ? msg.initMs : 0;
          this.initialized = true;
          this.readyAt = Date.now();
          resolve(undefined);
        } else if (msg.type === "initError") {
          resolve(toErrorBody(msg.error));
        }
      };
      worker.on("message", onMessage);
      worker.once("error", (err) => resolve(errorFromCrash(err)));
      worker.once("exit", (code) => resolve({ errorType: "Runtime.ExitError", errorMessage: `Runtime exited with error: exit status ${code}` }));
    }).finally(() => clearTimeout(initTimer));
    worker.on("message", (msg: unknown) => {
      if (!isRecord(msg)) return;
      if (msg.type === "log" && typeof msg.message === "string") {
        this.log({ timestamp: typeof msg.timestamp === "number" ? msg.timestamp : Date.now(), message: msg.message });
      } else if (msg.type === "logs" && Array.isArray(msg.lines)) {
        this.logAll(msg.lines);
      } else if (msg.type === "result" && this.current && msg.requestId === this.current.requestId) {
        if (Array.isArray(msg.lines)) this.logAll(msg.lines);
        const maxMemoryMb = typeof msg.maxMemoryMb === "number" ? msg.maxMemoryMb : 0;
        this.current.settle(
          msg.ok === true && typeof msg.payload === "string"
            ? { kind: "ok", payload: msg.payload, maxMemoryMb }
            : { kind: "error", error: toErrorBody(msg.error), maxMemoryMb },
        );
      }
    });
    worker.on("error", (err) => {
      this.dead = true;
      this.current?.settle({ kind: "error", error: errorFromCrash(err), status: "error" });
    });
    worker.on("exit", (code) => {
      this.dead = true;
      this.current?.settle({
        kind: "error",
        error: { errorType: "Runtime.ExitError", errorMessage: `RequestId: ${this.current.requestId} Error: Runtime exited with error: exit status ${code}` },
        status: "error",
      });
    });
    // Raw writes (process.stdout.write) bypass the console wrapper; keep them as lines too.
    for (const stream of [worker.stdout, worker.stderr]) {
      let buffered = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => {
        buffered += chunk;
        const parts = buffered.split("\n");
        buffered = parts.pop() ?? "";
        for (const part of parts) this.log({ timestamp: Date.now(), message: part });
      });
      stream.on("end", () => {
        if (buffered) this.log({ timestamp: Date.now(), message: buffered });
      });
    }
  }

  private logAll(lines: unknown[]): void {
    for (const l of lines) {
      if (isRecord(l) && typeof l.message === "string") this.log({ timestamp: typeof l.timestamp === "number" ? l.timestamp : Date.now(), message: l.message });
    }
  }

  log(line: LogLine): void {
    if (this.current) {
      this.current.lines.push(line);
      return;
    }
    this.pending.push(line);
    // Before the first invocation, keep module-init output to put it ahead of the first START.
    if (this.usedOnce && !this.lateFlush) {
      this.lateFlush = setImmediate(() => {
        this.lateFlush = undefined;
        if (!this.current && this.pending.length > 0) this.deliverLate(this.pending.splice(0), this.streamName);
      });
    }
  }

  terminate(): void {
    this.dead = true;
    void this.worker.terminate();
  }

  /** Now busy with an invocation. */
  begin(): void {
    this.busy = true;
    this.busySince = Date.now();
    this.eluAtStart = this.worker.performance.eventLoopUtilization();
  }

  /** How long its current (or just finished) invocation has held it at `now`, ms; module init not counted. */
  heldMs(now: number): number {
    return now - Math.max(this.busySince, this.readyAt);
  }

  /** How long the worker's event loop was running (not waiting on I/O) since its invocation began, and out of how long (ms). */
  activity(): { active: number; total: number } {
    const elu = this.worker.performance.eventLoopUtilization(this.eluAtStart);
    return { active: elu.active, total: elu.active + elu.idle };
  }
}

/** Handed a slot (a worker now busy for it), or undefined: look again (new code, a worker gone, closing). */
type Waiter = (slot: Slot | undefined) => void;

interface Spawner {
  readonly fn: LocalFunction;
  readonly key: string;
  readonly codeDir: string;
  readonly env: Record<string, string>;
}

interface Pool {
  key: string | undefined;
  readonly slots: Set<Slot>;
  /** Invocations waiting for a worker, in arrival order: a released worker goes to the first. */
  waiters: Waiter[];
  /** How to start a worker for the current code, for the scale-out timer. */
  spawner: Spawner | undefined;
  scaleOut: NodeJS.Timeout | undefined;
  /** A moving average of how long its invocations hold a worker, ms; undefined before the first ends. */
  typicalMs: number | undefined;
  /** Stops idle workers beyond the one kept warm; armed while there are any. */
  sweep: NodeJS.Timeout | undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function toErrorBody(value: unknown): LambdaErrorBody {
  if (!isRecord(value)) return { errorType: "Error", errorMessage: String(value) };
  const trace = Array.isArray(value.trace) ? value.trace.filter((t): t is string => typeof t === "string") : [];
  return {
    errorType: typeof value.errorType === "string" ? value.errorType : "Error",
    errorMessage: typeof value.errorMessage === "string" ? value.errorMessage : "",
    trace,
  };
}

function errorFromCrash(err: unknown): LambdaErrorBody {
  if (err instanceof Error) {
    const code = "code" in err ? err.code : undefined;
    if (code === "ERR_WORKER_OUT_OF_MEMORY") return { errorType: "Runtime.OutOfMemory", errorMessage: "Runtime exited with error: out of memory" };
    return { errorType: err.name, errorMessage: err.message, trace: (err.stack ?? "").split("\n") };
  }
  return { errorType: "Error", errorMessage: String(err) };
}

function regionOf(arn: string): string | undefined {
  const parts = arn.split(":");
  return parts[0] === "arn" && parts[3] ? parts[3] : undefined;
}

/** What forces new workers: anything that changes the code or what it sees at load time. */
function generationKey(fn: LocalFunction, env: Record<string, string>): string {
  return JSON.stringify([fn.codeSha256, fn.handler, fn.runtime, fn.memoryMb, Object.entries(env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]);
}

const TAIL_BYTES = 4096;
/** A function gets another worker once every busy one has been on its invocation this long. */
const SCALE_OUT_AFTER_MS = 200;
/**
 * Past one busy worker per core, another is added only while the busy ones
 * spend less than this share of their time running (the rest waiting on I/O):
 * workers that compute gain nothing from a new one but a share of the same
 * cores. Measured on 2 cores with 8 broadcasts in flight: sendmessage grew to
 * 8 workers, and each new one's first invocation took 4-7 s against 0.8 s for
 * the warm ones (cold code, and its 64+ new connections, which the local
 * cloud's busy event loop accepts one per iteration: libuv >= 1.45,
 * https://github.com/libuv/libuv/pull/3696). Busy warm workers measured 0.6-0.98.
 */
const WAITING_UTILIZATION = 0.5;
/**
 * Short invocations never look slow (a $connect holds its worker ~1-2 ms), yet 32
 * handshakes in flight queued behind one worker while a core idled: each waited
 * for the previous one's DynamoDB round trip through the local cloud's event loop.
 * A function whose invocations are this short gets up to one worker per core as
 * soon as this many wait, as Lambda would run them side by side. Measured on 2
 * cores, interleaved with the old rule (BENCHMARKS.md, 2026-12-02 07:25 UTC):
 * `node bench/connections.mjs 1000 3` 641-663 -> 681-702 connections/s on a
 * fresh server and 849-897 -> 959-1,000 for the second 1,000; no gain from a
 * threshold of 2, nor from two workers per core (more cold code for the same
 * cores). Longer invocations keep the SCALE_OUT_AFTER_MS rule: applied to
 * broadcasts (~50 ms each at 500 recipients, 8 in flight), a second sendmessage
 * worker raised the window-8 p99 from 455 to 560-630 ms and the peak RSS by
 * 40-50 MB, the two workers and the gateway sharing 2 cores.
 * Before any invocation has finished (typicalMs unknown) a queue counts as short:
 * Lambda scales on concurrency, and 32 handshakes waiting on a fresh function's
 * one cold start would otherwise meet the second worker's cold start later, in
 * the middle of the load. Interleaved A/B (2026-12-02, session 9) of
 * `node bench/connections.mjs 1000 1 32`: 816-838 -> 847-868 connections/s on a
 * fresh server, the tree's CPU per connection 3-6% lower.
 */
const QUEUED_FOR_ANOTHER_WORKER = 4;
const SHORT_INVOCATION_MS = 20;
const CORES = Math.max(1, availableParallelism());

/**
 * Runs functions' zips in worker threads, warm between invocations, at most
 * `maxWorkersPerFunction` at a time per function. Worker threads rather than
 * child processes: they start in a few ms and share nothing that matters here
 * (each has its own process.env and module instances), and the one thing a
 * process would give for free, NODE_EXTRA_CA_CERTS, the bootstrap does itself.
 */
export class LambdaRunner implements FunctionInvoker {
  private readonly pools = new Map<string, Pool>();
  private readonly codeDirs = new Map<string, Promise<string>>();
  private readonly generations = new Map<string, { env: Record<string, string>; key: string }>();
  /** Code dirs once unzipped: an invocation of a known zip does not wait on a settled promise. */
  private readonly unzipped = new Map<string, string>();
  /**
   * The last generation each LocalFunction object got, with what else it depends on: the
   * Lambda model hands the same object to every invocation of one configuration, so most
   * invocations skip the fingerprint (a JSON text of the whole configuration).
   */
  private readonly lastGeneration = new WeakMap<LocalFunction, { codeDir: string; endpoint: string; known: { env: Record<string, string>; key: string } }>();
  private rootDir: Promise<string> | undefined;
  private closed = false;
  private readonly maxWorkers: number;
  private readonly trusted: readonly string[];

  constructor(private readonly options: LambdaRunnerOptions) {
    this.maxWorkers = Math.max(1, options.maxWorkersPerFunction ?? 8);
    const ca = options.trustedCertificates;
    this.trusted = ca === undefined ? [] : typeof ca === "string" ? [ca] : [...ca];
  }

  async invoke(fn: LocalFunction, payload: Uint8Array): Promise<InvokeResult> {
    if (this.closed) throw new Error("the Lambda runner is closed");
    const codeDir = this.unzipped.get(fn.codeSha256) ?? (await this.codeDirFor(fn));
    const { env, key } = this.generationOf(fn, codeDir);
    const slot = await this.acquire(fn, key, codeDir, env);
    try {
      return await this.run(fn, slot, Buffer.from(payload).toString("utf8"));
    } finally {
      this.release(fn.functionName, slot);
    }
  }

  /** Terminates every worker and removes the unzipped code. */
  async close(): Promise<void> {
    this.closed = true;
    const exits: Promise<number>[] = [];
    for (const pool of this.pools.values()) {
      for (const slot of pool.slots) exits.push(slot.worker.terminate());
      pool.slots.clear();
      clearTimeout(pool.scaleOut);
      clearTimeout(pool.sweep);
      for (const wake of pool.waiters.splice(0)) wake(undefined);
    }
    await Promise.allSettled(exits);
    if (this.rootDir) await rm(await this.rootDir, { recursive: true, force: true });
  }

  private root(): Promise<string> {
    this.rootDir ??= (async () => {
      const dir = await mkdtemp(join(this.options.tempDir ?? tmpdir(), "chatctl-lambda-"));
      const modules = this.options.runtimeModules === undefined ? findRuntimeModules() : this.options.runtimeModules;
      if (modules) await exposeRuntimeModules(dir, modules);
      return dir;
    })();
    return this.rootDir;
  }

  private codeDirFor(fn: LocalFunction): Promise<string> {
    let dir = this.codeDirs.get(fn.codeSha256);
    if (!dir) {
      dir = (async () => {
        const root = await this.root();
        const target = join(root, "code", codeDirName(fn.codeSha256));
        await unzipInto(fn.zip, target);
        if (this.closed) {
          // close() ran while we unzipped: leave nothing behind in the temp dir.
          await rm(root, { recursive: true, force: true });
          throw new Error("the Lambda runner is closed");
        }
        this.unzipped.set(fn.codeSha256, target);
        return target;
      })();
      this.codeDirs.set(fn.codeSha256, dir);
      dir.catch(() => this.codeDirs.delete(fn.codeSha256));
    }
    return dir;
  }

  /**
   * The environment and generation key of an invocation, kept per function
   * configuration: building and sorting ~20 variables for every invocation was a
   * visible part of each $connect's cost.
   */
  private generationOf(fn: LocalFunction, codeDir: string): { env: Record<string, string>; key: string } {
    const endpoint = this.endpointUrl();
    const last = this.lastGeneration.get(fn);
    if (last && last.codeDir === codeDir && last.endpoint === endpoint) return last.known;
    const fingerprint = JSON.stringify([fn.functionName, fn.functionArn, fn.codeSha256, fn.handler, fn.runtime, fn.memoryMb, codeDir, endpoint, fn.environment]);
    let known = this.generations.get(fingerprint);
    if (!known) {
      const env = this.environmentFor(fn, codeDir);
      known = { env, key: generationKey(fn, env) };
      if (this.generations.size >= 256) this.generations.clear();
      this.generations.set(fingerprint, known);
    }
    this.lastGeneration.set(fn, { codeDir, endpoint, known });
    return known;
  }

  private environmentFor(fn: LocalFunction, codeDir: string): Record<string, string> {
    const endpoint = this.endpointUrl();
    const region = regionOf(fn.functionArn) ?? this.options.region ?? "ap-northeast-1";
    return {
      ...fn.environment,
      ...localManagementEndpoint(fn.environment, endpoint),
      ...this.options.environment,
      // Lambda's reserved variables: a function cannot override these on AWS either.
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: "ASIACHATCTLLOCAL0000",
      AWS_SECRET_ACCESS_KEY: "chatctl-local-cloud-secret",
      // One token per function: the gateway tells which function called @connections by it.
      AWS_SESSION_TOKEN: `${SESSION_TOKEN_PREFIX}${fn.functionName}`,
      AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
      AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.functionName}`,
      AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      LAMBDA_TASK_ROOT: codeDir,
      _HANDLER: fn.handler,
    };
  }

  private poolOf(name: string): Pool {
    let pool = this.pools.get(name);
    if (!pool) {
      pool = { key: undefined, slots: new Set(), waiters: [], spawner: undefined, scaleOut: undefined, typicalMs: undefined, sweep: undefined };
      this.pools.set(name, pool);
    }
    return pool;
  }

  /**
   * A worker for one invocation. Invocations of a function are served in arrival
   * order: an arrival queues behind earlier waiters instead of taking a worker
   * that was just released to them (under load, that barging left some
   * invocations waiting for seconds while later ones ran), and a new worker goes
   * to the first waiter once it is ready, not to the invocation that caused it,
   * which a released worker could otherwise overtake while the new one loads.
   */
  private async acquire(fn: LocalFunction, key: string, codeDir: string, env: Record<string, string>): Promise<Slot> {
    const pool = this.poolOf(fn.functionName);
    if (pool.key !== key) {
      // New code or configuration: idle workers go now, busy ones after their invocation.
      pool.key = key;
      for (const slot of pool.slots) {
        if (slot.busy) slot.retired = true;
        else {
          slot.terminate();
          pool.slots.delete(slot);
        }
      }
      for (const wake of pool.waiters.splice(0)) wake(undefined);
    }
    pool.spawner = { fn, key, codeDir, env };
    let woken = false;
    for (;;) {
      if (this.closed) throw new Error("the Lambda runner is closed");
      if (pool.waiters.length === 0 || woken) {
        const slot = this.census(pool, key).idle;
        if (slot) {
          slot.begin();
          return slot;
        }
      }
      const handed = await new Promise<Slot | undefined>((resolve) => {
        pool.waiters.push(resolve);
        this.grow(pool);
      });
      if (handed) return handed;
      woken = true;
    }
  }

  /**
   * Workers of the current code: an idle one, how many are busy or starting,
   * how many are starting, and how long the most recent has been at its invocation
   * (0 while one starts: not yet telling).
   */
  private census(pool: Pool, key: string): { idle: Slot | undefined; live: number; starting: number; youngestBusyMs: number } {
    let live = 0;
    let starting = 0;
    let youngestBusyMs = Number.POSITIVE_INFINITY;
    let idle: Slot | undefined;
    const now = Date.now();
    for (const slot of pool.slots) {
      if (slot.dead && !slot.busy) {
        pool.slots.delete(slot); // crashed or timed out while idle
        continue;
      }
      if (slot.retired || slot.dead || slot.key !== key) continue;
      if (!slot.initialized && !slot.busy) {
        live++;
        starting++;
        youngestBusyMs = 0;
        continue;
      }
      if (!slot.busy) {
        idle ??= slot;
        continue;
      }
      live++;
      youngestBusyMs = Math.min(youngestBusyMs, slot.initialized ? slot.heldMs(now) : 0);
    }
    return { idle, live, starting, youngestBusyMs };
  }

  /**
   * The busy workers' share of time running since their invocations began. Asked
   * only when scaling past one worker per core: every invocation's acquire takes a
   * census, and reading each worker's event-loop utilization there was wasted.
   */
  private utilization(pool: Pool, key: string): number {
    let active = 0;
    let total = 0;
    for (const slot of pool.slots) {
      if (!slot.busy || slot.retired || slot.dead || slot.key !== key) continue;
      const a = slot.activity();
      active += a.active;
      total += a.total;
    }
    return total > 0 ? active / total : 0;
  }

  /**
   * While invocations wait: starts another worker when that can help (see
   * QUEUED_FOR_ANOTHER_WORKER and WAITING_UTILIZATION; every worker also costs
   * ~30 MB), else checks again once the busy ones have been at it long enough to tell.
   */
  private grow(pool: Pool): void {
    if (this.closed || pool.key === undefined || !pool.spawner || pool.waiters.length === 0) return;
    const shortQueue = pool.waiters.length >= QUEUED_FOR_ANOTHER_WORKER && (pool.typicalMs === undefined || pool.typicalMs < SHORT_INVOCATION_MS);
    // A pending re-check waits its time, unless a queue of short invocations calls for a worker now.
    if (pool.scaleOut !== undefined && !shortQueue) return;
    const { live, starting, youngestBusyMs } = this.census(pool, pool.key);
    if (pool.waiters.length <= starting || live >= this.maxWorkers) return; // a worker on its way or a release serves the next
    const slow = youngestBusyMs >= SCALE_OUT_AFTER_MS;
    const queued = shortQueue && live < CORES && pool.waiters.length - starting >= QUEUED_FOR_ANOTHER_WORKER;
    if (pool.scaleOut !== undefined) {
      if (!queued) return;
      clearTimeout(pool.scaleOut);
      pool.scaleOut = undefined;
    }
    if (live === 0 || queued || (slow && (live < CORES || this.utilization(pool, pool.key) < WAITING_UTILIZATION))) {
      this.startWorker(pool, pool.spawner);
      if (pool.waiters.length <= starting + 1) return;
    }
    pool.scaleOut = setTimeout(
      () => {
        pool.scaleOut = undefined;
        this.grow(pool);
      },
      Math.max(1, SCALE_OUT_AFTER_MS - (slow ? 0 : youngestBusyMs)),
    );
    pool.scaleOut.unref();
  }

  /** A new worker, handed to the first waiter when its module has loaded (or failed to: that waiter reports the error). */
  private startWorker(pool: Pool, spawner: Spawner): void {
    const { fn, key, codeDir, env } = spawner;
    const slot = this.spawn(fn, key, codeDir, env);
    pool.slots.add(slot);
    void slot.ready.then((initError) => {
      if (slot.busy) return;
      if (this.closed || slot.dead || slot.retired || slot.key !== pool.key) {
        if (!slot.dead) slot.terminate();
        pool.slots.delete(slot);
        if (!this.closed) this.grow(pool);
        return;
      }
      if (this.serveFirstWaiter(pool, slot)) return;
      if (initError) {
        slot.terminate(); // nobody to report it to; the next invocation loads afresh
        pool.slots.delete(slot);
      }
    });
  }

  private release(functionName: string, slot: Slot): void {
    const pool = this.pools.get(functionName);
    slot.busy = false;
    if (!pool) return;
    const now = Date.now();
    const heldMs = slot.heldMs(now);
    pool.typicalMs = pool.typicalMs === undefined ? heldMs : pool.typicalMs * 0.8 + heldMs * 0.2;
    if (slot.dead || slot.retired || slot.key !== pool.key) {
      if (!slot.dead) slot.terminate();
      pool.slots.delete(slot);
      pool.waiters.shift()?.(undefined);
      return;
    }
    if (this.serveFirstWaiter(pool, slot)) return;
    slot.idleSince = now;
    this.scheduleSweep(pool);
  }

  /** Hands a free worker to the invocation that has waited longest; false when none waits. */
  private serveFirstWaiter(pool: Pool, slot: Slot): boolean {
    const next = pool.waiters.shift();
    if (!next) return false;
    slot.begin();
    next(slot);
    return true;
  }

  /** How many workers a function has (busy or idle), for the console and tests. */
  warmWorkers(functionName: string): number {
    let n = 0;
    for (const slot of this.pools.get(functionName)?.slots ?? []) if (!slot.dead) n++;
    return n;
  }

  /**
   * Lambda reclaims execution environments that sit idle; here each idle worker is an
   * isolate of ~20 MB, and a burst (32 handshakes in flight, a slow broadcast) leaves up
   * to maxWorkersPerFunction of them. Workers idle for idleWorkerMs go, but one per
   * function stays warm so the next invocation does not pay a cold start.
   */
  private scheduleSweep(pool: Pool): void {
    if (pool.sweep !== undefined || this.closed) return;
    const idleMs = Math.max(1, this.options.idleWorkerMs ?? 60_000);
    pool.sweep = setTimeout(() => {
      pool.sweep = undefined;
      if (this.closed) return;
      const now = Date.now();
      const idle = [...pool.slots].filter((s) => !s.busy && !s.dead);
      if (idle.length === 0) return;
      // Keep the most recently used one warm when no busy worker of the current code stays.
      const keepWarm = [...pool.slots].some((s) => s.busy && !s.dead && !s.retired && s.key === pool.key)
        ? undefined
        : idle.reduce((a, b) => (b.idleSince > a.idleSince ? b : a));
      let waiting = false;
      for (const slot of idle) {
        if (slot === keepWarm) continue;
        if (now - slot.idleSince >= idleMs) {
          slot.terminate();
          pool.slots.delete(slot);
        } else waiting = true;
      }
      if (waiting) this.scheduleSweep(pool);
    }, idleMs);
    pool.sweep.unref();
  }

  /** The local cloud's URL now (given as a function when the port was not known at construction). */
  private endpointUrl(): string {
    return typeof this.options.endpointUrl === "function" ? this.options.endpointUrl() : this.options.endpointUrl;
  }

  private executeApiTarget(): { host: string; port: number } | undefined {
    if (!this.options.redirectExecuteApi) return undefined;
    const endpoint = new URL(this.endpointUrl());
    return { host: endpoint.hostname, port: Number(endpoint.port || (endpoint.protocol === "https:" ? 443 : 80)) };
  }

  /** A worker's MessagePort for in-process connections, when the cloud serves them. */
  private inProcessLink(): { link: InProcessLink; workerData: { link: MessagePort; host: string; port: number } } | undefined {
    const accept = this.options.acceptInProcess;
    if (!accept) return undefined;
    const endpoint = new URL(this.endpointUrl());
    if (endpoint.protocol !== "http:") return undefined;
    const port = Number(endpoint.port || 80);
    const channel = new MessageChannel();
    const link = new InProcessLink(channel.port1, accept, port);
    channel.port1.unref();
    return { link, workerData: { link: channel.port2, host: endpoint.hostname, port } };
  }

  private spawn(fn: LocalFunction, key: string, codeDir: string, env: Record<string, string>): Slot {
    const inProcess = this.inProcessLink();
    const worker = new Worker(WORKER_BOOTSTRAP, {
      eval: true,
      env,
      argv: [],
      execArgv: [],
      stdout: true,
      stderr: true,
      workerData: { v8Flags: heapFlagsForWorkers(), codeDir, handler: fn.handler, ca: this.trusted, executeApi: this.executeApiTarget(), inProcess: inProcess?.workerData },
      transferList: inProcess ? [inProcess.workerData.link] : [],
      // A small young generation keeps each warm worker near 25 MB instead of 40+:
      // measured with 1,000 clients, the dev process's peak fell from ~340 to ~285 MB.
      resourceLimits: { maxOldGenerationSizeMb: Math.max(64, fn.memoryMb), maxYoungGenerationSizeMb: 8 },
    });
    worker.unref();
    if (inProcess) worker.once("exit", () => inProcess.link.closeAll());
    holdHeapFlagsWhileStarting(worker);
    return new Slot(key, worker, new Date(), this.options.initTimeoutMs ?? 10_000, (lines, stream) => this.deliver(fn.functionName, lines, stream));
  }

  private async run(fn: LocalFunction, slot: Slot, event: string): Promise<InvokeResult> {
    const requestId = randomUUID();
    const initError = await slot.ready;

    const lines: LogLine[] = slot.pending.splice(0);
    const start = Date.now();
    lines.push({ timestamp: start, message: `START RequestId: ${requestId} Version: $LATEST` });
    const cold = !slot.usedOnce;
    slot.usedOnce = true;

    let outcome: Outcome;
    if (initError) {
      slot.terminate(); // Lambda retries the init on the next invocation, in a fresh environment
      lines.push({ timestamp: Date.now(), message: `${new Date().toISOString()}\tundefined\tERROR\t${JSON.stringify(initError)}` });
      outcome = { kind: "error", error: initError, status: "error" };
    } else {
      outcome = await new Promise<Outcome>((resolve) => {
        const timeoutMs = Math.max(1, fn.timeoutSeconds) * 1000;
        const timer = setTimeout(() => {
          const message = `Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`;
          lines.push({ timestamp: Date.now(), message: `${new Date().toISOString()} ${requestId} ${message}` });
          finish({ kind: "error", error: { errorType: "Sandbox.Timedout", errorMessage: `RequestId: ${requestId} Error: ${message}` }, status: "timeout" });
          slot.terminate();
        }, timeoutMs);
        let settled = false;
        const finish = (o: Outcome): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          slot.current = undefined;
          resolve(o);
        };
        slot.current = { requestId, lines, settle: finish };
        if (slot.dead) {
          finish({ kind: "error", error: { errorType: "Runtime.ExitError", errorMessage: `RequestId: ${requestId} Error: Runtime exited` }, status: "error" });
          return;
        }
        slot.worker.postMessage({
          type: "invoke",
          requestId,
          event,
          deadline: start + timeoutMs,
          functionName: fn.functionName,
          functionArn: fn.functionArn,
          memoryMb: fn.memoryMb,
          logGroupName: `/aws/lambda/${fn.functionName}`,
          logStreamName: slot.streamName,
        });
      });
    }

    const end = Date.now();
    const duration = end - start;
    lines.push({ timestamp: end, message: `END RequestId: ${requestId}` });
    let report = `REPORT RequestId: ${requestId}\tDuration: ${duration.toFixed(2)} ms\tBilled Duration: ${Math.max(1, Math.ceil(duration))} ms\tMemory Size: ${fn.memoryMb} MB\tMax Memory Used: ${outcome.maxMemoryMb ?? 0} MB`;
    if (cold && !initError) report += `\tInit Duration: ${slot.initMs.toFixed(2)} ms`;
    if (outcome.kind === "error" && outcome.status) report += `\tStatus: ${outcome.status}`;
    if (outcome.kind === "error" && outcome.status === "error") report += `\tError Type: ${outcome.error.errorType}`;
    lines.push({ timestamp: end, message: report });
    this.deliver(fn.functionName, lines, slot.streamName);

    const payload = Buffer.from(outcome.kind === "ok" ? outcome.payload : JSON.stringify(outcome.error), "utf8");
    // Only Invoke with LogType=Tail reads the tail; a route's integration (every $connect) never does.
    return new RunResult(200, payload, outcome.kind === "ok" ? undefined : "Unhandled", lines);
  }

  private deliver(functionName: string, lines: readonly LogLine[], logStreamName: string): void {
    const sink = this.options.logSink;
    if (!sink) return;
    try {
      const done = sink(functionName, lines, { logGroupName: `/aws/lambda/${functionName}`, logStreamName });
      if (done) done.catch(() => undefined); // losing a log line must not fail the invocation
    } catch {
      // as above
    }
  }
}

/** An invocation's outcome; its log tail (for Invoke with LogType=Tail) is joined only when read. */
class RunResult implements InvokeResult {
  private tail: string | undefined;

  constructor(
    readonly statusCode: number,
    readonly payload: Uint8Array,
    readonly functionError: "Unhandled" | undefined,
    private readonly lines: readonly LogLine[],
  ) {}

  get logTail(): string {
    return (this.tail ??= tailOf(this.lines));
  }
}

function tailOf(lines: readonly LogLine[]): string {
  const text = lines.map((l) => l.message).join("\n") + "\n";
  const bytes = Buffer.from(text, "utf8");
  return bytes.length <= TAIL_BYTES ? text : bytes.subarray(bytes.length - TAIL_BYTES).toString("utf8");
}

const EXECUTE_API = /^https:\/\/([a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?\/([A-Za-z0-9_-]+)$/;

/**
 * chatctl gives functions with manageConnections the stage's AWS endpoint
 * (CONNECTIONS_ENDPOINT). Here nothing answers at that host, so the variable names
 * the same API and stage on this cloud, whose @connections wire takes
 * /{apiId}/{stage}/@connections/{id} (see wire/connections.ts).
 */
function localManagementEndpoint(environment: Readonly<Record<string, string>>, endpoint: string): Record<string, string> {
  const m = EXECUTE_API.exec(environment.CONNECTIONS_ENDPOINT ?? "");
  return m ? { CONNECTIONS_ENDPOINT: `${endpoint.replace(/\/+$/, "")}/${m[1]}/${m[2]}` } : {};
}
