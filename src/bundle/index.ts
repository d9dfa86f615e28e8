import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { build as esbuildBuild, stop as stopEsbuild, type BuildFailure, type BuildOptions, type BuildResult, type Message, type Plugin, type SameShape } from "esbuild";
import { zipSync, type Zippable } from "fflate";
import { findProjectRoot } from "./root.js";

/**
 * A handler as Lambda receives it. The zip is deterministic, so `sha256` is the
 * code's identity: the same source always gives the same CodeSha256, and a plan
 * never shows a spurious code change.
 */
export interface Bundle {
  readonly entry: string; // absolute path of the handler source
  readonly zip: Uint8Array;
  readonly sha256: string; // base64, as Lambda reports CodeSha256
  readonly sha256Hex: string;
  readonly size: number; // bytes of the zip
  readonly zipPath: string; // <outDir>/<sha256Hex>.zip
  readonly handler: "index.handler";
  /** `@aws-sdk/*` packages the handler imports but its project does not install: left to the Lambda runtime, sorted. */
  readonly runtimeProvided: readonly string[];
}

export interface BundleOptions {
  /** Where zips are written; default `<os.tmpdir()>/chatctl-bundles`. */
  readonly outDir?: string;
  /** Default true. */
  readonly minify?: boolean;
  /** A source map beside index.mjs in the zip; default true. */
  readonly sourcemap?: boolean;
  /** Modules left to the runtime (e.g. "@aws-sdk/*"); default none: the AWS SDK is bundled. */
  readonly external?: readonly string[];
  /** Reuse this process's earlier bundle of the same entry when no input changed; default true. */
  readonly cache?: boolean;
}

export interface BundleDiagnostic {
  readonly file: string; // relative to the working directory when inside it
  readonly line: number; // 1-based; 0 when esbuild names no place
  readonly column: number; // 1-based; 0 when esbuild names no place
  readonly text: string;
}

/** A handler that does not compile. The message is one `file:line:column: error: text` line per problem. */
export class BundleError extends Error {
  override readonly name = "BundleError";
  constructor(
    readonly entry: string,
    readonly diagnostics: readonly BundleDiagnostic[],
  ) {
    super(diagnostics.map(formatDiagnostic).join("\n"));
  }
}

