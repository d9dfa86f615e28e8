import { UserError } from "../errors.js";
import { createProgressRenderer, summarizeApply } from "../apply/progress.js";
import { isStale, loadPlan, wrongTarget } from "../plan/file.js";
import { hasChanges } from "../plan/planner.js";
import { renderPlan } from "../plan/render-text.js";
import { fingerprintSnapshot } from "../plan/snapshot.js";
import type { Plan } from "../plan/types.js";
import type { PreparedStack } from "../stack/prepare.js";
import { executeStack, planStack, stackUrl } from "../stack/run.js";
import type { StackCommand } from "./stack-base.js";

/** What apply needs of its command: `apply` and the original script's `deploy` both provide it. */
export type ApplyLike = StackCommand & {
  readonly planFile?: string | undefined;
  readonly autoApprove: boolean;
  readonly deleteData: boolean;
  readonly lockTimeout: string;
  readonly concurrency: string;
};
import { runtimeProvidedNote } from "../stack/prepare.js";
import { explain, interruptible, prepare, refuseConflicts, withLock } from "./stack-session.js";

export async function runApply(cmd: ApplyLike): Promise<number> {
  const parallelism = Number(cmd.concurrency);
  if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > 64) throw new UserError("--parallelism must be a whole number from 1 to 64");

  if (cmd.planFile !== undefined) return applySaved(cmd, cmd.planFile, parallelism);

  const p = await prepare(cmd, { bundle: true });
  return withLock(cmd, p, "apply", async () => {
    const { plan } = await planStack(p, "apply", { deleteData: cmd.deleteData }).catch(explain);
    renderPlan(plan, (line) => cmd.out(line), { color: cmd.color });
    for (const line of runtimeProvidedNote(p)) cmd.out(line);
    refuseConflicts(plan);
    if (!hasChanges(plan)) {
      printUrl(cmd, plan.outputs);
      return 0;
    }
    await cmd.confirm("\nDo you want to perform these actions?", cmd.autoApprove);
    return execute(cmd, p, plan, parallelism);
  });
}

async function applySaved(cmd: ApplyLike, file: string, parallelism: number): Promise<number> {
  const saved = await loadPlan(file).catch(explain);
  // Without endpoint flags the plan goes back where it was made; with them, they must name that place.
  if (!cmd.local && cmd.endpointUrl === undefined && saved.endpoint !== undefined) cmd.endpointUrl = saved.endpoint;
  const p = await prepare(cmd, { bundle: saved.plan.mode === "apply", file: saved.specPath });
  const wrong = wrongTarget(saved, file, { endpoint: p.clients.config.endpoint, accountId: p.ctx.accountId, region: p.region });
  if (wrong !== undefined) throw new UserError(wrong);
  return withLock(cmd, p, saved.plan.mode, async () => {
    const fresh = await planStack(p, saved.plan.mode, { deleteData: cmd.deleteData }).catch(explain);
    if (fresh.desiredHash !== saved.specHash) {
      throw new UserError(`the saved plan ${file} is stale: ${saved.specPath} or a handler changed since it was made. Run chatctl plan --out ${file} again.`);
    }
    if (isStale(saved, fingerprintSnapshot(fresh.state))) {
      throw new UserError(`the saved plan ${file} is stale: the stack changed in the account since it was made. Run chatctl plan --out ${file} again.`);
    }
    refuseConflicts(saved.plan);
    if (!hasChanges(saved.plan)) {
      cmd.out("No changes in the saved plan.");
      printUrl(cmd, saved.plan.outputs);
      return 0;
    }
    renderPlan(saved.plan, (line) => cmd.out(line), { color: cmd.color });
    return execute(cmd, p, saved.plan, parallelism);
  });
}

export async function execute(cmd: StackCommand, p: PreparedStack, plan: Plan, parallelism: number): Promise<number> {
  cmd.out("");
  const progress = createProgressRenderer((line) => cmd.out(line), { color: cmd.color });
  const interrupt = interruptible(cmd);
  try {
    const result = await executeStack(p, plan, { onEvent: progress, signal: interrupt.signal, concurrency: parallelism });
    cmd.out("");
    cmd.out(summarizeApply(result));
    if (plan.mode === "apply") printUrl(cmd, result.outputs);
    if (!result.ok) cmd.err(`Run the same command again to finish: every step is safe to repeat.`);
    return result.ok ? 0 : 1;
  } finally {
    interrupt.dispose();
  }
}

function printUrl(cmd: StackCommand, outputs: Readonly<Record<string, Readonly<Record<string, string>>>>): void {
  const url = stackUrl(outputs);
  if (url) cmd.out(`\nWebSocket URL: ${url}`);
}
