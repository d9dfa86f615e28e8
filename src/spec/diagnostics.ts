// Problems in a user's file, as data (terraform's tfdiags): the loader collects them all,
// the CLI decides how to show them (text here, or JSON as they are).

import { paint as paintText, type Style } from "../text/ansi.js";

export interface Diagnostic {
  severity: "error" | "warning";
  /** The file as the user named it, so the message points where they looked. */
  file: string;
  /** 1-based. */
  line?: number;
  /** 1-based, in UTF-16 code units of the line. */
  column?: number;
  /** Column just past the offending text on the same line; lets the caret cover the whole value. */
  endColumn?: number;
  /** The spec path of the offending value, e.g. functions.connect.timeout. */
  path?: string;
  summary: string;
  /** What is allowed, or how to fix it. */
  detail?: string;
  /** The text of `line`, shown under the message with a caret. */
  sourceLine?: string;
}

export interface FormatOptions {
  color: boolean;
}

function compareOptional(a: number | undefined, b: number | undefined): number {
  // A problem with the file as a whole (no position) comes before problems inside it.
  return (a ?? 0) - (b ?? 0);
}

/** Stable order: file, line, column; ties keep the order they were found in. */
export function sortDiagnostics(diags: readonly Diagnostic[]): Diagnostic[] {
  return diags
    .map((diag, index) => ({ diag, index }))
    .sort(
      (x, y) =>
        (x.diag.file < y.diag.file ? -1 : x.diag.file > y.diag.file ? 1 : 0) ||
        compareOptional(x.diag.line, y.diag.line) ||
        compareOptional(x.diag.column, y.diag.column) ||
        x.index - y.index,
    )
    .map(({ diag }) => diag);
}

export function hasErrors(diags: readonly Diagnostic[]): boolean {
  return diags.some((d) => d.severity === "error");
}

/** "2 errors and 1 warning", for the last line of a report. */
export function summarizeDiagnostics(diags: readonly Diagnostic[]): string {
  const errors = diags.filter((d) => d.severity === "error").length;
  const warnings = diags.length - errors;
  const parts: string[] = [];
  if (errors > 0) parts.push(`${errors} ${errors === 1 ? "error" : "errors"}`);
  if (warnings > 0) parts.push(`${warnings} ${warnings === 1 ? "warning" : "warnings"}`);
  return parts.length === 0 ? "no problems" : parts.join(" and ");
}

// Tabs would shift the caret; a control character could rewrite the user's terminal.
function printable(text: string): string {
  return text.replace(/\t/g, " ").replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, "?");
}

function location(diag: Diagnostic): string {
  if (diag.line === undefined) return diag.file;
  if (diag.column === undefined) return `${diag.file}:${diag.line}`;
  return `${diag.file}:${diag.line}:${diag.column}`;
}

/**
 * Renders like a compiler:
 *
 *     specs/chat.yaml:12:14: error: functions.connect.timeout: must be a whole number between 1 and 900
 *       12 |     timeout: 1.5
 *          |              ^^^
 *       allowed: ...
 *
 * Always ends with a newline when there is anything to show.
 */
export function formatDiagnostics(diags: readonly Diagnostic[], opts: FormatOptions): string {
  const paint = (style: Style | readonly Style[], text: string): string => paintText(opts.color, style, text);
  const out: string[] = [];
  for (const diag of sortDiagnostics(diags)) {
    const label = diag.severity === "error" ? paint(["bold", "red"], "error") : paint(["bold", "yellow"], "warning");
    out.push(`${paint("bold", location(diag))}: ${label}: ${paint("bold", printable(diag.summary))}`);
    if (diag.sourceLine !== undefined && diag.line !== undefined) {
      const gutter = String(diag.line);
      const pad = " ".repeat(gutter.length);
      out.push(`  ${paint("dim", `${gutter} |`)} ${printable(diag.sourceLine)}`);
      if (diag.column !== undefined) {
        const start = Math.max(1, diag.column);
        const end = Math.max(start + 1, Math.min(diag.endColumn ?? start + 1, diag.sourceLine.length + 1));
        out.push(`  ${paint("dim", `${pad} |`)} ${" ".repeat(start - 1)}${paint("cyan", "^".repeat(end - start))}`);
      }
    }
    if (diag.detail !== undefined) {
      for (const line of diag.detail.split("\n")) out.push(`  ${printable(line)}`);
    }
  }
  return out.length === 0 ? "" : `${out.join("\n")}\n`;
}
