import { existsSync } from "node:fs";
import { UserError } from "../errors.js";

/**
 * The original script named stacks, not files. Given a stack name, find its spec:
 * the -f file when one was given, else ./chat.yaml, ./STACK.yaml, ./specs/STACK.yaml.
 */
export function specFileForStack(stack: string | undefined, file: string, fileWasGiven: boolean): string {
  if (stack === undefined || fileWasGiven) return file;
  const candidates = ["chat.yaml", `${stack}.yaml`, `specs/${stack}.yaml`];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new UserError(`no spec found for stack ${stack}: looked for ${candidates.join(", ")}; name one with -f`);
  return found;
}
