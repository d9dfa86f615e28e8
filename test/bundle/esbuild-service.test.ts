import { describe, expect, it } from "vitest";
import { buildWithEsbuild } from "../../src/bundle/index.js";
import { bundleConsoleAssets } from "../../src/console/assets.js";

// The bundler stops esbuild's service 500 ms after its last build. The dev console's
// page, opened right after an apply, is bundled around that moment: the stop must wait
// for it, or its build never answers and the page stays blank. (Against the old code,
// where the console called esbuild directly, one of these delays hung in about half the runs.)
describe("esbuild's shared service", () => {
  it("is not stopped under the dev console's build that starts just before the idle stop", async () => {
    const answered = (p: Promise<unknown>) => Promise.race([p.then(() => "built"), new Promise((r) => setTimeout(() => r("no answer in 10 s"), 10_000))]);
    for (const delay of [430, 450, 470, 480, 490, 495]) {
      await buildWithEsbuild({ stdin: { contents: "export const x = 1;" }, write: false, format: "esm" });
      await new Promise((r) => setTimeout(r, delay));
      expect(await answered(bundleConsoleAssets()), `the console's build ${delay} ms after a handler's`).toBe("built");
    }
  }, 60_000);
});
