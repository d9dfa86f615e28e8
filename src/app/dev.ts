import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { UserError, describeFailure, errorMessage } from "../errors.js";
import { startLocalCloud, type LocalCloud } from "../local/cloud.js";
import { summarizeApply } from "../apply/progress.js";
import { createDevConsole, type DevConsole } from "../console/dev.js";
import { LOCAL_CREDENTIALS, chatctlHome, removeLocalInfo, runningLocalClouds, writeLocalInfo, type LocalCloudInfo } from "../local/endpoint.js";
import { FaultInjector, parseFaultConfig } from "../local/faults.js";
import { renderPlan } from "../plan/render-text.js";
import { hasChanges } from "../plan/planner.js";
import { loadSpec } from "../spec/loader.js";
import { HandlerBuildError, prepareStack, runtimeProvidedNote } from "../stack/prepare.js";
import { unavailableLocally } from "../local/runner/code.js";
import { planStack, stackUrl } from "../stack/run.js";
import { executeReported } from "./apply.js";
import type { AppIO } from "./io.js";
import { redirectedOutputs, watchProject, type DevWatch } from "./dev-watch.js";
import { releaseApplyGarbage } from "./dev-heap.js";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);

export interface DevOptions {
  readonly specFile: string;
  readonly host: string;
  /** 0: any free port. */
  readonly port: number;
  /** Keep the local cloud in this folder across restarts. */
  readonly persist?: string | undefined;
  /** Re-apply when chat.yaml or a handler changes. */
  readonly watch: boolean;
  /** Do not print the functions' log lines. */
  readonly quiet: boolean;
  /** A JSON file of faults to inject. */
  readonly faults?: string | undefined;
  /** --env; else `dev` when the spec declares it. */
  readonly environment?: string | undefined;
}

