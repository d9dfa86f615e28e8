// Zod's issues rewritten for people: what is wrong, in the words of the YAML they wrote,
// and what is allowed. Bounds and allowed keys are read from the schema itself, so the
// messages stay true when the schema changes.

import { z } from "zod";
import { ChatSpec } from "./schema.js";
import { type Finding, type SpecPath, atPath, describeValue, didYouMean, formatPath, isRecord, quote } from "./findings.js";

type Issue = z.core.$ZodIssue;
type AnySchema = z.core.$ZodType;

function unwrap(schema: AnySchema | undefined): AnySchema | undefined {
  let current = schema;
  for (let i = 0; i < 8 && current !== undefined; i++) {
    if (current instanceof z.ZodDefault || current instanceof z.ZodOptional || current instanceof z.ZodNullable) {
      current = current.unwrap() as AnySchema;
    } else {
      break;
    }
  }
  return current;
}

/** The schema that checks the value at `path`, when the path leads through plain shapes. */
export function schemaAt(path: SpecPath, root: AnySchema = ChatSpec): AnySchema | undefined {
  let current: AnySchema | undefined = unwrap(root);
  for (const segment of path) {
    if (current instanceof z.ZodObject) {
      const shape = current.shape as Record<string, AnySchema>;
      current = typeof segment === "string" && Object.hasOwn(shape, segment) ? shape[segment] : undefined;
    } else if (current instanceof z.ZodRecord) {
      current = current.valueType as AnySchema;
    } else if (current instanceof z.ZodArray) {
      current = current.element as AnySchema;
    } else if (current instanceof z.ZodUnion) {
      // Only KeyAttribute-like unions (text or a mapping) are walked into: the mapping side.
      const options = current.options as readonly AnySchema[];
      current = options.find((option) => option instanceof z.ZodObject);
      if (current instanceof z.ZodObject) {
        const shape = current.shape as Record<string, AnySchema>;
        current = typeof segment === "string" && Object.hasOwn(shape, segment) ? shape[segment] : undefined;
      }
    } else {
      return undefined;
    }
    current = unwrap(current);
  }
  return current;
}

export function valueAt(root: unknown, path: SpecPath): { found: boolean; value: unknown } {
  let current = root;
  for (const segment of path) {
    if (Array.isArray(current) && typeof segment === "number") {
      if (segment >= current.length) return { found: false, value: undefined };
      current = current[segment];
    } else if (isRecord(current) && Object.hasOwn(current, String(segment))) {
      current = current[String(segment)];
    } else {
      return { found: false, value: undefined };
    }
  }
  return { found: true, value: current };
}

function descriptionOf(schema: AnySchema | undefined): string | undefined {
  if (schema === undefined) return undefined;
  const own = (schema as { description?: string }).description;
  if (own !== undefined) return own;
  // `.describe()` before `.default()` leaves the text on the inner schema.
  if (schema instanceof z.ZodDefault || schema instanceof z.ZodOptional) return descriptionOf(schema.unwrap() as AnySchema);
  return undefined;
}

const SAFE = Number.MAX_SAFE_INTEGER;

function numberRule(schema: AnySchema | undefined): string {
  const target = unwrap(schema);
  if (!(target instanceof z.ZodNumber)) return "a number";
  const noun = target.isInt ? "a whole number" : "a number";
  const min = target.minValue !== null && Math.abs(target.minValue) < SAFE ? target.minValue : undefined;
  const max = target.maxValue !== null && Math.abs(target.maxValue) < SAFE ? target.maxValue : undefined;
  if (min !== undefined && max !== undefined) return `${noun} between ${min} and ${max}`;
  if (min !== undefined) return `${noun} of at least ${min}`;
  if (max !== undefined) return `${noun} of at most ${max}`;
  return noun;
}

function stringRule(schema: AnySchema | undefined): string {
  const target = unwrap(schema);
  if (!(target instanceof z.ZodString)) return "text";
  const min = target.minLength;
  const max = target.maxLength;
  if (min !== null && min > 0 && max !== null) return `text of ${min} to ${max} characters`;
  if (min !== null && min > 0) return "non-empty text";
  if (max !== null) return `text of at most ${max} characters`;
  return "text";
}

function expectedNoun(expected: string, schema: AnySchema | undefined): string {
  switch (expected) {
    case "string":
      // Length rules matter once it is text; naming them now would only distract.
      return "text";
    case "number":
    case "int":
      return numberRule(schema);
    case "boolean":
      return "true or false";
    case "object":
    case "record":
      return "a mapping (key: value)";
    case "array":
      return "a list";
    default:
      return expected;
  }
}

function allowedKeysOf(schema: AnySchema | undefined): string[] {
  const target = unwrap(schema);
  return target instanceof z.ZodObject ? Object.keys(target.shape as Record<string, unknown>) : [];
}

function keyNoun(parent: SpecPath): string {
  const last = parent.length === 1 ? parent[0] : undefined;
  if (last === "routes") return "route key";
  if (last === "functions") return "function name";
  if (last === "tables") return "table name";
  if (last === "tags") return "tag key";
  if (parent.at(-1) === "environment") return "environment variable name";
  return "key";
}

interface Context {
  root: unknown;
  out: Finding[];
}

