import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, relative, resolve, sep, isAbsolute } from "node:path";
import { UserError } from "../errors.js";
import { pidAlive } from "../pid.js";

// Each running `chatctl dev` writes where it listens, and for which spec, to a file
// of its own under ~/.chatctl/local/, so `--local` on another command finds the dev
// server of the stack it works on: several may run at once, and stopping one must
// not strand the others.

/** Credentials the local cloud accepts; never used against AWS. */
export const LOCAL_CREDENTIALS = { accessKeyId: "chatctl-local", secretAccessKey: "chatctl-local" } as const;

export interface LocalCloudInfo {
  readonly url: string; // http://127.0.0.1:4510
  readonly pid: number;
  readonly startedAt: string;
  readonly specFile?: string;
}

export function chatctlHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.CHATCTL_HOME || join(homedir(), ".chatctl");
}

export function localInfoDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(chatctlHome(env), "local");
}

function recordFile(pid: number, env: NodeJS.ProcessEnv): string {
  return join(localInfoDir(env), `${pid}.json`);
}

export function writeLocalInfo(info: LocalCloudInfo, env: NodeJS.ProcessEnv = process.env): void {
  mkdirSync(localInfoDir(env), { recursive: true, mode: 0o700 });
  writeFileSync(recordFile(info.pid, env), `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
}

export function removeLocalInfo(info: LocalCloudInfo, env: NodeJS.ProcessEnv = process.env): void {
  rmSync(recordFile(info.pid, env), { force: true });
}

/** The dev servers that are running; records of ones that are not (killed, crashed) are removed. */
export function runningLocalClouds(env: NodeJS.ProcessEnv = process.env): LocalCloudInfo[] {
  const dir = localInfoDir(env);
  if (!existsSync(dir)) return [];
  const found: LocalCloudInfo[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith(".json")) continue;
    const file = join(dir, name);
    try {
      const info = JSON.parse(readFileSync(file, "utf8")) as LocalCloudInfo;
      if (typeof info.url !== "string" || typeof info.pid !== "number") throw new Error("not a record");
      if (pidAlive(info.pid)) found.push(info);
      else rmSync(file, { force: true });
    } catch {
      rmSync(file, { force: true });
    }
  }
  return found.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

function projectOf(specFile: string): string {
  for (let dir = dirname(specFile); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json")) || existsSync(join(dir, ".git"))) return dir;
    if (dirname(dir) === dir) return dirname(specFile);
  }
}

function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel) && !rel.startsWith(sep));
}

export interface LocalTarget {
  /** A port or URL given with --local=PORT or CHATCTL_LOCAL. */
  readonly explicit?: string | undefined;
  /** The spec the command works on, when it has one. */
  readonly specFile?: string | undefined;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
}

export interface FoundLocalCloud {
  readonly url: string;
  readonly pid: number | undefined;
  /** Set when more than one dev server runs: which one this is, for stderr. */
  readonly note: string | undefined;
}

function describe(info: LocalCloudInfo, cwd: string): string {
  const spec = info.specFile ? `, ${relative(cwd, info.specFile) || info.specFile}` : "";
  return `${info.url} (pid ${info.pid}${spec})`;
}

/**
 * The dev server `--local` means: the one given by port, else the one whose spec is
 * this command's, else the one whose project holds the working directory, else the
 * only one running.
 */
export function findLocalCloud(target: LocalTarget = {}): FoundLocalCloud {
  const env = target.env ?? process.env;
  const cwd = target.cwd ?? process.cwd();
  const running = runningLocalClouds(env);
  const explicit = target.explicit ?? (env.CHATCTL_LOCAL || undefined);
  if (explicit !== undefined) {
    const url = /^\d+$/.test(explicit) ? `http://127.0.0.1:${explicit}` : explicit;
    if (!/^https?:\/\/[^/]+/.test(url)) throw new UserError(`--local: "${explicit}" is neither a port nor a URL (e.g. --local=4510)`);
    const known = running.find((r) => r.url === url.replace(/\/+$/, ""));
    return { url, pid: known?.pid, note: running.length > 1 && known ? `--local: reached chatctl dev at ${describe(known, cwd)}` : undefined };
  }
  if (running.length === 0) throw new UserError("--local: no chatctl dev is running (start one with: chatctl dev -f chat.yaml)");
  const spec = target.specFile && existsSync(target.specFile) ? resolve(target.specFile) : undefined;
  const bySpec = spec ? running.filter((r) => r.specFile === spec) : [];
  const byFolder = running.filter((r) => r.specFile !== undefined && isInside(projectOf(r.specFile), cwd));
  const chosen = bySpec.at(-1) ?? (byFolder.length === 1 ? byFolder[0] : undefined) ?? (running.length === 1 ? running[0] : undefined);
  if (!chosen) {
    const list = running.map((r) => describe(r, cwd)).join("; ");
    throw new UserError(
      `--local: ${running.length} chatctl dev servers are running and none is this spec's: ${list}. Run from the spec's folder, give -f, or pick one with --local=PORT (or CHATCTL_LOCAL=PORT)`,
    );
  }
  return { url: chosen.url, pid: chosen.pid, note: running.length > 1 ? `--local: reached chatctl dev at ${describe(chosen, cwd)}; ${running.length} are running` : undefined };
}
