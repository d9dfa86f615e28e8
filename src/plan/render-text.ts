import { structuredPatch } from "diff";
import type { Change } from "../resources/kind.js";
import { KNOWN_AFTER_APPLY, isRef, knownOrUnknown } from "../resources/refs.js";
import { planNotices } from "./notices.js";
import { hasChanges, summarize } from "./planner.js";
import { compareStrings } from "./snapshot.js";
import type { Action, Plan, Step } from "./types.js";
import { redactChange } from "./sensitive.js";
import { paint as paintText, type Style } from "../text/ansi.js";

export interface RenderOptions {
  /** The CLI decides: a TTY and no NO_COLOR. */
  readonly color: boolean;
  /** Kinds whose changes are also listed under "Security-relevant changes". */
  readonly securityKinds?: readonly string[];
  /** One line per created resource, without its attributes (chatctl dev's first apply). */
  readonly compactCreates?: boolean;
}

export const DEFAULT_SECURITY_KINDS: readonly string[] = ["iam.role", "lambda.permission", "apigw.authorizer"];

/** Kinds of which only some attributes bear on who may do what: a route's authorization. */
const SECURITY_PATHS: Readonly<Record<string, readonly string[]>> = { "apigw.route": ["authorizationType", "authorizerId"] };

function isSecurityStep(s: Step, kinds: ReadonlySet<string>): boolean {
  if (kinds.has(s.kind)) return true;
  const paths = SECURITY_PATHS[s.kind];
  if (paths === undefined) return false;
  // A new route is listed only when it is authorized; NONE is the default.
  return s.changes.some((c) => paths.includes(c.path) && !(s.action === "create" && c.after === "NONE"));
}

const SYMBOL: Readonly<Record<Action, string>> = { noop: " ", create: "+", update: "~", replace: "-/+", delete: "-" };

type Paint = (style: Style, text: string) => string;

const ACTION_STYLE: Readonly<Record<Action, Style>> = { noop: "dim", create: "green", update: "yellow", replace: "red", delete: "red" };

/**
 * Terraform-like text for a plan. It only formats: every decision was made by
 * the planner. Same plan, same lines.
 */
export function renderPlan(plan: Plan, sink: (line: string) => void, opts: RenderOptions): void {
  const paint: Paint = (style, text) => paintText(opts.color, style, text);
  const changing = plan.steps.filter((s) => s.action !== "noop");

  if (changing.length > 0) {
    sink(`chatctl will perform the following actions on stack ${plan.stack} (${where(plan)}):`);
    let previousCompact = false;
    for (const step of changing) {
      const compact = opts.compactCreates === true && step.action === "create";
      if (!(compact && previousCompact)) sink("");
      previousCompact = compact;
      renderStep(step, sink, paint, opts.compactCreates === true);
    }
    sink("");
  }

  const securityKinds = new Set(opts.securityKinds ?? DEFAULT_SECURITY_KINDS);
  const security = changing.filter((s) => isSecurityStep(s, securityKinds));
  if (security.length > 0) {
    sink(paint("bold", "Security-relevant changes:"));
    for (const s of security) {
      const paths = SECURITY_PATHS[s.kind];
      const shown = paths ? s.changes.filter((c) => paths.includes(c.path)) : s.changes;
      const what =
        s.action === "delete"
          ? " (removed)"
          : paths
            ? `: ${shown.map((c) => `${c.path} ${isRef(c.after) ? KNOWN_AFTER_APPLY : String(c.after ?? "none")}`).join(", ")}`
            : s.action === "create"
              ? " (new)"
              : `: ${unique(s.changes.map((c) => c.path)).join(", ")}`;
      sink(`  ${paint(ACTION_STYLE[s.action], SYMBOL[s.action])} ${s.kind} ${s.name}${what}`);
    }
    sink("");
  }

  // Account-wide settings the stack needs (access logs' CloudWatch Logs role): said only when missing.
  if (opts.compactCreates !== true) {
    for (const notice of planNotices(plan)) {
      sink(paint("bold", notice.title));
      for (const line of notice.lines) sink(`  ${line}`);
      sink("");
    }
  }

  if (plan.conflicts.length > 0) {
    sink(paint("bold", "Conflicts (never touched by chatctl):"));
    for (const c of plan.conflicts) sink(`  ${paint("red", "!")} ${c.message}`);
    sink("");
  }

  if (plan.kept.length > 0) {
    sink(paint("bold", "Kept:"));
    for (const k of plan.kept) sink(`  ${paint("cyan", "#")} ${k.kind} ${k.name} kept: ${k.reason}`);
    sink("");
  }

  sink(summaryLine(plan));
  if (plan.conflicts.length > 0) {
    const n = plan.conflicts.length;
    sink(paint("red", `${n === 1 ? "1 conflict" : `${n} conflicts`} must be resolved before this plan can be applied.`));
  }
}

