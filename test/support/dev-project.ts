import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll } from "vitest";

/** The repository, whose bin/chatctl.js (built into dist/) the dev end-to-end tests run. */
export const repoRoot = resolve(import.meta.dirname, "../..");
export const cliBuilt = existsSync(join(repoRoot, "dist/cli/main.js"));
export const chatctlBin = join(repoRoot, "bin/chatctl.js");

/**
 * A project of the test's own in the temp folder, removed after the file's tests: a
 * package.json, the repository's handlers/ (and specs/ with `specs: true`), and its
 * node_modules linked in, so handlers bundle as in a real project and may be edited.
 */
export function useDevProjects(prefix: string): (opts?: { specs?: boolean }) => string {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  return (opts = {}) => {
    const dir = mkdtempSync(join(tmpdir(), `chatctl-${prefix}-`));
    dirs.push(dir);
    if (opts.specs) cpSync(join(repoRoot, "specs"), join(dir, "specs"), { recursive: true });
    cpSync(join(repoRoot, "handlers"), join(dir, "handlers"), { recursive: true });
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: `${prefix}-test`, type: "module" }));
    symlinkSync(join(repoRoot, "node_modules"), join(dir, "node_modules"));
    return dir;
  };
}
