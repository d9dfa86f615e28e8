import type { Outcome } from "../plan/types.js";
import type { ApplyEvent, ApplyResult, StepInfo } from "./executor.js";
import { paint as paintText, type Style } from "../text/ansi.js";

export interface ProgressOptions {
  readonly color: boolean;
}

/**
 * Turns executor events into lines: one per finished step, plus one per retry.
 * Steps that change nothing stay quiet.
 */
export function createProgressRenderer(sink: (line: string) => void, opts: ProgressOptions): (e: ApplyEvent) => void {
  const paint = (style: Style, text: string) => paintText(opts.color, style, text);
  return (e) => {
    switch (e.type) {
      case "started":
        return;
      case "retrying":
        sink(
          `  ${paint("yellow", "↻")} ${label(e.step)} retrying in ${seconds(e.delayMs)} (attempt ${e.attempt} of ${e.maxAttempts}): ${e.reason}` +
            (e.error !== e.reason ? paint("dim", ` — ${e.error}`) : ""),
        );
        return;
      case "finished":
        switch (e.outcome) {
          case "unchanged":
            return;
          case "failed":
            sink(`  ${paint("red", "✗")} ${label(e.step)} failed: ${e.error ?? "unknown error"}`);
            return;
          case "skipped":
            sink(
              `  ${paint("dim", "-")} ${label(e.step)} skipped ` +
                (e.blockedBy ? `(depends on ${e.blockedBy.kind} ${e.blockedBy.name}, which failed)` : "(apply was interrupted)"),
            );
            return;
          default:
            sink(`  ${paint("green", "✓")} ${label(e.step)} ${e.outcome} (${seconds(e.ms)})`);
        }
    }
  };
}

/** The last line of an apply: what was done and, on failure, what was not. */
export function summarizeApply(result: ApplyResult): string {
  const count = (o: Outcome) => result.steps.filter((s) => s.outcome === o).length;
  const verb = result.mode === "destroy" ? "Destroy" : "Apply";
  const tally =
    result.mode === "destroy"
      ? `${count("deleted")} deleted`
      : `${count("created")} created, ${count("updated")} updated, ${count("replaced")} replaced, ${count("deleted")} deleted`;
  if (result.ok) return `${verb} complete: ${tally}.`;
  const notDone = result.steps.filter((s) => s.outcome === "failed" || s.outcome === "skipped");
  const failed = notDone.filter((s) => s.outcome === "failed").length;
  const skipped = notDone.length - failed;
  const cause = result.interrupted ? "interrupted" : `${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`;
  return `${verb} failed (${cause}): done ${tally}; not done: ${notDone.map((s) => `${label(s.step)} (${s.outcome})`).join(", ")}.`;
}

function label(step: StepInfo): string {
  return `${step.kind} ${step.name}`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}