function rewrite(issue: Issue, prefix: SpecPath, ctx: Context): void {
  const path: SpecPath = [...prefix, ...(issue.path as (string | number)[]).map((p) => (typeof p === "number" ? p : String(p)))];
  const schema = schemaAt(path);
  const { found, value } = valueAt(ctx.root, path);
  const push = (finding: Omit<Finding, "severity" | "path"> & { path?: SpecPath }): void => {
    ctx.out.push({ severity: "error", path: finding.path ?? path, on: finding.on, summary: finding.summary, ...(finding.detail !== undefined ? { detail: finding.detail } : {}) });
  };

  switch (issue.code) {
    case "invalid_type": {
      if (!found) {
        const parent = path.slice(0, -1);
        const key = String(path.at(-1));
        const description = descriptionOf(schemaAt(path));
        push({
          on: "parent",
          summary: atPath(parent, `missing required key ${quote(key)}`),
          ...(description !== undefined ? { detail: description } : {}),
        });
        return;
      }
      const noun = expectedNoun(issue.expected, schema);
      const quoted =
        (issue.expected === "string" && (typeof value === "number" || typeof value === "boolean"))
          ? `write it in quotes to make it text: "${String(value)}"`
          : undefined;
      const emptyHint = value === null && (issue.expected === "record" || issue.expected === "object")
        ? "an empty mapping is written {}"
        : undefined;
      const detail = quoted ?? emptyHint ?? descriptionOf(schema);
      push({
        on: "value",
        summary: atPath(path, `must be ${noun}, not ${describeValue(value)}`),
        ...(detail !== undefined ? { detail } : {}),
      });
      return;
    }
    case "too_small":
    case "too_big": {
      if (issue.origin === "number" || issue.origin === "int") {
        push({ on: "value", summary: atPath(path, `must be ${numberRule(schema)} (found ${describeValue(value)})`) });
      } else if (issue.origin === "string") {
        const summary = issue.code === "too_small" && Number(issue.minimum) === 1
          ? "must not be empty"
          : `must be ${stringRule(schema)} (this one has ${typeof value === "string" ? value.length : "?"})`;
        push({ on: "value", summary: atPath(path, summary) });
      } else if (issue.origin === "array") {
        push({ on: "value", summary: atPath(path, issue.code === "too_small" ? `needs at least ${issue.minimum} item(s)` : `may hold at most ${issue.maximum} item(s)`) });
      } else {
        push({ on: "value", summary: atPath(path, issue.message) });
      }
      return;
    }
    case "invalid_format": {
      const message = issue.message.startsWith("must") ? issue.message : `must match ${issue.pattern ?? issue.format}`;
      push({ on: "value", summary: atPath(path, `${message} (found ${describeValue(value)})`) });
      return;
    }
    case "invalid_value": {
      const allowed = issue.values.map((v) => String(v));
      const hint = typeof value === "string" ? didYouMean(value, allowed, (h) => h) : "";
      push({
        on: "value",
        summary: atPath(path, `must be one of ${allowed.join(", ")}, not ${describeValue(value)}${hint}`),
      });
      return;
    }
    case "unrecognized_keys": {
      const allowed = allowedKeysOf(schema);
      for (const key of issue.keys) {
        push({
          path: [...path, key],
          on: "key",
          summary: atPath(path, `unknown key ${quote(key)}${didYouMean(key, allowed)}`),
          detail: `allowed keys${path.length === 0 ? " at the top level" : ` in ${formatPath(path)}`}: ${allowed.join(", ")}`,
        });
      }
      return;
    }
    case "invalid_key": {
      const parent = path.slice(0, -1);
      const key = String(path.at(-1));
      const inner = issue.issues[0];
      const message = inner !== undefined && inner.message.startsWith("must") ? inner.message
        : inner?.code === "too_big" ? `must be at most ${String(inner.maximum)} characters`
        : inner?.code === "too_small" ? "must not be empty"
        : inner !== undefined ? `is not valid: ${inner.message}`
        : "is not valid";
      push({ on: "key", summary: atPath(parent, `${keyNoun(parent)} ${quote(key)} ${message}`) });
      return;
    }
    case "invalid_union": {
      // Pick the alternative the user evidently meant: the one that got past the type check.
      const meant = issue.errors.find((branch) => branch.length > 0 && !branch.every((inner) => inner.code === "invalid_type" && inner.path.length === 0));
      if (meant !== undefined) {
        for (const inner of meant) rewrite(inner, path, ctx);
        return;
      }
      const nouns = issue.errors.flatMap((branch) => branch.filter((inner) => inner.code === "invalid_type" && inner.path.length === 0))
        .map((inner) => (inner.code === "invalid_type" ? expectedNoun(inner.expected, undefined) : ""));
      const description = descriptionOf(schemaAt(path));
      push({
        on: "value",
        summary: atPath(path, `must be ${nouns.length > 0 ? nouns.join(" or ") : "something else"}, not ${describeValue(value)}`),
        ...(description !== undefined ? { detail: description } : {}),
      });
      return;
    }
    default: {
      const message = issue.message.startsWith("must") ? issue.message : issue.message.toLowerCase();
      push({ on: "value", summary: atPath(path, `${message} (found ${describeValue(value)})`) });
    }
  }
}

/** Findings for every issue of a failed parse of `root`. */
export function findingsFromIssues(issues: readonly Issue[], root: unknown): Finding[] {
  const ctx: Context = { root, out: [] };
  for (const issue of issues) rewrite(issue, [], ctx);
  return ctx.out;
}
