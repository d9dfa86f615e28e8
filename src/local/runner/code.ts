import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rename, rm, symlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve, sep } from "node:path";
import { unzipSync } from "fflate";

/** A directory name for a code identity; codeSha256 is base64 and may hold "/". */
export function codeDirName(codeSha256: string): string {
  return createHash("sha256").update(codeSha256).digest("hex").slice(0, 24);
}

/**
 * Unzips `zip` into `dir` (which must not exist yet). Entries that would land
 * outside `dir` ("../x", absolute paths) are refused: a zip is user input.
 * Extracts next to the target and renames, so a half-written tree is never run.
 */
export async function unzipInto(zip: Uint8Array, dir: string): Promise<void> {
  const entries = unzipSync(zip);
  const partial = `${dir}.partial-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const root = resolve(partial);
  try {
    await mkdir(root, { recursive: true });
    for (const [name, data] of Object.entries(entries)) {
      const target = resolve(root, name);
      if (target !== root && !target.startsWith(root + sep)) throw new Error(`zip entry escapes the code directory: ${name}`);
      if (name.endsWith("/")) {
        await mkdir(target, { recursive: true });
        continue;
      }
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, data);
    }
    await rename(root, dir);
  } catch (err) {
    await rm(root, { recursive: true, force: true });
    // Another invocation may have finished the same code first; theirs is as good as ours.
    if (existsSync(dir)) return;
    throw err;
  }
}

/**
 * The `node_modules` folder that holds the AWS SDK v3 chatctl itself uses, or
 * undefined. Lambda's Node.js runtimes ship the SDK, so handlers often leave it
 * out of their bundle; exposing ours plays that part.
 */
export function findRuntimeModules(): string | undefined {
  try {
    const entry = createRequire(import.meta.url).resolve("@aws-sdk/client-apigatewaymanagementapi");
    const marker = `${sep}node_modules${sep}`;
    const at = entry.lastIndexOf(marker);
    return at < 0 ? undefined : entry.slice(0, at + marker.length - 1);
  } catch {
    return undefined;
  }
}

/** The packages of `runtimeProvided` (per function) that the local runner has no copy of. */
export function unavailableLocally(runtimeProvided: Readonly<Record<string, readonly string[]>>, modulesDir = findRuntimeModules()): Set<string> {
  const missing = new Set<string>();
  for (const pkgs of Object.values(runtimeProvided)) {
    for (const pkg of pkgs) if (modulesDir === undefined || !existsSync(join(modulesDir, pkg, "package.json"))) missing.add(pkg);
  }
  return missing;
}

/**
 * Makes `@aws-sdk/*` resolvable from every code directory under `root`
 * (Node looks in each parent's node_modules) while a zip's own node_modules,
 * being nearer, still wins, as on Lambda.
 */
export async function exposeRuntimeModules(root: string, modulesDir: string): Promise<void> {
  const source = join(modulesDir, "@aws-sdk");
  if (!existsSync(source)) return;
  await mkdir(join(root, "node_modules"), { recursive: true });
  await symlink(source, join(root, "node_modules", "@aws-sdk"), "junction");
}
