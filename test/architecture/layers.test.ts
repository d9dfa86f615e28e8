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

/** Every file under src/ -> the src/ files it imports (type-only imports included: they are dependencies too). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
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
    graph: ["resources", "desired", "plan", "apply", "stack", "cli", "local", "ops", "aws", "spec", "bundle"],
    resources: ["desired", "plan", "apply", "stack", "cli", "local", "ops"],
    desired: ["plan", "apply", "stack", "cli", "local", "ops"],
    plan: ["apply", "desired", "stack", "cli", "local", "ops"],
    apply: ["desired", "stack", "cli", "local", "ops"],
  };

  for (const [layer, never] of Object.entries(forbidden)) {
    it(`src/${layer} imports none of ${never.join(", ")}`, () => {
      const wrong = [...graph]
        .filter(([file]) => layerOf(file) === layer)
        .flatMap(([file, targets]) => targets.filter((t) => never.includes(layerOf(t))).map((t) => `${file} -> ${t}`));
      expect(wrong).toEqual([]);
    });
  }

  it("has no import circle among the files of graph, resources, desired, plan and apply", () => {
    const inScope = (f: string) => layerOf(f) in forbidden;
    const state = new Map<string, "visiting" | "done">();
    const circles: string[] = [];
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === "done") return;
      if (state.get(file) === "visiting") {
        circles.push([...path.slice(path.indexOf(file)), file].join(" -> "));
        return;
      }
      state.set(file, "visiting");
      for (const t of graph.get(file) ?? []) if (inScope(t)) visit(t, [...path, file]);
      state.set(file, "done");
    };
    for (const file of graph.keys()) if (inScope(file)) visit(file, []);
    expect(circles).toEqual([]);
  });
});
