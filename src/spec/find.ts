import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../errors.js";

const SPEC_DIRS = [".", "specs"];

/** Spec files of these folders whose top-level `stack:` is this name. */
function specsNaming(stack: string): string[] {
  const pattern = new RegExp(`^stack:\\s*["']?${stack.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}["']?\\s*(#.*)?$`, "m");
  const found: string[] = [];
  for (const dir of SPEC_DIRS) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names.sort()) {
      if (!/\.ya?ml$/.test(name)) continue;
      const file = dir === "." ? name : join(dir, name);
      try {
        if (statSync(file).size > 1024 * 1024) continue;
        if (pattern.test(readFileSync(file, "utf8"))) found.push(file);
      } catch {
        // unreadable: not a candidate
      }
    }
  }
  return found;
}

/** Where a spec is looked for when neither a file nor a stack is named. */
const DEFAULT_SPECS = ["chat.yaml", join("specs", "chat.yaml")];

/**
 * The original script named stacks, not files. Given a stack name, find its spec:
 * the -f file when one was given, else ./chat.yaml, ./STACK.yaml, ./specs/STACK.yaml,
 * else the one YAML file in . or specs/ whose `stack:` is that name. Without a
 * stack name: ./chat.yaml, else specs/chat.yaml (where `chatctl init` and the
 * repository keep it).
 */
export function specFileForStack(stack: string | undefined, file: string, fileWasGiven: boolean): string {
  if (fileWasGiven) return file;
  if (stack === undefined) {
    const found = DEFAULT_SPECS.find((c) => existsSync(c));
    if (found) return found;
    throw new UserError(`no spec found: looked for ${DEFAULT_SPECS.join(" and ")}; name one with -f, or give the stack name`);
  }
  const candidates = ["chat.yaml", `${stack}.yaml`, `specs/${stack}.yaml`];
  const named = candidates.find((c) => existsSync(c));
  if (named) return named;
  const found = specsNaming(stack);
  if (found.length === 1 && found[0] !== undefined) return found[0];
  if (found.length > 1) throw new UserError(`several specs describe stack ${stack} (${found.join(", ")}); name one with -f`);
  throw new UserError(`no spec found for stack ${stack}: looked for ${candidates.join(", ")} and for "stack: ${stack}" in ./*.yaml and specs/*.yaml; name one with -f`);
}