/** `chatctl dev`: a local cloud in this process, the stack applied to it, until Ctrl-C. */
export async function runDev(opts: DevOptions, io: AppIO): Promise<number> {
  const port = opts.port;
  if (!LOOPBACK.has(opts.host)) {
    io.err(`warning: listening on ${opts.host}: anyone who can reach this machine can connect, call its functions and read its tables.`);
  }
  const specFile = resolve(opts.specFile);
  // No spec at all is a wrong folder or -f, not an edit in progress: say so before opening
  // any port. A spec with mistakes is reported by the first apply; watching, dev waits for the fix.
  if (!existsSync(specFile)) {
    throw new UserError(`no spec at ${specFile}: pass one with -f <path to chat.yaml>, or create one here with \`chatctl init\``);
  }
  const faults = opts.faults === undefined ? undefined : await readFaults(opts.faults);
  const first = await loadSpec(specFile, { environment: opts.environment });
  const environment = opts.environment ?? (first.ok && first.environments.includes("dev") ? "dev" : undefined);
  const region = first.ok && environment === opts.environment ? first.region : undefined;

  const devConsole = createDevConsole();
  let cloud: LocalCloud;
  try {
    cloud = await startLocalCloud({
      ...devConsole.cloud,
      host: opts.host,
      port,
      ...(region ? { region } : {}),
      ...(opts.persist ? { persistDir: resolve(opts.persist) } : {}),
      certDir: join(chatctlHome(), "local-ca"),
      onFunctionLog: (fn, message) => {
        devConsole.functionLog(fn, message);
        if (!opts.quiet) io.err(`[${fn}] ${message.replace(/\n$/, "")}`);
      },
      logger: (line, source) => {
        devConsole.error(line);
        io.err(`[${source ?? "gateway"}] ${line}`);
      },
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EADDRINUSE") {
      const holder = runningLocalClouds().find((c) => new URL(c.url).port === String(port));
      const by = holder ? `by chatctl dev (pid ${holder.pid}${holder.specFile ? `, ${holder.specFile}` : ""}): stop it, or ` : "(another chatctl dev?): ";
      throw new UserError(`port ${port} is in use ${by}pick another with --port, or --port 0 for any free one`);
    }
    throw err;
  }
  if (cloud.restored && cloud.restored.replayed > 0) {
    io.out(`Restored the local cloud from ${opts.persist} (${cloud.restored.replayed} changes replayed${cloud.restored.skipped > 0 ? `, ${cloud.restored.skipped} unreadable skipped` : ""}).`);
  }
  if (faults) {
    cloud.setBeforeCall(faults.before);
    io.err(`Injecting faults from ${opts.faults} (${faults.config.rules.length} rule${faults.config.rules.length === 1 ? "" : "s"}, seed ${faults.config.seed ?? 1}).`);
  }
  const info: LocalCloudInfo = { url: cloud.url, pid: process.pid, startedAt: new Date().toISOString(), specFile };
  // Listened for from here, before anything is printed: a Ctrl-C that lands during the
  // first apply, or just after the URL, used to meet Node's default and kill dev
  // mid-way, leaving its --local record behind and its workers' connections unclosed.
  const stop = listenForStop(
    (why) => io.out(`\n${why}`),
    () => {
      removeLocalInfo(info);
      process.exit(130);
    },
  );
  writeLocalInfo(info);
  devConsole.listening(cloud.port, cloud.models.connections);
  io.out(`Local cloud listening on ${cloud.url} (every AWS service chatctl uses; --local finds it)`);
  io.out(`Dev console: ${cloud.url}/ (connections, messages and the stack, live; this machine only)`);

  const shownNotes = new Set<string>();
  let running: Promise<void> | undefined;
  let again = false;
  let applied = false;
  const applyOnce = async (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        applied = await applyToCloud(io, cloud, specFile, devConsole, environment, opts.watch && !stop.isRequested(), shownNotes);
      } while (again && !stop.isRequested());
    })();
    try {
      await running;
    } finally {
      running = undefined;
    }
    // On a timer: the collection takes tens of ms, and a Ctrl-C right after the URL
    // should not wait behind it.
    setTimeout(releaseApplyGarbage, 0).unref();
  };

  let watcher: DevWatch | undefined;
  const shutDown = async (): Promise<void> => {
    await watcher?.close();
    // An apply half done would leave the local cloud between two states.
    await running;
    await cloud.close();
    devConsole.close();
    removeLocalInfo(info);
    stop.dispose();
  };

  await applyOnce();
  if (!applied && !opts.watch) {
    // Nothing would ever apply again: a server left running would only hang the script
    // (or CI job) that waits for its URL.
    io.err("error: the stack did not apply, and with --no-watch nothing re-applies: chatctl dev stops. Fix the error above and start it again.");
    await shutDown();
    return 1;
  }

  if (opts.watch && !stop.isRequested()) {
    watcher = watchProject({
      dirs: await watchedDirs(specFile),
      // Written on every call that changes the local cloud: watching it re-planned on every $connect.
      exclude: opts.persist ? [resolve(opts.persist)] : [],
      ignoreFiles: redirectedOutputs(),
      onChange: () => {
        io.out("\nChange detected: planning again...");
        void applyOnce();
      },
    });
    await watcher.ready;
    io.out("Watching chat.yaml and the handlers for changes. Ctrl-C to stop.");
  }

  await stop.requested;
  await shutDown();
  io.out("Stopped.");
  return 0;
}

interface StopRequests {
  /** Settles on the first SIGINT, SIGTERM or SIGHUP, or when the process that started dev goes. */
  readonly requested: Promise<void>;
  isRequested(): boolean;
  /** Stops listening (the signals get Node's default again). */
  dispose(): void;
}

/**
 * The first signal asks for a clean stop, which waits for an apply in progress and
 * closes every connection; a second one, while that runs, calls `force` (as Terraform's
 * second Ctrl-C does). `npx chatctl dev` and `npm run dev` run dev under `sh -c`: a
 * SIGTERM to npm ends that shell and never reaches dev, which would keep its port; the
 * parent id changing is how that shows.
 */
