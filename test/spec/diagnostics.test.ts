import { describe, expect, it } from "vitest";
import { type Diagnostic, formatDiagnostics, sortDiagnostics, summarizeDiagnostics } from "../../src/spec/diagnostics.js";

const timeout: Diagnostic = {
  severity: "error",
  file: "specs/chat.yaml",
  line: 12,
  column: 14,
  endColumn: 17,
  path: "functions.connect.timeout",
  summary: "functions.connect.timeout: must be a whole number between 1 and 900, not the number 1.5",
  sourceLine: "    timeout: 1.5",
};
const unknown: Diagnostic = {
  severity: "warning",
  file: "specs/chat.yaml",
  line: 3,
  column: 1,
  summary: 'unknown key "lambda"',
  detail: "allowed keys at the top level: stack, routes\nsee specs/minimal.yaml",
};
const missingFile: Diagnostic = { severity: "error", file: "specs/chat.yaml", summary: "cannot read specs/chat.yaml: no such file" };

describe("formatDiagnostics", () => {
  it("renders like a compiler: location, severity, summary, source line with caret, detail", () => {
    expect(formatDiagnostics([timeout], { color: false })).toBe(
      [
        "specs/chat.yaml:12:14: error: functions.connect.timeout: must be a whole number between 1 and 900, not the number 1.5",
        "  12 |     timeout: 1.5",
        "     |              ^^^",
        "",
      ].join("\n"),
    );
  });

  it("puts problems in file, line, column order whatever order they were found in", () => {
    const text = formatDiagnostics([timeout, unknown, missingFile], { color: false });
    expect(text.split("\n").filter((line) => line.startsWith("specs/"))).toEqual([
      "specs/chat.yaml: error: cannot read specs/chat.yaml: no such file",
      'specs/chat.yaml:3:1: warning: unknown key "lambda"',
      "specs/chat.yaml:12:14: error: functions.connect.timeout: must be a whole number between 1 and 900, not the number 1.5",
    ]);
    expect(text).toContain("\n  allowed keys at the top level: stack, routes\n  see specs/minimal.yaml\n");
  });

  it("orders by file first", () => {
    const other: Diagnostic = { ...timeout, file: "a.yaml", line: 99 };
    expect(sortDiagnostics([timeout, other]).map((d) => d.file)).toEqual(["a.yaml", "specs/chat.yaml"]);
  });

  it("colours only when asked", () => {
    expect(formatDiagnostics([timeout], { color: false })).not.toContain("\u001b[");
    const coloured = formatDiagnostics([timeout, unknown], { color: true });
    expect(coloured).toContain("\u001b[31merror");
    expect(coloured).toContain("\u001b[33mwarning");
  });

  it("never lets a value in the file write control sequences to the terminal", () => {
    const hostile: Diagnostic = { ...timeout, summary: "bad \u001b[2J value", sourceLine: "x: \u001b]0;title\u0007" };
    expect(formatDiagnostics([hostile], { color: false })).not.toContain("\u001b");
  });

  it("renders nothing for no problems", () => {
    expect(formatDiagnostics([], { color: true })).toBe("");
  });

  it("counts problems for a closing line", () => {
    expect(summarizeDiagnostics([timeout, unknown, missingFile])).toBe("2 errors and 1 warning");
    expect(summarizeDiagnostics([unknown])).toBe("1 warning");
  });
});
