import { existsSync, readFileSync, realpathSync } from "node:fs";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { UserError } from "../errors.js";
import { StackName } from "../spec/schema.js";

/** The chatctl package this code runs from (holds templates/, examples/, schema/). */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const TEMPLATE_DIR = join(PACKAGE_ROOT, "templates", "init");
const CI_WORKFLOW = join(PACKAGE_ROOT, "examples", "github-actions.yml");

// The SDK packages the templates import: the Lambda runtime provides them; as
// devDependencies they give editors their types and are never bundled.
const SDK_FOR_TYPES = ["@aws-sdk/client-apigatewaymanagementapi", "@aws-sdk/client-dynamodb", "@aws-sdk/lib-dynamodb"] as const;

export interface InitOptions {
  /** Folder of the new project; made when missing. */
  readonly dir: string;
  /** Default: the folder's name, made into a valid stack name. */
  readonly stack?: string;
  /** Overwrite files that exist. */
  readonly force?: boolean;
  /** What the project's package.json points at for chatctl; default this chatctl's own folder. */
  readonly chatctlSource?: string;
}

export interface InitResult {
  readonly dir: string;
  readonly stack: string;
  readonly written: readonly string[]; // relative to dir, in the order written
  readonly overwritten: readonly string[];
  readonly chatctlSource: string;
}

/** A stack name from a folder name: "My Chat App" -> "my-chat-app". */
export function stackNameFor(folder: string): string {
  const name = folder
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^[^a-z]+/, "")
    .replace(/-+/g, "-")
    .slice(0, 24)
    .replace(/-+$/, "");
  return name === "" ? "my-chat" : name;
}

interface PackageInfo {
  readonly version: string;
  readonly dependencies: Readonly<Record<string, string>>;
  readonly devDependencies: Readonly<Record<string, string>>;
}

function ownPackage(): PackageInfo {
  return JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")) as PackageInfo;
}

/**
 * Where a new project gets chatctl from. chatctl is not on the npm registry (a bare
 * version there would fetch a stranger's package, or fail with E404), so the
 * default is this very copy, by path; CI needs a git URL or an `npm pack` tarball.
 */
function defaultSource(): string {
  return `file:${realpathSync(PACKAGE_ROOT)}`;
}

async function templateFiles(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const rel = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...(await templateFiles(join(dir, entry.name), rel)));
    else out.push(rel);
  }
  return out;
}

/** Every file of the new project, path (relative, with "/") -> content. */
async function projectFiles(stack: string, source: string): Promise<Map<string, string>> {
  const pkg = ownPackage();
  const files = new Map<string, string>();
  for (const rel of await templateFiles(TEMPLATE_DIR)) {
    // npm leaves .gitignore files out of packages, so the template carries it without the dot.
    const target = rel === "gitignore" ? ".gitignore" : rel;
    files.set(target, (await readFile(join(TEMPLATE_DIR, rel), "utf8")).replaceAll("__STACK__", stack));
  }
  const devDependencies: Record<string, string> = { chatctl: source };
  for (const name of SDK_FOR_TYPES) devDependencies[name] = pkg.dependencies[name] ?? "^3.0.0";
  devDependencies["@types/node"] = pkg.devDependencies["@types/node"] ?? "^20.0.0";
  const manifest = {
    name: stack,
    version: "0.1.0",
    private: true,
    type: "module",
    scripts: { dev: "chatctl dev", plan: "chatctl plan", deploy: "chatctl apply" },
    devDependencies,
  };
  files.set("package.json", `${JSON.stringify(manifest, null, 2)}\n`);
  files.set(".github/workflows/chatctl.yml", await readFile(CI_WORKFLOW, "utf8"));
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : 1)));
}

export async function initProject(opts: InitOptions): Promise<InitResult> {
  const dir = resolve(opts.dir);
  if (existsSync(dir) && !(await stat(dir)).isDirectory()) throw new UserError(`${opts.dir} is a file, not a folder`);
  const stack = opts.stack ?? stackNameFor(basename(dir));
  const checked = StackName.safeParse(stack);
  if (!checked.success) throw new UserError(`--stack ${JSON.stringify(stack)}: ${checked.error.issues[0]?.message ?? "not a valid stack name"}`);
  const source = opts.chatctlSource ?? defaultSource();

  const files = await projectFiles(stack, source);
  const existing = [...files.keys()].filter((rel) => existsSync(join(dir, rel)));
  if (existing.length > 0 && !opts.force) {
    const where = relative(process.cwd(), dir) || ".";
    throw new UserError(
      `not overwriting ${existing.length === 1 ? "a file that exists" : `${existing.length} files that exist`} in ${where}:\n` +
        existing.map((f) => `  ${f}`).join("\n") +
        `\nMove ${existing.length === 1 ? "it" : "them"} away, init another folder, or add --force to overwrite.`,
    );
  }
  for (const [rel, content] of files) {
    const target = join(dir, rel);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content);
  }
  return { dir, stack, written: [...files.keys()], overwritten: existing, chatctlSource: source };
}