function listenForStop(say: (line: string) => void, force: () => void): StopRequests {
  const parent = process.ppid;
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  let requested = false;
  let resolveStop = (): void => {};
  const promise = new Promise<void>((r) => (resolveStop = r));
  const request = (): void => {
    if (requested) {
      say("Second stop request: exiting now, without closing connections.");
      force();
      return;
    }
    requested = true;
    clearInterval(orphaned);
    // Said at once: an apply in progress is finished first, and the user should know the key press was heard.
    say("Stopping: closing connections (each gets close code 1001 and its $disconnect); Ctrl-C again to exit at once...");
    resolveStop();
  };
  const onSignal = (): void => request();
  for (const s of signals) process.on(s, onSignal);
  const orphaned = setInterval(() => {
    if (process.ppid === parent) return;
    say("The process that started chatctl dev (npx, npm run) has exited.");
    request();
  }, 500);
  return {
    requested: promise,
    isRequested: () => requested,
    dispose: () => {
      clearInterval(orphaned);
      for (const s of signals) process.off(s, onSignal);
    },
  };
}

/**
 * Whether the local cloud now matches the spec. `shownNotes`: notes printed by an earlier
 * apply of this dev session, not repeated after each save.
 */
async function applyToCloud(
  io: AppIO,
  cloud: LocalCloud,
  specFile: string,
  devConsole: DevConsole,
  environment: string | undefined,
  watching: boolean,
  shownNotes: Set<string>,
): Promise<boolean> {
  let stack = { stack: "", region: cloud.region, stages: [] as Array<{ stage: string; url: string }> };
  try {
    const p = await prepareStack(specFile, {
      awsConfig: (region) => ({ region, endpoint: cloud.url, credentials: LOCAL_CREDENTIALS }),
      bundle: true,
      color: io.color,
      environment,
    });
    const { plan, state } = await planStack(p, "apply", { deleteData: false });
    // The stage's own URL, with its API's id: two APIs may share a stage name in one local cloud.
    let url = stackUrl(state.outputs);
    const withUrl = (u: string | undefined) => ({ stack: p.spec.stack, region: p.region, stages: u ? [{ stage: p.spec.api.stage, url: u }] : [] });
    stack = withUrl(url);
    // New resources as one line each: a first start would otherwise print every default
    // of 28 resources. Changes after an edit are shown in full, as plan shows them.
    renderPlan(plan, (line) => io.out(line), { color: io.color, compactCreates: true });
    const note = runtimeProvidedNote(p, unavailableLocally(p.runtimeProvided)).join("\n");
    if (note !== "" && !shownNotes.has(note)) {
      shownNotes.add(note);
      io.out(note);
    }
    if (plan.conflicts.length > 0) {
      io.err("error: conflicts in the local cloud (see above); not applying.");
      devConsole.applied({ ...stack, plan, result: undefined, ok: false, summary: "Not applied: conflicts in the local cloud." });
      return false;
    }
    let ok = true;
    if (hasChanges(plan)) {
      const result = await executeReported(p, plan, io, {});
      url = stackUrl(result.outputs) ?? url;
      stack = withUrl(url);
      ok = result.ok;
      devConsole.applied({ ...stack, plan, result, ok: result.ok, summary: summarizeApply(result) });
    } else {
      devConsole.applied({ ...stack, plan, result: undefined, ok: true, summary: "No changes: the local cloud matches chat.yaml." });
    }
    if (url) io.out(`\nWebSocket URL: ${url}`);
    return ok;
  } catch (err) {
    // While watching, a mistake in chat.yaml or a handler is reported and the server keeps running.
    // A handler's compile errors alone: HandlerBuildError's "run again" is plan's and apply's advice.
    const message = err instanceof HandlerBuildError ? `${err.problems.join("\n")}\nNothing was changed in the local cloud.` : (describeFailure(err) ?? `error: ${errorMessage(err)}`);
    io.err(message);
    if (watching) io.err("Fix it and save: chatctl dev applies again.");
    devConsole.applied({ ...stack, plan: undefined, result: undefined, ok: false, summary: message });
    return false;
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