export function formatDiagnostic(d: BundleDiagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}:${d.column}` : d.file;
  return `${where}: error: ${d.text}`;
}

export const DEFAULT_OUT_DIR = join(tmpdir(), "chatctl-bundles");
export const BUNDLE_FILE = "index.mjs";
export const BUNDLE_HANDLER = "index.handler";

// Zip entries carry DOS timestamps, whose epoch is 1980; fflate reads the Date's local fields.
const ZIP_MTIME = new Date(1980, 0, 1, 0, 0, 0);
const ZIP_UNIX_FILE = 0o100644 << 16;
const ZIP_OS_UNIX = 3;

// Bundled CommonJS dependencies may `require` Node built-ins, which an ESM bundle
// cannot do on its own; esbuild's require shim uses this one.
const ESM_REQUIRE_BANNER = 'import{createRequire as __chatctlCreateRequire}from"node:module";const require=__chatctlCreateRequire(import.meta.url);';

interface CacheEntry {
  readonly bundle: Bundle;
  readonly inputs: ReadonlyMap<string, string>; // absolute path -> sha256 of its content
}

const cache = new Map<string, CacheEntry>();

/** This process's bundles, reused only while every file that went into them is unchanged. */
export const bundleCache = {
  get size(): number {
    return cache.size;
  },
  clear(): void {
    cache.clear();
  },
};

function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel === "" || rel.startsWith("..") || isAbsolute(rel) ? file : rel;
}

/** Paths in the bundle are relative to the project root, so they do not depend on where the project lives. */
function projectRoot(entry: string): Promise<string> {
  return findProjectRoot(dirname(entry));
}

// Lambda's Node.js runtimes from nodejs18.x on ship the whole AWS SDK for JavaScript v3
// (https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html; the runtime image
// holds every @aws-sdk/client-* package), so handlers written for Lambda often import it
// without installing it. A package is the function's own when package.json lists it in
// `dependencies` (what ships); `devDependencies` hold editor types and test tools, as
// AWS CDK's NodejsFunction also leaves @aws-sdk/* out. Read from package.json, not
// node_modules: the same project gives the same bundle before and after an `npm install`.
const RUNTIME_SDK = /^@aws-sdk\/[^/]+/;

function declaredDependencies(root: string): ReadonlySet<string> {
  let manifest: Record<string, unknown>;
  try {
    manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as Record<string, unknown>;
  } catch {
    return new Set();
  }
  const names = new Set<string>();
  for (const field of ["dependencies", "optionalDependencies"]) {
    const deps = manifest[field];
    if (deps !== null && typeof deps === "object") for (const name of Object.keys(deps)) names.add(name);
  }
  return names;
}

/** Leaves the project's own imports of an SDK package it does not install to the runtime; installed packages bundle as before. */
function runtimeSdkPlugin(root: string): Plugin {
  const installed = declaredDependencies(root);
  return {
    name: "chatctl-runtime-sdk",
    setup(b) {
      b.onResolve({ filter: RUNTIME_SDK }, (args) => {
        // A bundled dependency brings its own SDK along: splitting it from the runtime's would mix versions.
        if (args.importer.includes(`${sep}node_modules${sep}`)) return undefined;
        const pkg = RUNTIME_SDK.exec(args.path)?.[0];
        if (pkg === undefined || installed.has(pkg)) return undefined;
        return { path: args.path, external: true };
      });
    },
  };
}

function toDiagnostic(root: string, entry: string, m: Message): BundleDiagnostic {
  const loc = m.location;
  if (!loc) return { file: displayPath(entry), line: 0, column: 0, text: m.text };
  return { file: displayPath(resolve(root, loc.file)), line: loc.line, column: loc.column + 1, text: m.text };
}

function isBuildFailure(err: unknown): err is BuildFailure {
  return err instanceof Error && Array.isArray((err as { errors?: unknown }).errors);
}

function hashContent(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

// The project's own sources are compared by content (an edit of the same size within
// one timestamp tick must not be missed); the hundreds of dependency files a bundle
// pulls in by size and modification time, which an npm install changes: reading and
// hashing them all took ~0.4 s of every cold bundle.
async function fingerprint(file: string): Promise<string> {
  if (file.includes(`${sep}node_modules${sep}`)) {
    const st = await stat(file);
    return `stat:${st.size}:${st.mtimeMs}`;
  }
  return hashContent(await readFile(file));
}

async function inputsUnchanged(inputs: ReadonlyMap<string, string>): Promise<boolean> {
  for (const [file, print] of inputs) {
    try {
      if ((await fingerprint(file)) !== print) return false;
    } catch {
      return false;
    }
  }
  return true;
}

async function hashInputs(root: string, files: readonly string[]): Promise<Map<string, string>> {
  const inputs = new Map<string, string>();
  for (const input of files) {
    const file = resolve(root, input);
    inputs.set(file, await fingerprint(file));
  }
  return inputs;
}

async function writeAtomically(path: string, data: Uint8Array): Promise<void> {
  try {
    if ((await stat(path)).size === data.byteLength) return; // content-addressed: same name, same bytes
  } catch {
    // not written yet
  }
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/** Deterministic zip: fixed order, timestamps and permissions, so equal files give equal bytes. */
export function deterministicZip(files: ReadonlyArray<readonly [string, Uint8Array]>): Uint8Array {
  const input: Zippable = {};
  for (const [name, data] of [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    input[name] = [data, { mtime: ZIP_MTIME, os: ZIP_OS_UNIX, attrs: ZIP_UNIX_FILE, level: 9 }];
  }
  return zipSync(input);
}

/**
 * Bundles one handler for the Lambda Node.js 20 runtime: a minified ESM
 * `index.mjs` (handler "index.handler") and its source map, zipped
 * deterministically and written to `<outDir>/<sha256Hex>.zip`.
 * Throws BundleError when the handler does not compile.
 */
export async function bundleHandler(entry: string, opts: BundleOptions = {}): Promise<Bundle> {
  const absEntry = resolve(entry);
  const outDir = resolve(opts.outDir ?? DEFAULT_OUT_DIR);
  const minify = opts.minify ?? true;
  const sourcemap = opts.sourcemap ?? true;
  const external = [...(opts.external ?? [])].sort();
  const useCache = opts.cache ?? true;
  const key = JSON.stringify([absEntry, outDir, minify, sourcemap, external]);

  const cached = useCache ? cache.get(key) : undefined;
  if (cached && (await inputsUnchanged(cached.inputs))) return cached.bundle;

  try {
    if (!(await stat(absEntry)).isFile()) throw new Error("not a file");
  } catch {
    throw new BundleError(absEntry, [{ file: displayPath(absEntry), line: 0, column: 0, text: "handler file not found" }]);
  }

  const root = await projectRoot(absEntry);
  const [bundle] = await buildBundles(root, [absEntry], { outDir, minify, sourcemap, external });
  if (!bundle) throw new Error(`esbuild produced no bundle for ${absEntry}`);
  if (useCache) cache.set(key, { bundle: bundle.bundle, inputs: bundle.inputs });
  return bundle.bundle;
}


interface BuildSettings {
  readonly outDir: string;
  readonly minify: boolean;
  readonly sourcemap: boolean;
  readonly external: readonly string[];
}

// esbuild keeps its service process (~170 MB resident after bundling the handlers)
// until stopped; `chatctl dev` would carry it all session between edits. It is
// stopped once no build has run for a moment; the next build starts a new one in
// a few ms.
const ESBUILD_IDLE_MS = 500;
let builds = 0;
let idleTimer: NodeJS.Timeout | undefined;
let stopping: Promise<void> | undefined;

/**
 * Every esbuild build of this process goes through here (handlers, the dev console's
 * page), so the service is never stopped under one: a build it was stopped under never
 * answered. The console's page, built outside this count and opened right after an
 * apply, stayed blank with its script and styles pending (half of the full CI runs).
 * A build that arrives while a stop is under way waits for it rather than race it.
 */
export async function buildWithEsbuild<T extends BuildOptions>(options: SameShape<BuildOptions, T>): Promise<BuildResult<T>> {
  builds++;
  clearTimeout(idleTimer);
  try {
    await stopping; // the next build starts a new service once the old one is gone
    return await esbuildBuild(options);
  } finally {
    if (--builds === 0) {
      idleTimer = setTimeout(() => {
        if (builds > 0) return;
        stopping = stopEsbuild().finally(() => {
          stopping = undefined;
        });
      }, ESBUILD_IDLE_MS);
      idleTimer.unref();
    }
  }
}

const CJS_ENTRY = "chatctl-cjs-entry";

function exportsHandler(result: EsbuildResult, root: string, name: string): boolean {
  return result.metafile.outputs[relative(root, join(root, `${name}.mjs`))]?.exports.includes("handler") ?? false;
}

type EsbuildResult = BuildResult<{ write: false; metafile: true }>;

/** Serves `chatctl-cjs-entry:<path from root>` as a module that re-exports that file's `handler` by name. */
function commonJsEntryPlugin(root: string): Plugin {
  return {
    name: CJS_ENTRY,
    setup(b) {
      b.onResolve({ filter: new RegExp(`^${CJS_ENTRY}:`) }, (args) => ({ path: args.path.slice(CJS_ENTRY.length + 1), namespace: CJS_ENTRY }));
      // Relative, so the bundle does not depend on where the project lives.
      b.onLoad({ filter: /.*/, namespace: CJS_ENTRY }, (args) => ({ contents: `export { handler } from ${JSON.stringify(`./${args.path}`)};`, resolveDir: root, loader: "js" }));
    },
  };
}

async function runEsbuild(root: string, entries: readonly string[], names: readonly string[], settings: BuildSettings, commonJs: ReadonlySet<string>): Promise<EsbuildResult> {
  try {
    return await buildWithEsbuild({
      entryPoints: Object.fromEntries(entries.map((e, i) => [names[i]!, commonJs.has(e) ? `${CJS_ENTRY}:${relative(root, e).split(sep).join("/")}` : e])),
      absWorkingDir: root,
      outdir: root, // nothing is written (write: false); paths in the source map are relative to it
      write: false,
      bundle: true,
      platform: "node",
      target: "node20",
      format: "esm",
      outExtension: { ".js": ".mjs" },
      mainFields: ["module", "main"],
      banner: { js: ESM_REQUIRE_BANNER },
      minify: settings.minify,
      sourcemap: settings.sourcemap ? "linked" : false,
      // Stack traces need the mappings, not the sources: the SDK's sources would triple the zip.
      sourcesContent: false,
      external: [...settings.external],
      plugins: [runtimeSdkPlugin(root), commonJsEntryPlugin(root)],
      metafile: true,
      logLevel: "silent",
    });
  } catch (err) {
    if (isBuildFailure(err)) {
      const first = entries[0] ?? root;
      throw new BundleError(first, err.errors.map((m) => toDiagnostic(root, first, m)));
    }
    throw err;
  }
}

/**
 * One esbuild run for several handlers of one project: the SDK and every shared
 * module are parsed once instead of once per handler (4 handlers: ~0.5 s instead
 * of ~1 s here). Each output is renamed to index.mjs, so every zip is byte for
 * byte what a build of that handler alone gives.
 */
async function buildBundles(
  root: string,
  entries: readonly string[],
  settings: BuildSettings,
): Promise<Array<{ bundle: Bundle; inputs: Map<string, string> }>> {
  const names = entries.map((_, i) => (entries.length === 1 ? "index" : `entry${i}`));
  let result = await runEsbuild(root, entries, names, settings, new Set());
  // A CommonJS handler (`exports.handler = ...`) comes out of an ESM build as a default
  // export only, which Lambda does not look into: build it again behind an entry that
  // re-exports `handler` by name.
  const commonJs = entries.filter((e, i) => !exportsHandler(result, root, names[i]!) && result.metafile.inputs[relative(root, e)]?.format === "cjs");
  if (commonJs.length > 0) result = await runEsbuild(root, entries, names, settings, new Set(commonJs));
  for (const [i, entry] of entries.entries()) {
    const cjs = commonJs.includes(entry);
    // CommonJS exports are only known at run time; a file that never says `handler` cannot have one.
    const missing = cjs ? !/\bhandler\b/.test(readFileSync(entry, "utf8")) : !exportsHandler(result, root, names[i]!);
    if (missing) {
      const example = cjs ? "exports.handler = async (event) => { ... }" : "export const handler = async (event) => { ... }";
      throw new BundleError(entry, [{ file: displayPath(entry), line: 0, column: 0, text: `no \`handler\` export: Lambda calls the function's \`handler\` (${example})` }]);
    }
  }
  const outputs = new Map(result.outputFiles.map((f) => [relative(root, f.path), f.contents] as const));
  const built: Array<{ bundle: Bundle; inputs: Map<string, string> }> = [];
  for (const [i, entry] of entries.entries()) {
    const name = names[i]!;
    const code = outputs.get(`${name}.mjs`);
    if (!code) throw new Error(`esbuild produced ${[...outputs.keys()].join(", ")} but no ${name}.mjs`);
    const files: Array<readonly [string, Uint8Array]> = [[BUNDLE_FILE, renameMapReference(code, name)]];
    const map = outputs.get(`${name}.mjs.map`);
    if (map) files.push([`${BUNDLE_FILE}.map`, map]);
    const zip = deterministicZip(files);
    const digest = createHash("sha256").update(zip).digest();
    const sha256Hex = digest.toString("hex");
    const zipPath = join(settings.outDir, `${sha256Hex}.zip`);
    await writeAtomically(zipPath, zip);
    const meta = result.metafile.outputs[relative(root, join(root, `${name}.mjs`))];
    // A file edited during the build would be hashed newer than what was bundled; the
    // window is the build's few hundred milliseconds, and the next edit heals it.
    const inputs = await hashInputs(root, Object.keys(meta?.inputs ?? result.metafile.inputs).filter((f) => !f.startsWith(`${CJS_ENTRY}:`)));
    // package.json decides what is bundled, so its edits must rebuild.
    const manifest = join(root, "package.json");
    if (existsSync(manifest)) inputs.set(manifest, await fingerprint(manifest));
    const runtimeProvided = [
      ...new Set((meta?.imports ?? []).filter((i) => i.external).map((i) => RUNTIME_SDK.exec(i.path)?.[0]).filter((p): p is string => p !== undefined)),
    ].sort();
    built.push({
      bundle: { entry, zip, sha256: digest.toString("base64"), sha256Hex, size: zip.byteLength, zipPath, handler: BUNDLE_HANDLER, runtimeProvided },
      inputs,
    });
  }
  return built;
}

