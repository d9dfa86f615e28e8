import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

let collect: (() => void) | undefined;

/**
 * A full collection once an apply is done. Apply leaves tens of MB behind (bundles,
 * zips, plans, SDK responses, esbuild's buffers) that V8 would reclaim only when the
 * heap next fills, which an idle dev server never does: until then they stay resident.
 * `gc` is exposed to a throwaway context, as node's v8.setFlagsFromString documents.
 */
export function releaseApplyGarbage(): void {
  if (!collect) {
    setFlagsFromString("--expose-gc");
    const gc: unknown = runInNewContext("typeof gc === 'function' ? gc : undefined");
    // Only this once: functions' workers started later must not find a global gc either.
    setFlagsFromString("--no-expose-gc");
    collect = typeof gc === "function" ? () => (gc as () => void)() : () => undefined;
  }
  collect();
}
