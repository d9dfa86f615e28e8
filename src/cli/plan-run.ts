import { hasChanges } from "../plan/planner.js";
import { renderPlan } from "../plan/render-text.js";
import { planToJson } from "../plan/render-json.js";
import { savePlan } from "../plan/file.js";
import { planStack } from "../stack/run.js";
import { runtimeProvidedNote } from "../stack/prepare.js";
import type { PlanCommand } from "./plan.js";
import { explain, prepare } from "./stack-session.js";

export async function runPlan(cmd: PlanCommand): Promise<number> {
  const mode = cmd.destroy ? "destroy" : "apply";
  const p = await prepare(cmd, { bundle: mode === "apply" });
  const { plan, desiredHash } = await planStack(p, mode, { deleteData: cmd.deleteData }).catch(explain);
  if (cmd.json) cmd.out(JSON.stringify(planToJson(plan), null, 2));
  else {
    renderPlan(plan, (line) => cmd.out(line), { color: cmd.color });
    for (const line of runtimeProvidedNote(p)) cmd.out(line);
  }
  if (cmd.outFile !== undefined && cmd.outFile !== "") {
    const endpoint = p.clients.config.endpoint;
    await savePlan(cmd.outFile, plan, { specPath: p.specFile, specHash: desiredHash, endpoint });
    // The file keeps the endpoint, so the hint needs no flags to reach the same place.
    const kept = endpoint === undefined ? "" : ` (it goes to ${endpoint}, where it was made)`;
    if (!cmd.json) cmd.out(`\nSaved the plan to ${cmd.outFile}. Apply exactly this plan with: chatctl apply ${cmd.outFile}${kept}`);
  }
  if (plan.conflicts.length > 0) {
    cmd.err(`error: ${plan.conflicts.length} conflict${plan.conflicts.length === 1 ? "" : "s"}: apply would refuse this plan (see above).`);
    return 1;
  }
  return cmd.detailedExitcode && hasChanges(plan) ? 2 : 0;
}