export function summaryLine(plan: Plan): string {
  if (!hasChanges(plan)) {
    if (plan.mode === "destroy") return `No changes. Nothing of stack ${plan.stack} is left to destroy.`;
    return plan.kept.length > 0 || plan.conflicts.length > 0
      ? "No changes will be made; see what is kept or in conflict above."
      : plan.environment === undefined
        ? "No changes. Your stack matches chat.yaml."
        : `No changes. Stack ${plan.stack} (${where(plan)}) matches chat.yaml.`;
  }
  const s = summarize(plan);
  return `Plan: ${s.create} to create, ${s.update} to update, ${s.replace} to replace, ${s.delete} to delete.`;
}

function renderStep(step: Step, sink: (line: string) => void, paint: Paint, compactCreates: boolean): void {
  const style = ACTION_STYLE[step.action];
  const header = `${SYMBOL[step.action].padStart(3)} ${step.action}`;
  sink(`${paint(style, header)}  ${paint("bold", step.kind)}  ${step.name}${step.reason ? ` (${step.reason})` : ""}`);

  const changes = step.changes.map(redactChange).sort((a, b) => compareStrings(a.path, b.path));
  if (step.action === "create") {
    if (!compactCreates) renderNewValues(changes, sink, paint);
  }
  else if (step.action === "update" || step.action === "replace") for (const c of changes) renderChange(c, sink, paint);

  if (step.destroysData) {
    const verb = step.action === "replace" ? "replacing" : "deleting";
    sink(paint("red", `      !! data loss: ${verb} ${step.name} destroys the data it holds`));
  }
}

const INDENT = "      ";

function renderNewValues(changes: readonly Change[], sink: (line: string) => void, paint: Paint): void {
  const width = Math.max(0, ...changes.map((c) => c.path.length));
  for (const c of changes) {
    const lines = valueLines(c.after);
    sink(`${INDENT}${paint("green", "+")} ${c.path.padEnd(width)} = ${lines[0]}`);
    for (const line of lines.slice(1)) sink(`${INDENT}  ${" ".repeat(width)}   ${line}`);
  }
}

function renderChange(c: Change, sink: (line: string) => void, paint: Paint): void {
  const forces = c.forcesReplacement ? paint("red", "  # forces replacement") : "";
  const before = valueLines(c.before);
  const after = valueLines(c.after);
  if (c.before === undefined) {
    sink(`${INDENT}${paint("green", "+")} ${c.path} = ${after[0]}${forces}`);
    for (const line of after.slice(1)) sink(`${INDENT}    ${line}`);
    return;
  }
  if (c.after === undefined) {
    sink(`${INDENT}${paint("red", "-")} ${c.path} = ${before[0]}${forces}`);
    for (const line of before.slice(1)) sink(`${INDENT}    ${line}`);
    return;
  }
  if (before.length === 1 && after.length === 1) {
    sink(`${INDENT}${c.path}: ${before[0]} -> ${after[0]}${forces}`);
    return;
  }
  sink(`${INDENT}${c.path}:${forces}`);
  const patch = structuredPatch("before", "after", `${before.join("\n")}\n`, `${after.join("\n")}\n`, undefined, undefined, { context: 3 });
  for (const hunk of patch.hunks) {
    sink(`${INDENT}  ${paint("cyan", `@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`)}`);
    for (const line of hunk.lines) {
      if (line.startsWith("\\")) continue; // "\ No newline at end of file": we add one to both sides
      const style = line.startsWith("+") ? "green" : line.startsWith("-") ? "red" : undefined;
      sink(`${INDENT}  ${style ? paint(style, line) : line}`);
    }
  }
}

/** One line for scalars; pretty, key-sorted JSON lines for documents. */
function valueLines(value: unknown): string[] {
  if (value === undefined) return ["null"];
  if (isRef(value)) return [KNOWN_AFTER_APPLY];
  if (typeof value === "string") {
    const doc = parseDocument(value);
    if (doc !== undefined) return valueLines(doc);
    return value.includes("\n") ? value.replace(/\n$/, "").split("\n") : [JSON.stringify(value)];
  }
  if (typeof value === "object" && value !== null) {
    return JSON.stringify(sortKeys(knownOrUnknown(value)), null, 2).split("\n");
  }
  return [String(value)];
}

// Policies often travel as JSON text (compact or URL-encoded by IAM); shown as documents they diff line by line.
function parseDocument(text: string): object | undefined {
  const trimmed = text.trim();
  const candidates = [trimmed];
  if (trimmed.startsWith("%7B") || trimmed.startsWith("%7b")) {
    try {
      candidates.push(decodeURIComponent(trimmed));
    } catch {
      // not URL-encoded after all
    }
  }
  for (const candidate of candidates) {
    if (!(candidate.startsWith("{") || candidate.startsWith("["))) continue;
    try {
      const parsed: unknown = JSON.parse(candidate);
      if (typeof parsed === "object" && parsed !== null) return parsed;
    } catch {
      // plain text that happens to start with a brace
    }
  }
  return undefined;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort(compareStrings)) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)].sort(compareStrings);
}

/** "ap-northeast-1", or with an environment "environment staging, account 123456789012, ap-northeast-1". */
export function where(plan: Pick<Plan, "environment" | "accountId" | "region">): string {
  return plan.environment === undefined ? plan.region : `environment ${plan.environment}, account ${plan.accountId}, ${plan.region}`;
}
