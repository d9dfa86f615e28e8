import { stat } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";

// The project is what the bundler can see. Validation keeps handlers inside it and the
// bundler names files relative to it, so both must find the same folder.

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The nearest folder at or above `dir` holding package.json or .git. A file outside
 * any project is its own project: `dir` itself.
 */
export async function findProjectRoot(dir: string): Promise<string> {
  let current = resolve(dir);
  for (;;) {
    if ((await exists(join(current, "package.json"))) || (await exists(join(current, ".git")))) return current;
    const parent = dirname(current);
    if (parent === current) return resolve(dir);
    current = parent;
  }
}

export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}
