import { watch, type FSWatcher } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { UserError, errorMessage } from "../errors.js";
import { startLocalCloud, type LocalCloud } from "../local/cloud.js";
import { FaultInjector, parseFaultConfig } from "../local/faults.js";
import { renderPlan } from "../plan/render-text.js";
import { hasChanges } from "../plan/planner.js";
import { createProgressRenderer, summarizeApply } from "../apply/progress.js";
import { loadSpec } from "../spec/loader.js";
import { prepareStack, runtimeProvidedNote } from "../stack/prepare.js";
import { unavailableLocally } from "../local/runner/code.js";
import { executeStack, planStack } from "../stack/run.js";
import { LOCAL_CREDENTIALS, describeFailure } from "./base.js";
import type { DevCommand } from "./dev.js";
import { chatctlHome, localInfoPath, type LocalCloudInfo } from "./local-endpoint.js";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);

export async function runDev(cmd: DevCommand): Promise<number> {
  const port = Number(cmd.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`--port must be a port number (0-65535), not "${cmd.port}"`);
  if (!LOOPBACK.has(cmd.host)) {
    cmd.err(`warning: listening on ${cmd.host}: anyone who can reach this machine can connect, call its functions and read its tables.`);
  }
  const specFile = resolve(cmd.file);
  const faults = cmd.faults === undefined ? undefined : await readFaults(cmd.faults);
  // Fail on a broken spec before opening any port.
  const first = await loadSpec(specFile);
  const region = first.ok ? first.region : undefined;

  let cloud: LocalCloud;
  try {
    cloud = await startLocalCloud({
      host: cmd.host,
      port,
      ...(region ? { region } : {}),
      ...(cmd.persist ? { persistDir: resolve(cmd.persist) } : {}),
      certDir: join(chatctlHome(), "local-ca"),
      onFunctionLog: cmd.quiet ? undefined : (fn, message) => cmd.err(`[${fn}] ${message.replace(/\n$/, "")}`),
      logger: (line) => cmd.err(`[gateway] ${line}`),
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EADDRINUSE") {
      throw new UserError(`port ${port} is in use (another chatctl dev?): pick another with --port, or --port 0 for any free one`);
    }
    throw err;
  }
  if (cloud.restored && cloud.restored.replayed > 0) {
    cmd.out(`Restored the local cloud from ${cmd.persist} (${cloud.restored.replayed} changes replayed${cloud.restored.skipped > 0 ? `, ${cloud.restored.skipped} unreadable skipped` : ""}).`);
  }
  if (faults) {
    cloud.setBeforeCall(faults.before);
    cmd.err(`Injecting faults from ${cmd.faults} (${faults.config.rules.length} rule${faults.config.rules.length === 1 ? "" : "s"}, seed ${faults.config.seed ?? 1}).`);
  }
  const info: LocalCloudInfo = { url: cloud.url, pid: process.pid, startedAt: new Date().toISOString(), specFile };
  await writeLocalInfo(info);
  cmd.out(`Local cloud listening on ${cloud.url} (every AWS service chatctl uses; --local finds it)`);

  let running = false;
  let again = false;
  const applyOnce = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await applyToCloud(cmd, cloud, specFile);
      } while (again);
    } finally {
      running = false;
    }
  };

  await applyOnce();

  const watchers: FSWatcher[] = [];
  if (cmd.watch) {
    let timer: NodeJS.Timeout | undefined;
    const onChange = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        cmd.out("\nChange detected: planning again...");
        void applyOnce();
      }, 150);
    };
    for (const dir of await watchedDirs(specFile)) {
      try {
        watchers.push(watch(dir, { recursive: true }, (_event, name) => {
          if (name && /(^|[/\\])(node_modules|\.git|dist)([/\\]|$)/.test(String(name))) return;
          onChange();
        }));
      } catch {
        // a folder that vanished: nothing to watch there
      }
    }
    cmd.out("Watching chat.yaml and the handlers for changes. Ctrl-C to stop.");
  }

  await new Promise<void>((resolveStop) => {
    const stop = () => resolveStop();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  cmd.out("\nStopping: closing connections (each gets its $disconnect)...");
  for (const w of watchers) w.close();
  await cloud.close();
  await removeLocalInfo(info);
  cmd.out("Stopped.");
  return 0;
}

async function applyToCloud(cmd: DevCommand, cloud: LocalCloud, specFile: string): Promise<void> {
  try {
    const p = await prepareStack(specFile, {
      awsConfig: (region) => ({ region, endpoint: cloud.url, credentials: LOCAL_CREDENTIALS }),
      bundle: true,
      color: cmd.color,
    });
    const { plan } = await planStack(p, "apply", { deleteData: false });
    // New resources as one line each: a first start would otherwise print every default
    // of 28 resources. Changes after an edit are shown in full, as plan shows them.
    renderPlan(plan, (line) => cmd.out(line), { color: cmd.color, compactCreates: true });
    for (const line of runtimeProvidedNote(p, unavailableLocally(p.runtimeProvided))) cmd.out(line);
    if (plan.conflicts.length > 0) {
      cmd.err("error: conflicts in the local cloud (see above); not applying.");
      return;
    }
    if (hasChanges(plan)) {
      cmd.out("");
      const result = await executeStack(p, plan, { onEvent: createProgressRenderer((l) => cmd.out(l), { color: cmd.color }) });
      cmd.out("");
      cmd.out(summarizeApply(result));
    }
    cmd.out(`\nWebSocket URL: ${cloud.url.replace(/^http/, "ws")}/${p.spec.api.stage}`);
  } catch (err) {
    // In dev a mistake in chat.yaml or a handler is reported and the server keeps running.
    cmd.err(describeFailure(err) ?? `error: ${errorMessage(err)}`);
    cmd.err("Fix it and save: chatctl dev applies again.");
  }
}

async function readFaults(file: string): Promise<FaultInjector> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new UserError(`--faults: cannot read ${file}`);
  }
  try {
    return new FaultInjector(parseFaultConfig(text, file));
  } catch (err) {
    throw new UserError(`--faults: ${errorMessage(err)}`);
  }
}

async function watchedDirs(specFile: string): Promise<string[]> {
  const dirs = new Set([dirname(specFile)]);
  const loaded = await loadSpec(specFile);
  if (loaded.ok) for (const fn of Object.values(loaded.spec.functions)) dirs.add(dirname(resolve(loaded.dir, fn.handler)));
  // A folder inside another is already watched through it.
  const all = [...dirs].sort();
  return all.filter((d) => !all.some((o) => o !== d && d.startsWith(`${o}/`)));
}

async function writeLocalInfo(info: LocalCloudInfo): Promise<void> {
  const path = localInfoPath();
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
}

/** Only remove the pointer when it is still ours (another dev may have started since). */
async function removeLocalInfo(info: LocalCloudInfo): Promise<void> {
  try {
    const current = JSON.parse(await readFile(localInfoPath(), "utf8")) as LocalCloudInfo;
    if (current.pid === info.pid) await rm(localInfoPath(), { force: true });
  } catch {
    // already gone
  }
}
