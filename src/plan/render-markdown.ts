import { renderPlan, summaryLine, where, DEFAULT_SECURITY_KINDS } from "./render-text.js";
import type { Action, Plan } from "./types.js";

// The plan as a pull-request comment: a reviewer sees the summary and what touches
// permissions or data at once; the full plan (the text renderer's, so secrets are
// redacted the same way) waits in a collapsed section.

const VERB: Readonly<Record<Action, string>> = { noop: "no change", create: "create", update: "update", replace: "replace", delete: "delete" };

/** Names come from the account; in a comment they must not become markup. */
const code = (text: string): string => `\`${text.replace(/`/g, "'").replace(/\|/g, "\\|")}\``;

export function renderPlanMarkdown(plan: Plan, opts: { securityKinds?: readonly string[] } = {}): string {
  const lines: string[] = [];
  const title = plan.mode === "destroy" ? "destroy plan" : "plan";
  lines.push(`### chatctl ${title}: ${code(plan.stack)} (${where(plan)})`, "", `**${summaryLine(plan)}**`);

  const changing = plan.steps.filter((s) => s.action !== "noop");
  const kinds = new Set(opts.securityKinds ?? DEFAULT_SECURITY_KINDS);
  const security = changing.filter((s) => kinds.has(s.kind));
  const dataLoss = changing.filter((s) => s.destroysData === true);
  if (plan.conflicts.length > 0) {
    lines.push("", `> [!CAUTION]`, `> ${plan.conflicts.length} conflict(s): apply would refuse this plan.`);
    for (const c of plan.conflicts) lines.push(`> - ${c.message.replace(/\n/g, " ")}`);
  }
  if (dataLoss.length > 0) {
    lines.push("", "> [!WARNING]", "> Data loss:");
    for (const s of dataLoss) lines.push(`> - ${VERB[s.action]} ${code(s.kind)} ${code(s.name)} destroys the data it holds`);
  }
  if (security.length > 0) {
    lines.push("", "#### Security-relevant changes", "", "| | Kind | Name | What |", "|---|---|---|---|");
    for (const s of security) {
      const what = s.action === "create" ? "new" : s.action === "delete" ? "removed" : [...new Set(s.changes.map((c) => c.path))].sort().map(code).join(", ");
      lines.push(`| ${VERB[s.action]} | ${code(s.kind)} | ${code(s.name)} | ${what} |`);
    }
  }

  const text: string[] = [];
  renderPlan(plan, (line) => text.push(line), { color: false, ...(opts.securityKinds ? { securityKinds: opts.securityKinds } : {}) });
  // A fence longer than any run of backticks in the plan cannot be closed by it.
  const longest = Math.max(2, ...text.join("\n").match(/`+/g)?.map((m) => m.length) ?? []);
  const fence = "`".repeat(longest + 1);
  lines.push("", "<details><summary>Full plan</summary>", "", `${fence}diff`, ...text, fence, "", "</details>");
  return `${lines.join("\n")}\n`;
}
