import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

// The import directions ARCHITECTURE.md states, checked on the source itself.
const SRC = resolve("src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [join(dir, e.name)] : [],
  );
}

/**
 * Every file under `dir` -> the files it imports, both as paths from src/ (type-only and lazy
 * `await import()` imports included: they are dependencies too, and a circle through them is
 * still a circle to a reader).
 */
function importGraph(dir = SRC): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(dir)) {
    const text = readFileSync(file, "utf8");
    const targets = [...text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)].map((m) =>
      relative(SRC, resolve(dirname(file), m[1]!.replace(/\.js$/, ".ts"))),
    );
    graph.set(relative(SRC, file), [...new Set(targets)]);
  }
  return graph;
}

const layerOf = (file: string) => file.split("/")[0]!;

describe("layers", () => {
  const graph = importGraph();
  // Each layer and the layers it must never import.
  const forbidden: Record<string, readonly string[]> = {
    graph: ["resources", "desired", "plan", "apply", "stack", "app", "cli", "local", "ops", "aws", "spec", "bundle"],
    resources: ["desired", "plan", "apply", "stack", "app", "cli", "local", "ops"],
    desired: ["plan", "apply", "stack", "app", "cli", "local", "ops"],
    plan: ["apply", "desired", "stack", "app", "cli", "local", "ops"],
    apply: ["desired", "stack", "app", "cli", "local", "ops"],
  };

  it("sees the imports it checks", () => {
    // A reading that found nothing would pass every rule below.
    expect(graph.get("cli/main.ts")).toContain("cli/stack-commands.ts");
  });

  for (const [layer, never] of Object.entries(forbidden)) {
    it(`src/${layer} imports none of ${never.join(", ")}`, () => {
      const wrong = [...graph]
        .filter(([file]) => layerOf(file) === layer)
        .flatMap(([file, targets]) => targets.filter((t) => never.includes(layerOf(t))).map((t) => `${file} -> ${t}`));
      expect(wrong).toEqual([]);
    });
  }

  /** Imports of `layer` from files outside the layers allowed to make them. */
  const importsOf = (layer: string, allowed: readonly string[]) =>
    [...graph]
      .filter(([file]) => !allowed.includes(layerOf(file)))
      .flatMap(([file, targets]) => targets.filter((t) => layerOf(t) === layer).map((t) => `${file} -> ${t}`));

  it("src/cli is imported from nowhere else: the commands are the outermost layer", () => {
    expect(importsOf("cli", ["cli"])).toEqual([]);
  });

  it("src/app is imported only by src/cli: the use cases sit on the core, under the commands", () => {
    expect(importsOf("app", ["cli", "app"])).toEqual([]);
  });

  it("has no import circle in src", () => {
    const state = new Map<string, "visiting" | "done">();
    const circles: string[] = [];
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === "done") return;
      if (state.get(file) === "visiting") {
        circles.push([...path.slice(path.indexOf(file)), file].join(" -> "));
        return;
      }
      state.set(file, "visiting");
      for (const t of graph.get(file) ?? []) visit(t, [...path, file]);
      state.set(file, "done");
    };
    for (const file of graph.keys()) visit(file, []);
    expect(circles).toEqual([]);
  });
});

describe("tests", () => {
  // What a user runs; the rest of src/cli is the commands' own to change (and test/cli's to test).
  const ENTRIES = ["cli/main.ts", "cli/ops-commands.ts"];

  it("of other layers reach src/cli only through its entry points, as a user does", () => {
    const wrong = [...importGraph(resolve("test"))]
      .filter(([file]) => !file.startsWith("../test/cli/"))
      .flatMap(([file, targets]) => targets.filter((t) => layerOf(t) === "cli" && !ENTRIES.includes(t)).map((t) => `${file} -> ${t}`));
    expect(wrong).toEqual([]);
  });
});
