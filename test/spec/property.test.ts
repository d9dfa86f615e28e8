import fc from "fast-check";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatDiagnostics } from "../../src/spec/diagnostics.js";
import type { LoadResult } from "../../src/spec/loader.js";
import { TempProject } from "./helpers.js";

let project: TempProject;
beforeAll(() => {
  project = new TempProject();
});
afterAll(() => project.remove());

// SPEC_FUZZ_RUNS=5000 for a longer hunt; the default keeps the suite fast.
const RUNS = { numRuns: Number(process.env.SPEC_FUZZ_RUNS ?? 200) };

/** The loader's whole promise for open-ended input: a result, well-formed, never an exception. */
function expectWellFormed(result: LoadResult, file: string): void {
  const diags = result.ok ? result.warnings : result.diagnostics;
  if (!result.ok) expect(diags.some((d) => d.severity === "error")).toBe(true);
  for (const diag of diags) {
    // The loader turns its own exceptions into "internal error" diagnostics: here they are bugs.
    expect(diag.summary).not.toContain("internal error");
    expect(diag.file).toBe(file);
    expect(diag.summary.length).toBeGreaterThan(0);
    if (diag.line !== undefined) expect(diag.line).toBeGreaterThanOrEqual(1);
    if (diag.column !== undefined) expect(diag.column).toBeGreaterThanOrEqual(1);
  }
  expect(typeof formatDiagnostics(diags, { color: true })).toBe("string");
}

const KEYWORDS = [
  "stack", "region", "api", "routes", "functions", "tables", "tags", "$schema", "handler", "timeout", "memory",
  "runtime", "environment", "manageConnections", "logRetentionDays", "partitionKey", "sortKey", "ttlAttribute",
  "billingMode", "readCapacity", "writeCapacity", "onDestroy", "routeSelectionExpression", "stage", "name", "type",
  "$connect", "$default", "connect", "default", "connections", "<<",
] as const;

const key = fc.oneof(fc.constantFrom(...KEYWORDS), fc.string({ maxLength: 8 }));
const scalar = fc.oneof(
  fc.constantFrom(...KEYWORDS, "../handlers/connect.ts", "PROVISIONED", "nodejs22.x", "my-chat", "*a", "&a x", "!Ref x"),
  fc.string({ maxLength: 12 }),
  fc.integer({ min: -5, max: 2000 }),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);
const { value: yamlish } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalar, tie("list"), tie("map")),
  list: fc.array(tie("value"), { maxLength: 4 }),
  map: fc.dictionary(key, tie("value"), { maxKeys: 5 }),
}));

/** A dumped document, then damaged: characters inserted, removed or cut off. */
const mutatedDocument = fc
  .tuple(
    fc.dictionary(key, yamlish, { maxKeys: 6 }),
    fc.array(fc.tuple(fc.nat(), fc.constantFrom("", ":", "-", " ", "\t", "\n", "&x ", "*x", "[", "{", "'", '"', "#", "---\n", "\uFFFD"), fc.nat({ max: 3 })), { maxLength: 4 }),
  )
  .map(([doc, edits]) => {
    let text = stringify(doc);
    for (const [at, insert, remove] of edits) {
      const position = text.length === 0 ? 0 : at % (text.length + 1);
      text = text.slice(0, position) + insert + text.slice(position + remove);
    }
    return text;
  });

const FUNCTIONS = ["connect", "disconnect", "default", "sendmessage"] as const;

/** Specs that are valid by construction, to check that loading keeps what was written. */
const validSpec = fc
  .record({
    stack: fc.stringMatching(/^[a-z][a-z0-9-]{0,23}$/),
    functions: fc.uniqueArray(fc.constantFrom(...FUNCTIONS), { minLength: 1, maxLength: 4 }),
    timeout: fc.option(fc.integer({ min: 1, max: 29 }), { nil: undefined }),
    memory: fc.option(fc.integer({ min: 128, max: 10240 }), { nil: undefined }),
    custom: fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9]{0,10}$/), { maxLength: 3 }),
    withTable: fc.boolean(),
  })
  .map(({ stack, functions, timeout, memory, custom, withTable }) => {
    // Every function gets a route, or the loader would warn that it is unused.
    const routes: Record<string, string> = { $default: functions[0] as string };
    for (const fn of functions) routes[`to-${fn}`] = fn;
    custom.forEach((routeKey, index) => {
      routes[routeKey] = functions[index % functions.length] as string;
    });
    const spec: Record<string, unknown> = {
      stack,
      routes,
      functions: Object.fromEntries(
        functions.map((fn) => [
          fn,
          {
            handler: `../handlers/${fn}.ts`,
            ...(timeout !== undefined ? { timeout } : {}),
            ...(memory !== undefined ? { memory } : {}),
            ...(withTable ? { tables: ["connections"] } : {}),
          },
        ]),
      ),
    };
    if (withTable) spec.tables = { connections: { partitionKey: "connectionId" } };
    return spec;
  });

describe("the loader on open-ended input", () => {
  it("answers any string with a result, never an exception", async () => {
    const file = `${project.root}/specs/chat.yaml`;
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "binary", maxLength: 200 }), async (text) => {
        expectWellFormed(await project.load(text), file);
      }),
      RUNS,
    );
  });

  it("answers any bytes with a result, never an exception", async () => {
    const file = `${project.root}/specs/chat.yaml`;
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (bytes) => {
        expectWellFormed(await project.load(bytes), file);
      }),
      RUNS,
    );
  });

  it("answers damaged YAML documents with a result, never an exception", async () => {
    const file = `${project.root}/specs/chat.yaml`;
    await fc.assert(
      fc.asyncProperty(mutatedDocument, async (text) => {
        expectWellFormed(await project.load(text), file);
      }),
      RUNS,
    );
  });

  it("loads every valid spec, keeping what was written", async () => {
    await fc.assert(
      fc.asyncProperty(validSpec, async (spec) => {
        const result = await project.load(stringify(spec));
        if (!result.ok) throw new Error(formatDiagnostics(result.diagnostics, { color: false }));
        expect(result.warnings).toEqual([]);
        expect(result.spec.stack).toBe(spec.stack);
        expect(result.spec.routes).toEqual(spec.routes);
        for (const [name, fn] of Object.entries(spec.functions as Record<string, Record<string, unknown>>)) {
          expect(result.spec.functions[name]).toMatchObject(fn);
        }
      }),
      RUNS,
    );
  });
});
