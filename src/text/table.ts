import { unstyled } from "./ansi.js";

/**
 * Rows as lines of columns two spaces apart, each padded to its widest cell; the last
 * column is not padded, so no line ends in spaces.
 */
export function alignColumns(rows: ReadonlyArray<readonly string[]>): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, displayWidth(cell))));
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell + " ".repeat((widths[i] ?? 0) - displayWidth(cell))))
      .join("  ")
      .trimEnd(),
  );
}

/** Code points without style codes: coloured cells line up, and accented names and emoji do not shift the columns much. */
export function displayWidth(text: string): number {
  return [...unstyled(text)].length;
}
