import { sep } from "node:path";
import { watch as chokidar, type FSWatcher } from "chokidar";

/**
 * What `chatctl dev` watches: the spec's folder and every handler's folder.
 *
 * chokidar rather than Node's recursive `fs.watch`: on Linux that one watches
 * inodes, so after a rename-save (vim, JetBrains safe write, formatters,
 * `sed -i`, `git checkout`) the replaced file's later saves were never seen.
 * chokidar watches each folder and re-reads it on a rename, and folds a
 * delete + create of one path within its atomic window into one change.
 * (@parcel/watcher handles this too, but ships a native addon per platform;
 * chokidar is plain JavaScript with one small dependency.)
 */

const IGNORED_PARTS = new Set(["node_modules", ".git", "dist"]);

export interface DevWatch {
  /** Resolves once the initial scan is done: changes made after it are reported. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

export interface DevWatchOptions {
  readonly dirs: readonly string[];
  /** Folders never watched (an in-project --persist folder: its journal is written on every call). */
  readonly exclude?: readonly string[];
  /** Called once per burst of changes, `debounceMs` after the last one. */
  readonly onChange: (paths: readonly string[]) => void;
  readonly debounceMs?: number;
}

export function watchProject(opts: DevWatchOptions): DevWatch {
  const exclude = (opts.exclude ?? []).map((d) => d.replace(/[/\\]+$/, ""));
  const ignored = (path: string): boolean => {
    if (exclude.some((d) => path === d || path.startsWith(d + sep))) return true;
    return path.split(/[/\\]/).some((part) => IGNORED_PARTS.has(part));
  };
  const watcher: FSWatcher = chokidar([...opts.dirs], { ignoreInitial: true, ignored, atomic: true });
  let timer: NodeJS.Timeout | undefined;
  let pending = new Set<string>();
  watcher.on("all", (_event, path) => {
    pending.add(path);
    clearTimeout(timer);
    timer = setTimeout(() => {
      const paths = [...pending];
      pending = new Set();
      opts.onChange(paths);
    }, opts.debounceMs ?? 150);
  });
  // A folder that vanished or cannot be read is not worth stopping dev for.
  watcher.on("error", () => undefined);
  const ready = new Promise<void>((resolve) => watcher.once("ready", () => resolve()));
  return {
    ready,
    async close() {
      clearTimeout(timer);
      await watcher.close();
    },
  };
}
