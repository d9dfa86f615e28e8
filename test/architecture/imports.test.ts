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

/**
 * Import circles found by a depth-first walk: at least one through every set of files that
 * import each other round, each as "a -> b -> a" from its first file in sorted order.
 */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const found = new Set<string>();
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
        found.add([...canonical, canonical[0]].join(" -> "));
      } else if (state.get(next) === undefined) {
        visit(next);
      }
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
  return [...found];
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
    const circle = new Map([[join(SRC, "a.ts"), [join(SRC, "b.ts")]], [join(SRC, "b.ts"), [join(SRC, "a.ts")]]]);
    expect(cycles(circle)).toEqual(["src/a.ts -> src/b.ts -> src/a.ts"]); // the walk itself sees one
    expect(cycles(graph)).toEqual([]);
  });

  it("imports nothing of src/cli from outside it: commands are the outermost layer", () => {
    expect(importsAcross((f) => !under("cli")(f), under("cli"))).toEqual([]);
  });

  it("imports src/app only from src/cli: the use cases sit on top of the core, below the commands", () => {
    expect(importsAcross((f) => !under("cli")(f) && !under("app")(f), under("app"))).toEqual([]);
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
