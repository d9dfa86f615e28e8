import type { AppIO } from "./io.js";
import { changeStack } from "./apply.js";
import { prepare, refuseOtherStack, specFileOf, type StackTarget } from "./session.js";

export interface DestroyOptions extends StackTarget {
  readonly autoApprove: boolean;
  /** Also delete tables that hold items, and their items. */
  readonly deleteData: boolean;
  readonly lockTimeoutMs: number;
}

/** `chatctl destroy`: names, not code, so a handler that does not compile never blocks it. */
export async function runDestroy(opts: DestroyOptions, io: AppIO): Promise<number> {
  const p = await prepare(specFileOf(opts), opts, io, { bundle: false });
  refuseOtherStack(p.specFile, p.spec.stack, opts.stack);
  return (await changeStack(p, "destroy", { ...opts, parallelism: 8 }, io)).exitCode;
}
