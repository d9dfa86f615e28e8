import { fstatSync, statSync } from "node:fs";
import { basename, sep } from "node:path";
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

/**
 * Files editors write beside the one being edited, which no handler imports. chokidar's
 * `atomic` already drops vim's swap files and `~` backups; listed here too so the rule
 * does not hang on that option. The others reached dev as changes, each a re-plan to
 * "No changes": emacs's lock (`.#chat.yaml`, made at the first keystroke) and autosave
 * (`#chat.yaml#`, every few hundred keystrokes), vim's `4913` write probe, JetBrains'
 * safe-write temporaries, macOS's .DS_Store.
 */
const EDITOR_SCRATCH = /^(?:\..*\.sw[a-p]|4913|.*~|\.#.*|#.*#|.*___jb_(?:tmp|old)___|\.DS_Store)$/;

export interface DevWatch {
  /** Resolves once the initial scan is done: changes made after it are reported. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

export interface DevWatchOptions {
  readonly dirs: readonly string[];
  /** Folders never watched (an in-project --persist folder: its journal is written on every call). */
  readonly exclude?: readonly string[];
  /** Files whose changes are not reported, by identity (see `redirectedOutputs`). */
  readonly ignoreFiles?: readonly FileIdentity[];
  /** Called once per burst of changes, `debounceMs` after the last one. */
  readonly onChange: (paths: readonly string[]) => void;
  readonly debounceMs?: number;
}

/** A file as the file system knows it: the same file under any path, hard link or symlink. */
export interface FileIdentity {
  readonly dev: number;
  readonly ino: number;
}

/**
 * The regular files this process's stdout and stderr are redirected to. `chatctl dev >
 * dev.log 2>&1` in the project folder otherwise re-applied on every line it wrote, and
 * each apply wrote more lines: dev planned again and again without end.
 */
export function redirectedOutputs(): FileIdentity[] {
  const files: FileIdentity[] = [];
  for (const fd of [1, 2]) {
    try {
      const st = fstatSync(fd);
      if (st.isFile()) files.push({ dev: st.dev, ino: st.ino });
    } catch {
      // closed or not a file: nothing to leave out
    }
  }
  return files;
}

function isOneOf(path: string, files: readonly FileIdentity[]): boolean {
  try {
    const st = statSync(path);
    return files.some((f) => f.dev === st.dev && f.ino === st.ino);
  } catch {
    return false;
  }
}

export function watchProject(opts: DevWatchOptions): DevWatch {
  const exclude = (opts.exclude ?? []).map((d) => d.replace(/[/\\]+$/, ""));
  const ignored = (path: string): boolean => {
    if (exclude.some((d) => path === d || path.startsWith(d + sep))) return true;
    // A log cannot change the stack, and one written by `chatctl dev | tee dev.log` (dev's
    // stdout a pipe, so not found by redirectedOutputs) would re-apply on every line.
    if (path.endsWith(".log")) return true;
    if (EDITOR_SCRATCH.test(basename(path))) return true;
    return path.split(/[/\\]/).some((part) => IGNORED_PARTS.has(part));
  };
  const watcher: FSWatcher = chokidar([...opts.dirs], { ignoreInitial: true, ignored, atomic: true });
  let timer: NodeJS.Timeout | undefined;
  let pending = new Set<string>();
  const ignoreFiles = opts.ignoreFiles ?? [];
  watcher.on("all", (event, path) => {
    if (ignoreFiles.length > 0 && (event === "add" || event === "change") && isOneOf(path, ignoreFiles)) return;
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
