import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { UserError } from "../errors.js";
import { pidAlive } from "../pid.js";

// `chatctl dev` writes where it listens here, so `--local` on any other command
// finds it without the user copying a port around.

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

export function localInfoPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(chatctlHome(env), "local.json");
}

export function findLocalCloud(env: NodeJS.ProcessEnv = process.env): LocalCloudInfo {
  const path = localInfoPath(env);
  if (!existsSync(path)) {
    throw new UserError(`--local: no local cloud is running (start one with: chatctl dev -f chat.yaml)`);
  }
  let info: LocalCloudInfo;
  try {
    info = JSON.parse(readFileSync(path, "utf8")) as LocalCloudInfo;
  } catch {
    throw new UserError(`--local: ${path} is unreadable; restart chatctl dev`);
  }
  if (typeof info.url !== "string" || typeof info.pid !== "number" || !pidAlive(info.pid)) {
    throw new UserError(`--local: the local cloud recorded in ${path} is not running any more (start one with: chatctl dev -f chat.yaml)`);
  }
  return info;
}

export async function writeLocalInfo(info: LocalCloudInfo): Promise<void> {
  const path = localInfoPath();
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
}

/** Only remove the pointer when it is still ours (another dev may have started since). */
export async function removeLocalInfo(info: LocalCloudInfo): Promise<void> {
  try {
    const current = JSON.parse(await readFile(localInfoPath(), "utf8")) as LocalCloudInfo;
    if (current.pid === info.pid) await rm(localInfoPath(), { force: true });
  } catch {
    // already gone
  }
}