function renameMapReference(code: Uint8Array, name: string): Uint8Array {
  if (name === "index") return code;
  const text = Buffer.from(code).toString("utf8");
  const from = `//# sourceMappingURL=${name}.mjs.map`;
  const at = text.lastIndexOf(from);
  return at < 0 ? code : Buffer.from(text.slice(0, at) + `//# sourceMappingURL=${BUNDLE_FILE}.map` + text.slice(at + from.length), "utf8");
}

/**
 * Bundles several handlers at once (see buildBundles); results are in the
 * order of `entries`. When any handler does not compile, each is built alone,
 * so every error is reported against its own handler.
 */
export async function bundleHandlers(entries: readonly string[], opts: BundleOptions = {}): Promise<PromiseSettledResult<Bundle>[]> {
  const outDir = resolve(opts.outDir ?? DEFAULT_OUT_DIR);
  const minify = opts.minify ?? true;
  const sourcemap = opts.sourcemap ?? true;
  const external = [...(opts.external ?? [])].sort();
  const useCache = opts.cache ?? true;
  const absEntries = entries.map((e) => resolve(e));
  const keyOf = (e: string) => JSON.stringify([e, outDir, minify, sourcemap, external]);

  const results: Array<PromiseSettledResult<Bundle> | undefined> = absEntries.map(() => undefined);
  const todo: number[] = [];
  for (const [i, e] of absEntries.entries()) {
    const cached = useCache ? cache.get(keyOf(e)) : undefined;
    if (cached && (await inputsUnchanged(cached.inputs))) results[i] = { status: "fulfilled", value: cached.bundle };
    else todo.push(i);
  }
  // Handlers of one project share one build; a missing file is reported by bundleHandler.
  const byRoot = new Map<string, number[]>();
  for (const i of todo) {
    const e = absEntries[i]!;
    const isFile = await stat(e).then((st) => st.isFile()).catch(() => false);
    if (!isFile) {
      results[i] = await bundleHandler(e, opts).then(
        (value) => ({ status: "fulfilled" as const, value }),
        (reason: unknown) => ({ status: "rejected" as const, reason }),
      );
      continue;
    }
    const root = await projectRoot(e);
    byRoot.set(root, [...(byRoot.get(root) ?? []), i]);
  }
  for (const [root, indexes] of byRoot) {
    const unique = [...new Set(indexes.map((i) => absEntries[i]!))];
    try {
      const built = await buildBundles(root, unique, { outDir, minify, sourcemap, external });
      const byEntry = new Map(built.map((b) => [b.bundle.entry, b]));
      for (const i of indexes) {
        const b = byEntry.get(absEntries[i]!)!;
        if (useCache) cache.set(keyOf(absEntries[i]!), b);
        results[i] = { status: "fulfilled", value: b.bundle };
      }
    } catch (err) {
      if (!(err instanceof BundleError)) throw err;
      for (const i of indexes) {
        results[i] = await bundleHandler(absEntries[i]!, opts).then(
          (value) => ({ status: "fulfilled" as const, value }),
          (reason: unknown) => ({ status: "rejected" as const, reason }),
        );
      }
    }
  }
  return results.map((r) => r!);
}
