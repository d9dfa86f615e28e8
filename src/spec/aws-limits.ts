// Limits AWS enforces only when a resource is created or updated, checked on the
// spec instead, so a spec AWS would refuse half way through an apply is refused
// before the first call (with file:line:col like every other spec problem).

import { NODE_RUNTIMES, runtimeAdvice, runtimePhase, DEFAULT_NODE_RUNTIME } from "../aws/lambda-rules.js";
import { MAX_TAGS_PER_RESOURCE, MAX_TAG_KEY, MAX_TAG_VALUE, TAG_TEXT, tagLength } from "../aws/tag-rules.js";
import { type Finding, type SpecPath, isRecord, quote } from "./findings.js";
import { tableEnvName, tableName } from "./names.js";

type Report = (path: SpecPath, on: Finding["on"], summary: string, detail?: string) => void;

/**
 * Lambda's 4 KB limit, as Lambda measures it: the JSON text of the whole
 * variables map ("String measured: {...}" in its error), chatctl's own TABLE_*
 * variables included. https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
 */
export const MAX_ENVIRONMENT_BYTES = 4096;

export { MAX_TAGS_PER_RESOURCE, MAX_TAG_KEY, MAX_TAG_VALUE };
/** chatctl:stack and chatctl:id, on every resource. */
export const CHATCTL_TAGS = 2;

const characters = tagLength;

function badCharacters(s: string): string {
  return [...new Set([...s].filter((c) => !TAG_TEXT.test(c)))].map((c) => quote(c)).join(" ");
}

export function checkTags(raw: Record<string, unknown>, error: Report): void {
  if (!isRecord(raw.tags)) return;
  const entries = Object.entries(raw.tags);
  if (entries.length + CHATCTL_TAGS > MAX_TAGS_PER_RESOURCE) {
    error(
      ["tags"],
      "key",
      `${entries.length} tags are too many: AWS allows ${MAX_TAGS_PER_RESOURCE} per resource and chatctl adds ${CHATCTL_TAGS} of its own (chatctl:stack, chatctl:id)`,
      `keep at most ${MAX_TAGS_PER_RESOURCE - CHATCTL_TAGS} tags`,
    );
  }
  const allowed = "letters, digits, spaces and _ . : / = + - @";
  for (const [key, value] of entries) {
    if (characters(key) > MAX_TAG_KEY) error(["tags", key], "key", `tag keys may be at most ${MAX_TAG_KEY} characters (this one has ${characters(key)})`);
    if (!TAG_TEXT.test(key)) error(["tags", key], "key", `tag key ${quote(key)} holds ${badCharacters(key)}`, `tag keys may hold only ${allowed}`);
    if (typeof value !== "string") continue;
    if (characters(value) > MAX_TAG_VALUE) error(["tags", key], "value", `tag values may be at most ${MAX_TAG_VALUE} characters (this one has ${characters(value)})`);
    if (!TAG_TEXT.test(value)) error(["tags", key], "value", `tag value ${quote(value)} holds ${badCharacters(value)}`, `tag values may hold only ${allowed}`);
  }
}

/** The variables a function is created with: TABLE_* for its tables (and TABLE_NAME for a single one), then its own. */
export function environmentOf(stack: string, fn: Record<string, unknown>): Record<string, string> {
  const variables: Record<string, string> = {};
  const tables = Array.isArray(fn.tables) ? fn.tables.filter((t): t is string => typeof t === "string") : [];
  for (const t of tables) variables[tableEnvName(t)] = tableName({ stack }, t);
  if (tables.length === 1 && tables[0] !== undefined) variables.TABLE_NAME = tableName({ stack }, tables[0]);
  if (isRecord(fn.environment)) {
    for (const [k, v] of Object.entries(fn.environment)) if (typeof v === "string") variables[k] = v;
  }
  return variables;
}

export function checkEnvironmentSize(stack: string, name: string, fn: Record<string, unknown>, error: Report): void {
  const variables = environmentOf(stack, fn);
  const bytes = Buffer.byteLength(JSON.stringify(variables), "utf8");
  if (bytes <= MAX_ENVIRONMENT_BYTES) return;
  const own = Object.keys(variables).filter((k) => k.startsWith("TABLE_")).length;
  error(
    isRecord(fn.environment) ? ["functions", name, "environment"] : ["functions", name],
    "key",
    `environment variables take ${bytes} bytes; Lambda allows ${MAX_ENVIRONMENT_BYTES} in all`,
    `Lambda measures the JSON of every variable${own > 0 ? `, including the ${own} TABLE_* chatctl adds for the function's tables` : ""}`,
  );
}

/** A runtime Lambda no longer takes for new functions is refused; one past deprecation is warned about. */
export function checkRuntime(name: string, fn: Record<string, unknown>, today: Date, error: Report, warning: Report): void {
  const runtime = typeof fn.runtime === "string" ? fn.runtime : DEFAULT_NODE_RUNTIME;
  if (NODE_RUNTIMES[runtime] === undefined) return; // the schema reports runtimes it does not know
  const path: SpecPath = typeof fn.runtime === "string" ? ["functions", name, "runtime"] : ["functions", name];
  const on: Finding["on"] = typeof fn.runtime === "string" ? "value" : "key";
  const advice = runtimeAdvice(runtime, today);
  if (advice === undefined) return;
  const phase = runtimePhase(runtime, today);
  if (phase === "create-blocked" || phase === "update-blocked") error(path, on, `runtime ${runtime} can no longer be deployed`, advice);
  else warning(path, on, `runtime ${runtime} is deprecated`, advice);
}
