import { PerformanceObserver } from "node:perf_hooks";
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";
import type { Worker } from "node:worker_threads";

/** Two semi-spaces of 4 MB: --max-semi-space-size=4 measured no CPU cost per delivery against V8's 16. */
const NEW_SPACE_CAP_BYTES = 8 * 1024 * 1024;

/**
 * After each full GC V8 lets the old generation grow to what survived times a factor of
 * up to 4 when the heap limit is 2 GB or more (any machine with 16 GB+ of memory), and
 * of at most 2 below that (MemoryController::MaxGrowingFactor, src/heap/memory-controller.cc).
 * Under load the dev process keeps ~50 MB alive; its old space reached 85-120 MB, most
 * of it garbage, and which end of that range a run got decided whether the tree's peak
 * stayed under 300 MB. The flag is read at each limit computation, so setting it now
 * is enough. Measured (BENCHMARKS.md, 2026-12-02): at 1,000 clients the peak fell by
 * ~18 MB for no CPU; at 10,000 by 17-28 MB for ~13% more CPU per delivery (more full
 * GCs of a larger live set). 50 (a factor of 1.5) saved another ~20 MB at N=1,000 but
 * cost ~5% of the first 1,000 connections/s. The flag is process-wide: function workers
 * (heap limits of 64-256 MB, for which V8's own maximum factor is 1.3) get 2 as well,
 * and the tree's peaks above, which count them, still fell.
 */
const OLD_GENERATION_GROWTH_PERCENT = 100;

const NO_SEMI_SPACE_GROWTH = "--semi-space-growth-factor=1";

let small = false;
let capped = false;

function newSpaceBytes(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === "new_space")?.space_size ?? 0;
}

/**
 * Caps this isolate's young generation at 8 MB and slows its old generation's growth
 * (OLD_GENERATION_GROWTH_PERCENT). V8 doubles it (up to 16 MB per
 * semi-space, so 32 MB of resident pages) once scavenges keep much alive, and an idle
 * process never gives the pages back. `--max-semi-space-size` would be the direct knob,
 * but V8 reads it only when a heap is created; the growth factor it reads at each
 * resize, so growth stops (factor 1) once the cap is reached. Kept at 1 MB semi-spaces
 * instead, the dev tree spent ~30% more CPU per delivery on scavenges.
 *
 * Worker isolates created later read `--min-semi-space-size` when their heap is set up:
 * 2 MB is what their 8 MB young-generation limit (resourceLimits) allows, so they start
 * at the size they used to grow to.
 */
export function keepDevHeapSmall(): void {
  small = true;
  setFlagsFromString("--min-semi-space-size=2");
  setFlagsFromString(`--heap-growing-percent=${OLD_GENERATION_GROWTH_PERCENT}`);
  const cap = (): void => {
    capped = true;
    setFlagsFromString(NO_SEMI_SPACE_GROWTH);
  };
  if (newSpaceBytes() >= NEW_SPACE_CAP_BYTES) return cap();
  const watch = new PerformanceObserver(() => {
    if (newSpaceBytes() < NEW_SPACE_CAP_BYTES) return;
    cap();
    watch.disconnect();
  });
  watch.observe({ entryTypes: ["gc"] });
}

/**
 * V8 raises a growth factor below 2 back to 2 whenever it configures a new isolate's
 * heap (each worker thread's, on that thread, as the worker starts), for the whole
 * process. Any scavenge of this thread before the flag is back may double its young
 * generation for good: with 1,000 clients, worker starts took it from 8 to 16 MB in
 * every run and to 32 MB in some (the dev tree's peak up to 304 MB). Three chances to
 * put it back, from the earliest: the worker's first statement (heapFlagsForWorkers,
 * ~17 ms after `new Worker` on an idle machine), every millisecond until then, and its
 * "online" event. They narrow the window; nothing from JavaScript closes it: measured,
 * the young generation still grew in 1 run of 4.
 */
function restoreHeapFlags(): void {
  const flags = heapFlagsForWorkers();
  if (flags) setFlagsFromString(flags);
}

/** For a worker just created: re-sets the flags every millisecond until it is online (see restoreHeapFlags). */
export function holdHeapFlagsWhileStarting(worker: Worker): void {
  if (!heapFlagsForWorkers()) return;
  const timer = setInterval(restoreHeapFlags, 1);
  timer.unref();
  const done = (): void => {
    clearInterval(timer);
    restoreHeapFlags();
  };
  worker.once("online", done);
  worker.once("exit", done);
}

/** The flags a new worker sets as its first statement (see restoreHeapFlags). */
export function heapFlagsForWorkers(): string | undefined {
  return small && capped ? NO_SEMI_SPACE_GROWTH : undefined;
}
