// chat.yaml -> ChatSpec, or every problem in it at once, each with file, line and column.
//
// Hostile input is expected (a spec may come from anywhere): size is bounded before
// parsing, aliases are bounded while converting, and nothing here throws or loops on
// any text; an unexpected exception becomes a diagnostic too, never a stack trace.

import { readFile, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { type Document, LineCounter, type Node, isAlias, isCollection, isMap, isPair, isScalar, isSeq, parseDocument } from "yaml";
import { type Diagnostic, hasErrors, sortDiagnostics } from "./diagnostics.js";
import { type Finding, type SpecPath, atPath, formatPath, quote } from "./findings.js";
import { findingsFromIssues } from "./issues.js";
import { Locator, type Position, keyText } from "./locate.js";
import { ChatSpec } from "./schema.js";
import { MAX_SPEC_BYTES, decodeSpecBytes } from "./source.js";
import { validateSpec } from "./validate.js";
import { applyEnvironment, environmentAccount, environmentFindings, environmentNames } from "./environments.js";
import { findProjectRoot } from "../bundle/root.js";
import { resolveRegion } from "../aws/region.js";
import { errorMessage } from "../errors.js";

/** Aliases a spec may expand; a handful is plenty, thousands is an entity-expansion attack. */
export const MAX_ALIAS_COUNT = 100;

/** Diagnostics shown at most; a file with more problems gets a note saying how many were left out. */
export const MAX_DIAGNOSTICS = 200;

export interface LoadOptions {
  /** Where AWS_REGION / AWS_DEFAULT_REGION are read from; process.env when omitted. */
  env?: NodeJS.ProcessEnv;
  /** The day runtimes are checked against Lambda's deprecation schedule; today when omitted. */
  today?: Date;
  /** The environment (--env) to resolve; the spec as written when omitted. */
  environment?: string | undefined;
}

export type LoadResult =
  | {
      ok: true;
      spec: ChatSpec;
      /** Absolute path of the spec file. */
      file: string;
      /** Absolute folder of the spec file: handler paths are relative to it. */
      dir: string;
      /** Nearest folder at or above `dir` with package.json or .git (handlers live under it). */
      projectRoot: string;
      /** spec.region, else AWS_REGION, else AWS_DEFAULT_REGION, else ap-northeast-1. */
      region: string;
      warnings: Diagnostic[];
      /** The environments the spec declares, in file order. */
      environments: string[];
      /** The environment resolved (spec is then that environment's), and the account it is pinned to. */
      environment?: { name: string; account?: string | undefined };
    }
  | { ok: false; diagnostics: Diagnostic[] };

function fileProblem(file: string, summary: string, detail?: string): LoadResult {
  return { ok: false, diagnostics: [{ severity: "error", file, summary, ...(detail !== undefined ? { detail } : {}) }] };
}

function tooLarge(file: string, bytes: number): LoadResult {
  return fileProblem(
    file,
    `${file} is ${bytes} bytes; a spec may be at most ${MAX_SPEC_BYTES} bytes (1 MiB)`,
    "a chat.yaml is normally a few kilobytes; check that this is the right file",
  );
}

/** Reads and checks the spec at `file` (relative to the working directory, or absolute). */
export async function loadSpec(file: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const absolute = resolve(file);
  try {
    let info;
    try {
      info = await stat(absolute);
    } catch (cause) {
      const code = (cause as { code?: unknown }).code;
      if (code === "ENOENT" || code === "ENOTDIR") {
        return fileProblem(file, `cannot read ${file}: no such file`, `looked for ${absolute}; pass the spec with -f <path to chat.yaml>`);
      }
      if (code === "EACCES" || code === "EPERM") return fileProblem(file, `cannot read ${file}: permission denied`);
      return fileProblem(file, `cannot read ${file}: ${String(code ?? cause)}`);
    }
    if (info.isDirectory()) {
      return fileProblem(file, `${file} is a folder, not a spec file`, `pass the file inside it, e.g. -f ${file.replace(/\/+$/, "")}/chat.yaml`);
    }
    // Reading a FIFO or a device could block forever or never end.
    if (!info.isFile()) return fileProblem(file, `${file} is not a regular file`);
    if (info.size > MAX_SPEC_BYTES) return tooLarge(file, info.size);
    const bytes = await readFile(absolute);
    return await loadSpecText(bytes, file, opts);
  } catch (cause) {
    return fileProblem(file, `cannot read ${file}: ${errorMessage(cause)}`);
  }
}

/**
 * Checks spec text as if it were read from `file` (handler paths resolve from its folder).
 * Bytes are checked to be UTF-8; a string is taken as already decoded.
 */
export async function loadSpecText(text: string | Uint8Array, file: string, opts: LoadOptions = {}): Promise<LoadResult> {
  try {
    let source: string;
    if (typeof text === "string") {
      const bytes = Buffer.byteLength(text, "utf8");
      if (bytes > MAX_SPEC_BYTES) return tooLarge(file, bytes);
      source = text;
    } else {
      if (text.byteLength > MAX_SPEC_BYTES) return tooLarge(file, text.byteLength);
      const decoded = decodeSpecBytes(text);
      if (!decoded.ok) {
        return {
          ok: false,
          diagnostics: [
            {
              severity: "error",
              file,
              line: decoded.line,
              column: decoded.column,
              summary: `the file is not valid UTF-8 (byte ${decoded.offset} cannot be read as text)`,
              detail: "save the file as UTF-8",
              ...(decoded.sourceLine.length <= 240 ? { sourceLine: decoded.sourceLine } : {}),
            },
          ],
        };
      }
      source = decoded.text;
    }
    return await check(source, file, opts.env ?? process.env, opts.today, opts.environment);
  } catch (cause) {
    // Our bug, not the user's: say so plainly rather than crash with a stack trace.
    return fileProblem(
      file,
      `internal error while reading ${file}: ${errorMessage(cause)}`,
      "this is a bug in chatctl; please report it with the spec file",
    );
  }
}

function yamlSummary(code: string, message: string): { summary: string; detail?: string } {
  switch (code) {
    case "MULTIPLE_DOCS":
      return { summary: "the file holds more than one YAML document (a second --- starts another)", detail: "a spec is one document; remove the extra --- or split the file" };
    case "RESOURCE_EXHAUSTION":
      return { summary: "the document is nested too deeply to read" };
    case "TAB_AS_INDENT":
      return { summary: "tabs are not allowed for indentation in YAML", detail: "indent with spaces" };
    default:
      return { summary: message.replace(/\.$/, "") };
  }
}

interface WalkItem {
  node: unknown;
  path: SpecPath;
}

/** Duplicate keys, keys that are not plain text, aliases without an anchor: things JavaScript values cannot show. */
function structuralProblems(doc: Document, locator: Locator, file: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const at = (position: Position | undefined): Position => position ?? locator.top();
  // Iterative: a hostile file may nest thousands of levels deep.
  const stack: WalkItem[] = [{ node: doc.contents, path: [] }];
  while (stack.length > 0) {
    const { node, path } = stack.pop() as WalkItem;
    if (isAlias(node)) {
      if (locator.aliasTarget(node) === undefined) {
        out.push({
          severity: "error",
          file,
          ...at(locator.positionOfNode(node)),
          path: formatPath(path),
          summary: atPath(path, `alias *${node.source} has no anchor &${node.source} before it`),
        });
      }
    } else if (isMap(node)) {
      const seen = new Map<string, Node>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = keyText(pair.key);
        if (key === undefined) {
          if (pair.key !== null && isCollection(pair.key)) {
            out.push({
              severity: "error",
              file,
              ...at(locator.positionOfNode(pair.key as Node)),
              path: formatPath(path),
              summary: atPath(path, "keys must be plain text, not a list or mapping"),
            });
          }
          continue;
        }
        const childPath = [...path, key];
        if (key === "__proto__") {
          // JavaScript objects cannot hold this key faithfully; refusing it keeps every later lookup honest.
          out.push({
            severity: "error",
            file,
            ...at(locator.positionOfNode(pair.key as Node)),
            path: formatPath(childPath),
            summary: atPath(path, 'the key "__proto__" is not allowed'),
          });
          continue;
        }
        const first = seen.get(key);
        if (first !== undefined) {
          const firstAt = at(locator.positionOfNode(first));
          const noun = path.length === 1 && path[0] === "routes" ? "route key" : "key";
          out.push({
            severity: "error",
            file,
            ...at(locator.positionOfNode(pair.key as Node)),
            path: formatPath(childPath),
            summary: atPath(path, `duplicate ${noun} ${quote(key)} (first defined at line ${firstAt.line}, column ${firstAt.column})`),
            detail: `${file}:${firstAt.line}:${firstAt.column}: first definition; YAML would silently keep only the last one`,
          });
        } else if (isScalar(pair.key)) {
          seen.set(key, pair.key);
        }
        stack.push({ node: pair.value, path: childPath });
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => stack.push({ node: item, path: [...path, index] }));
    }
  }
  return out;
}

