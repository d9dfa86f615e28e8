import type { AppIO } from "./io.js";
import { changeStack, machineReadable } from "./apply.js";
import { prepare, refuseOtherStack, specFileOf, type StackTarget } from "./session.js";

export interface DestroyOptions extends StackTarget {
  readonly autoApprove: boolean;
  /** Also delete tables that hold items, and their items. */
  readonly deleteData: boolean;
  readonly lockTimeoutMs: number;
  readonly json?: boolean | undefined;
}

/** `chatctl destroy`: names, not code, so a handler that does not compile never blocks it. */
export async function runDestroy(opts: DestroyOptions, io: AppIO): Promise<number> {
  const change = { ...opts, parallelism: 8 };
  return machineReadable(change, io, async (human) => {
    const p = await prepare(specFileOf(opts), opts, human, { bundle: false });
    refuseOtherStack(p.specFile, p.spec.stack, opts.stack);
    return changeStack(p, "destroy", change, human);
  });
}
