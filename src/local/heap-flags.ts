import { setFlagsFromString } from "node:v8";

let small = false;

/**
 * Keeps the young generation at its starting 1 MB semi-spaces. V8 doubles it (up to
 * 16 MB, so 32 MB of resident pages) once a scavenge keeps much alive, and an idle
 * process never gives the pages back. `--max-semi-space-size` would be the direct knob,
 * but V8 reads it only when a heap is created; the growth factor is read at each resize.
 */
export function keepYoungGenerationSmall(): void {
  small = true;
  setFlagsFromString("--semi-space-growth-factor=1");
}

/**
 * V8 raises a growth factor below 2 back to 2 whenever it configures a new isolate's
 * heap (each worker thread's), for the whole process: called once a worker is online.
 */
export function restoreHeapFlags(): void {
  if (small) setFlagsFromString("--semi-space-growth-factor=1");
}
