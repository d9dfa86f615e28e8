import { UserError } from "../errors.js";
import { hasChanges } from "../plan/planner.js";
import { renderPlan } from "../plan/render-text.js";
import { planStack } from "../stack/run.js";
import { execute } from "./apply-run.js";
import type { DestroyCommand } from "./destroy.js";
import { specFileForStack } from "./find-spec.js";
import { explain, prepare, withLock } from "./stack-session.js";

export async function runDestroy(cmd: DestroyCommand): Promise<number> {
  const file = specFileForStack(cmd.stack, cmd.file, cmd.fileGiven);
  const p = await prepare(cmd, { bundle: false, file });
  if (cmd.stack !== undefined && cmd.stack !== p.spec.stack) {
    throw new UserError(`${p.specFile} describes stack ${p.spec.stack}, not ${cmd.stack}; name the right file with -f`);
  }
  return withLock(cmd, p, "destroy", async () => {
    const { plan } = await planStack(p, "destroy", { deleteData: cmd.deleteData }).catch(explain);
    renderPlan(plan, (line) => cmd.out(line), { color: cmd.color });
    if (!hasChanges(plan)) return 0;
    await cmd.confirm(`\nDestroy these resources of stack ${p.spec.stack}? There is no undo.`, cmd.autoApprove);
    return execute(cmd, p, plan, 8);
  });
}
