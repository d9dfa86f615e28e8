// Terminal styles (SGR codes), one table for every coloured output. Callers decide
// whether to colour (a TTY and no NO_COLOR); these only add the codes.

const STYLES = {
  bold: { on: 1, off: 22 },
  dim: { on: 2, off: 22 },
  red: { on: 31, off: 39 },
  green: { on: 32, off: 39 },
  yellow: { on: 33, off: 39 },
  cyan: { on: 36, off: 39 },
} as const;

export type Style = keyof typeof STYLES;

const sgr = (code: number): string => `\u001b[${code}m`;
const RESET = sgr(0);

/** The text in the styles given, then a full reset: for labels and whole lines. */
export function paint(color: boolean, style: Style | readonly Style[], text: string): string {
  if (!color) return text;
  const styles: readonly Style[] = typeof style === "string" ? [style] : style;
  return `${styles.map((s) => sgr(STYLES[s].on)).join("")}${text}${RESET}`;
}

/** The text in one style, ended by that style's own off code, so it can sit inside other styled text. */
export function span(color: boolean, style: Style, text: string): string {
  return color ? `${sgr(STYLES[style].on)}${text}${sgr(STYLES[style].off)}` : text;
}

/** The text as it shows on screen: without style codes. */
export function unstyled(text: string): string {
  return text.replace(/\u001b\[[0-9;]*m/g, "");
}
