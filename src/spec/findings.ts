// A problem found in the parsed value, before it is tied to a place in the file.
// Zod issues and the cross-field checks both produce these; the loader turns each
// into a Diagnostic by looking the path up in the YAML syntax tree.

export type SpecPath = readonly (string | number)[];

export interface Finding {
  severity: "error" | "warning";
  path: SpecPath;
  /**
   * Which text to point at: the key of the entry (unknown or badly named keys, whole
   * entries), its value (a wrong value), or the entry holding it (a missing key).
   */
  on: "key" | "value" | "parent";
  summary: string;
  detail?: string;
}

const PLAIN_SEGMENT = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** functions.connect.timeout, tables[0], routes["bad key"]: how a user would name the value. */
export function formatPath(path: SpecPath): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else if (PLAIN_SEGMENT.test(segment)) text += text === "" ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

/** "functions.connect.timeout: must be ..." or, at the top level, just the message. */
export function atPath(path: SpecPath, message: string): string {
  const where = formatPath(path);
  return where === "" ? message : `${where}: ${message}`;
}

/** Quotes a user's text for a message, shortened so a hostile value cannot flood the terminal. */
export function quote(text: string, max = 60): string {
  const shown = text.length > max ? `${text.slice(0, max)}...` : text;
  return JSON.stringify(shown);
}

/** How a value looks to someone reading YAML: "the number 1.5", "a list", "empty". */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return "empty";
  if (typeof value === "string") return value === "" ? "an empty string" : `the text ${quote(value)}`;
  if (typeof value === "number") return Number.isNaN(value) ? "not a number (.nan)" : `the number ${value}`;
  if (typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return `a ${typeof value}`;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Levenshtein distance, for "did you mean" hints on short names. */
export function editDistance(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return Math.max(a.length, b.length);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** A reference to a name that is not defined: what was asked for, a hint, and what there is. */
export function unknownName(what: "function" | "table" | "authorizer", name: string, defined: readonly string[]): [summary: string, detail: string] {
  return [
    `no ${what} named ${quote(name)}${didYouMean(name, defined)}`,
    defined.length === 0 ? `no ${what}s are defined under ${what}s:` : `defined ${what}s: ${listNames(defined)}`,
  ];
}

/** " (did you mean "connect"?)" when one candidate is close to the name, else "". */
export function didYouMean(name: string, candidates: readonly string[], show: (hint: string) => string = quote): string {
  const hint = closest(name, candidates);
  return hint === undefined ? "" : ` (did you mean ${show(hint)}?)`;
}

export function closest(name: string, candidates: readonly string[]): string | undefined {
  // Hints are for typos in hand-written files; a file with thousands of names gets none.
  if (candidates.length > 200) return undefined;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  // Very short names are all "close" to each other; a hint there would be a guess.
  if (best === undefined || best.length < 3) return undefined;
  return bestDistance <= Math.max(1, Math.floor(best.length / 3)) ? best : undefined;
}

/** "a, b, c" for a detail line, cut short when a file defines very many names. */
export function listNames(names: readonly string[], max = 20): string {
  if (names.length <= max) return names.join(", ");
  return `${names.slice(0, max).join(", ")} and ${names.length - max} more`;
}