function toDiagnostic(finding: Finding, locator: Locator, file: string): Diagnostic {
  const position = locator.locate(finding.path, finding.on);
  return {
    severity: finding.severity,
    file,
    ...position,
    path: formatPath(finding.path),
    summary: finding.summary,
    ...(finding.detail !== undefined ? { detail: finding.detail } : {}),
  };
}

function dedupe(diags: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diags.filter((d) => {
    const key = `${d.severity}\u0000${d.line}\u0000${d.column}\u0000${d.summary}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function capped(file: string, diags: readonly Diagnostic[]): Diagnostic[] {
  const sorted = sortDiagnostics(dedupe(diags));
  if (sorted.length <= MAX_DIAGNOSTICS) return sorted;
  return [
    ...sorted.slice(0, MAX_DIAGNOSTICS),
    { severity: "error", file, summary: `${sorted.length - MAX_DIAGNOSTICS} more problems not shown; fix the ones above first` },
  ];
}

async function check(text: string, file: string, env: NodeJS.ProcessEnv, today: Date | undefined, environment: string | undefined): Promise<LoadResult> {
  const absolute = resolve(file);
  const dir = dirname(absolute);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    // Duplicates are reported below with both places, which yaml's own check does not give.
    uniqueKeys: false,
    merge: true,
    // "error" keeps yaml from printing warnings itself (they become diagnostics) without
    // hiding errors, which "silent" would (it drops the multiple-documents error).
    logLevel: "error",
    version: "1.2",
  });
  const locator = new Locator(doc, lineCounter, text);
  const diags: Diagnostic[] = [];

  for (const problem of [...doc.errors, ...doc.warnings]) {
    const { summary, detail } = yamlSummary(problem.code, problem.message);
    const position = locator.positionAt(problem.pos[0], problem.pos[1]);
    diags.push({
      severity: doc.errors.includes(problem as (typeof doc.errors)[number]) ? "error" : "warning",
      file,
      ...position,
      summary: problem.code === "TAG_RESOLVE_FAILED" ? `${summary}; its value is read as plain YAML` : summary,
      ...(detail !== undefined ? { detail } : {}),
    });
  }
  // A broken document gets only its syntax errors: anything said about its content would mislead.
  if (hasErrors(diags)) return { ok: false, diagnostics: capped(file, diags) };

  if (doc.contents === null) {
    diags.push({
      severity: "error",
      file,
      line: 1,
      column: 1,
      summary: "the file is empty",
      detail: "a spec needs at least stack:, routes: and functions: (see specs/minimal.yaml)",
    });
    return { ok: false, diagnostics: capped(file, diags) };
  }
  if (!isMap(doc.contents)) {
    const found = isSeq(doc.contents) ? "a list" : isScalar(doc.contents) ? "a single value" : "something else";
    diags.push({
      severity: "error",
      file,
      ...locator.top(),
      summary: `the top level must be a mapping (stack:, routes:, functions: ...), not ${found}`,
    });
    return { ok: false, diagnostics: capped(file, diags) };
  }

  diags.push(...structuralProblems(doc, locator, file));
  if (hasErrors(diags.filter((d) => d.summary.includes("has no anchor")))) return { ok: false, diagnostics: capped(file, diags) };

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (cause) {
    const message = errorMessage(cause);
    const bomb = /alias count/i.test(message);
    diags.push({
      severity: "error",
      file,
      ...locator.top(),
      summary: bomb
        ? "the file expands too many aliases (*name); it is refused as a resource-exhaustion attack"
        : cause instanceof RangeError
          ? "the document is nested too deeply to read"
          : `the document cannot be read: ${message}`,
      ...(bomb ? { detail: `at most ${MAX_ALIAS_COUNT} alias expansions are allowed` } : {}),
    });
    return { ok: false, diagnostics: capped(file, diags) };
  }

  // The whole file is checked, every environment's overrides included, so a mistake
  // in prod's block is found while working on dev.
  let parsed = ChatSpec.safeParse(value);
  const findings = parsed.success ? [] : findingsFromIssues(parsed.error.issues, value);
  findings.push(...environmentFindings(value));
  const names = environmentNames(value);
  if (environment !== undefined && !names.includes(environment)) {
    findings.push({
      severity: "error",
      path: names.length > 0 ? ["environments"] : [],
      on: "key",
      summary: names.length > 0 ? `no environment ${quote(environment)}; environments: ${names.join(", ")}` : `--env ${environment}: ${file} defines no environments`,
    });
  }
  // With an environment chosen, the cross-field checks see what will be deployed.
  let checked = value;
  if (environment !== undefined && names.includes(environment) && parsed.success && value !== null && typeof value === "object") {
    checked = applyEnvironment(value as Record<string, unknown>, environment);
    parsed = ChatSpec.safeParse(checked);
    if (!parsed.success) findings.push(...findingsFromIssues(parsed.error.issues, checked));
  }
  const projectRoot = await findProjectRoot(dir);
  findings.push(...(await validateSpec(checked, { dir, projectRoot, ...(today !== undefined ? { today } : {}) })));
  diags.push(...findings.map((finding) => toDiagnostic(finding, locator, file)));

  if (!parsed.success || hasErrors(diags)) return { ok: false, diagnostics: capped(file, diags) };
  return {
    ok: true,
    environments: names,
    ...(environment !== undefined ? { environment: { name: environment, account: environmentAccount(value, environment) } } : {}),
    spec: parsed.data,
    file: absolute,
    dir,
    projectRoot,
    region: resolveRegion(parsed.data.region, env),
    warnings: capped(file, diags),
  };
}
