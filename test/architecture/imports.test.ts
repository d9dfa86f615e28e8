import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

// The import directions ARCHITECTURE.md states, checked on the source itself. Type-only and
// lazy (`await import()`) imports count: a circle through them is still a circle to a reader.

const ROOT = resolve(import.meta.dirname, "../..");
const SRC = join(ROOT, "src");

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(path);
    return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [path] : [];
  });
}

const STATIC = /^[ \t]*(?:import|export)\s[^;]*?\bfrom\s*["']([^"']+)["']/gm;
const SIDE_EFFECT = /^[ \t]*import\s*["']([^"']+)["']/gm;
const DYNAMIC = /\bimport\(\s*["']([^"']+)["']\s*\)/g;

/** Relative specifiers of a file's imports (comment lines dropped), as repository paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => !/^\s*(\/\/|\*|\/\*)/.test(line))
    .join("\n");
  const specifiers = [STATIC, SIDE_EFFECT, DYNAMIC].flatMap((re) => [...text.matchAll(re)].map((m) => m[1] ?? ""));
  return specifiers
    .filter((s) => s.startsWith("."))
    .map((s) => {
      const target = resolve(dirname(file), s).replace(/\.js$/, ".ts");
      if (!existsSync(target)) throw new Error(`${rel(file)} imports ${s}, which is not a file`);
      return target;
    });
}

const rel = (path: string) => relative(ROOT, path);
const graph = new Map(tsFiles(SRC).map((f) => [f, [...new Set(importsOf(f))]]));
const tests = new Map(tsFiles(join(ROOT, "test")).map((f) => [f, [...new Set(importsOf(f))]]));
const under = (folder: string) => (path: string) => path.startsWith(join(SRC, folder) + "/");

/** Every import circle, each once, as the list of its files from its first (sorted) member. */
function cycles(): string[][] {
  const found = new Map<string, string[]>();
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === "open") {
        const loop = stack.slice(stack.indexOf(next)).map(rel);
        const start = loop.indexOf([...loop].sort()[0] ?? "");
        const canonical = [...loop.slice(start), ...loop.slice(0, start)];
        found.set(canonical.join(" -> "), canonical);
      } else if (state.get(next) === undefined) {
        visit(next);
      }
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
  return [...found.values()];
}

function importsAcross(from: (path: string) => boolean, to: (path: string) => boolean): string[] {
  return [...graph].flatMap(([file, targets]) => (from(file) ? targets.filter(to).map((t) => `${rel(file)} imports ${rel(t)}`) : []));
}

describe("import directions in src", () => {
  it("finds the imports it checks", () => {
    // A parser that saw nothing would pass every rule below.
    expect(graph.get(join(SRC, "cli/main.ts"))).toContain(join(SRC, "cli/stack-commands.ts"));
  });

  it("has no import circles", () => {
    expect(cycles().map((c) => [...c, c[0]].join(" -> "))).toEqual([]);
  });

  it("imports nothing of src/cli from outside it: commands are the outermost layer", () => {
    expect(importsAcross((f) => !under("cli")(f), under("cli"))).toEqual([]);
  });

  it("imports nothing of src/apply from src/plan: planning knows nothing of executing", () => {
    expect(importsAcross(under("plan"), under("apply"))).toEqual([]);
  });
});

describe("import directions in test", () => {
  // The commands' entry points are what a user runs; anything else in src/cli is theirs to change.
  const ENTRIES = new Set(["src/cli/main.ts", "src/cli/ops-commands.ts"].map((f) => join(ROOT, f)));

  it("reach src/cli only through its entry points, as a user does", () => {
    const reached = [...tests].flatMap(([file, targets]) => targets.filter((t) => under("cli")(t) && !ENTRIES.has(t)).map((t) => `${rel(file)} imports ${rel(t)}`));
    expect(reached).toEqual([]);
  });
});
