import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { buildWithEsbuild } from "../bundle/index.js";

export interface ConsoleAssets {
  readonly js: string;
  readonly css: string;
}

/** ui/ at the package root: two levels above both src/console/ and dist/console/. */
export const UI_DIR = fileURLToPath(new URL("../../ui/", import.meta.url));

/**
 * The page's script and styles, bundled from ui/ (shipped in the package) by
 * esbuild, which chatctl already carries to bundle handlers. Done on the first
 * request for the page, so a dev server nobody opens the console of never pays it.
 */
export async function bundleConsoleAssets(uiDir = UI_DIR): Promise<ConsoleAssets> {
  const entry = `${uiDir}main.ts`;
  if (!existsSync(entry)) throw new Error(`the console's sources are missing (${entry})`);
  const out = await buildWithEsbuild({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: "esm",
    target: "es2022",
    minify: true,
    outdir: "/console", // names the outputs; nothing is written
    logLevel: "silent",
    legalComments: "none",
  });
  const js = out.outputFiles.find((f) => f.path.endsWith(".js"))?.text ?? "";
  const css = out.outputFiles.find((f) => f.path.endsWith(".css"))?.text ?? "";
  return { js, css };
}
