import { loadSpec } from "../spec/loader.js";
import type { AppIO } from "./io.js";
import { runApply, type ApplyOptions } from "./apply.js";
import { refuseOtherStack, specFileOf } from "./session.js";

/** The original script's `deploy <stack-name>`: apply that stack's spec. */
export async function runDeploy(opts: Omit<ApplyOptions, "planFile">, io: AppIO): Promise<number> {
  const specFile = specFileOf(opts);
  if (opts.stack !== undefined) {
    // Checked before bundling: naming the wrong stack should not cost a build.
    const loaded = await loadSpec(specFile, { environment: opts.environment });
    if (loaded.ok) refuseOtherStack(specFile, loaded.spec.stack, opts.stack);
  }
  return runApply({ ...opts, specFile }, io);
}
