import { hasChanges } from "../plan/planner.js";
import { renderPlan } from "../plan/render-text.js";
import { planToJson } from "../plan/render-json.js";
import { renderPlanMarkdown } from "../plan/render-markdown.js";
import { savePlan } from "../plan/file.js";
import { runtimeProvidedNote } from "../stack/prepare.js";
import { planStack } from "../stack/run.js";
import type { AppIO } from "./io.js";
import { explain, prepare, specFileOf, type StackTarget } from "./session.js";

export interface PlanOptions extends StackTarget {
  /** Plan the removal of the stack instead. */
  readonly destroy: boolean;
  readonly deleteData: boolean;
  readonly format: "text" | "json" | "markdown";
  /** Save the plan here, for `chatctl apply FILE`. */
  readonly outFile?: string | undefined;
  /** Exit 2 when something would change (as Terraform's -detailed-exitcode). */
  readonly detailedExitcode: boolean;
}

/** `chatctl plan`: what apply would change, and why; nothing is changed. */
export async function runPlan(opts: PlanOptions, io: AppIO): Promise<number> {
  const mode = opts.destroy ? "destroy" : "apply";
  const p = await prepare(specFileOf(opts), opts, io, { bundle: mode === "apply" });
  const { plan, desiredHash } = await planStack(p, mode, { deleteData: opts.deleteData }).catch(explain);
  if (opts.format === "json") io.out(JSON.stringify(planToJson(plan), null, 2));
  else if (opts.format === "markdown") io.out(renderPlanMarkdown(plan).replace(/\n$/, ""));
  else {
    renderPlan(plan, (line) => io.out(line), { color: io.color });
    for (const line of runtimeProvidedNote(p)) io.out(line);
  }
  if (opts.outFile !== undefined && opts.outFile !== "") {
    const endpoint = p.clients.config.endpoint;
    await savePlan(opts.outFile, plan, { specPath: p.specFile, specHash: desiredHash, endpoint });
    // The file keeps the endpoint, so the hint needs no flags to reach the same place.
    const kept = endpoint === undefined ? "" : ` (it goes to ${endpoint}, where it was made)`;
    if (opts.format === "text") io.out(`\nSaved the plan to ${opts.outFile}. Apply exactly this plan with: chatctl apply ${opts.outFile}${kept}`);
  }
  if (plan.conflicts.length > 0) {
    io.err(`error: ${plan.conflicts.length} conflict${plan.conflicts.length === 1 ? "" : "s"}: apply would refuse this plan (see above).`);
    return 1;
  }
  return opts.detailedExitcode && hasChanges(plan) ? 2 : 0;
}
