import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { bundleConsoleAssets } from "../../src/console/assets.js";

describe("the console page's assets", () => {
  it("bundle from ui/ into one script and one stylesheet that load nothing from elsewhere", async () => {
    const { js, css } = await bundleConsoleAssets();
    expect(js.length).toBeGreaterThan(1000);
    expect(css).toContain(".vrow");
    // Offline: no module, font or stylesheet fetched from a URL (the page's own stream is a relative path).
    expect(js).not.toMatch(/\bimport\s*\(?\s*["']https?:/);
    expect(css).not.toMatch(/@import|url\(\s*["']?https?:|@font-face/);
    expect(js).toContain("/@console/events");
  });

  it("ship in the package: ui/ is in package.json's files", () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { files: string[] };
    expect(pkg.files).toContain("ui");
  });
});
