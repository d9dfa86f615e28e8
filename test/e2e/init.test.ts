import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitForMatch } from "../support/wait.js";

// The README's first screen, walked as a new user would: the blocks marked
// `<!-- walkthrough: clone -->` (run in this repository) and `<!-- walkthrough: project -->`
// (run in an empty folder), line by line, in order. One dev server serves every test here.

const root = resolve(import.meta.dirname, "../..");
const built = existsSync(join(root, "dist/cli/main.js"));

interface Block {
  readonly where: string;
  readonly lines: readonly string[];
}

function walkthroughBlocks(readme: string): Block[] {
  const blocks: Block[] = [];
  const re = /<!-- walkthrough: (\w+) -->\n```sh\n([\s\S]*?)```/g;
  for (let m = re.exec(readme); m !== null; m = re.exec(readme)) {
    blocks.push({ where: m[1]!, lines: m[2]!.split("\n").map((l) => l.replace(/\s+#.*$/, "").trim()).filter((l) => l !== "") });
  }
  return blocks;
}

// `npm install` would rewrite the shared node_modules this suite runs from; it is the one
// line not run (the suite running at all shows it was done).
const NOT_RUN = new Set(["npm install"]);

let work: string;
let env: NodeJS.ProcessEnv;
let projectDir = "";
let dev: ChildProcess | undefined;
let output = "";
const ran: string[] = [];

function waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
  return waitForMatch(() => output, pattern, timeoutMs);
}

/** Runs one README line in bash from `cwd`; returns the folder it ends in (for `cd`). */
function runLine(line: string, cwd: string): string {
  const r = spawnSync("bash", ["-euc", `${line}\necho "__cwd__$(pwd)"`], { cwd, env, encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) throw new Error(`README line failed (exit ${r.status}): ${line}\n${r.stdout}\n${r.stderr}`);
  ran.push(line);
  const m = /__cwd__(.*)\n?$/.exec(r.stdout);
  return m ? m[1]! : cwd;
}

function open(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  return new Promise((r, j) => ws.once("open", () => r(ws)).once("error", j));
}

function messages(ws: WebSocket): Array<Record<string, unknown>> {
  const got: Array<Record<string, unknown>> = [];
  ws.on("message", (d) => got.push(JSON.parse(String(d)) as Record<string, unknown>));
  return got;
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never happened: ${what}`);
}

describe.skipIf(!built)("README walk-through: get chatctl, chatctl init, chatctl dev", () => {
  let url = "";
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "chatctl-init-"));
    const prefix = join(work, "npm-prefix");
    env = {
      ...process.env,
      // npm link installs into this prefix, never the machine's global one.
      npm_config_prefix: prefix,
      // dist/ is already built by `npm test`; rebuilding it under running tests would race them.
      npm_config_ignore_scripts: "true",
      npm_config_update_notifier: "false",
      npm_config_fund: "false",
      npm_config_audit: "false",
      PATH: `${join(prefix, "bin")}${delimiter}${process.env.PATH ?? ""}`,
      CHATCTL_HOME: join(work, "home"),
      NO_COLOR: "1",
    };
    const blocks = walkthroughBlocks(readFileSync(join(root, "README.md"), "utf8"));
    expect(blocks.map((b) => b.where)).toEqual(["clone", "project"]);
    for (const block of blocks) {
      let cwd = block.where === "clone" ? root : mkdtempSync(join(work, "anywhere-"));
      for (const line of block.lines) {
        if (NOT_RUN.has(line)) continue;
        if (/^chatctl dev\b/.test(line)) {
          // In the background; any free port, as other test files run dev servers at the same time.
          projectDir = cwd;
          dev = spawn("bash", ["-c", `exec ${line} --port 0`], { cwd, env });
          dev.stdout?.on("data", (d: Buffer) => (output += d.toString()));
          dev.stderr?.on("data", (d: Buffer) => (output += d.toString()));
          ran.push(line);
          url = (await waitFor(/WebSocket URL: (ws:\/\/127\.0\.0\.1:\d+\/[a-z0-9]+\/prod)/))[1]!;
          continue;
        }
        cwd = runLine(line, cwd);
      }
    }
  }, 180_000);

  afterAll(async () => {
    if (dev && dev.exitCode === null) {
      const exited = new Promise((r) => dev!.once("exit", r));
      dev.kill("SIGINT");
      const force = setTimeout(() => dev?.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(force);
    }
    if (work) rmSync(work, { recursive: true, force: true });
  }, 20_000);

  it("runs every line of the marked blocks, chatctl from the PATH npm link made", () => {
    expect(ran).toEqual(["npm link", "mkdir my-chat && cd my-chat", "chatctl init", "chatctl dev"]);
    expect(existsSync(join(work, "npm-prefix", "bin", "chatctl"))).toBe(true);
  });

  it("makes a project in the new folder, and dev there chats through two clients with no node_modules", async () => {
    for (const f of ["chat.yaml", "package.json", ".gitignore", "tsconfig.json", ".github/workflows/chatctl.yml", "handlers/connect.ts", "handlers/sendmessage.ts"]) {
      expect(existsSync(join(projectDir, f)), f).toBe(true);
    }
    expect(readFileSync(join(projectDir, "chat.yaml"), "utf8")).toMatch(/^# yaml-language-server: \$schema=/);
    const pkg = JSON.parse(readFileSync(join(projectDir, "package.json"), "utf8")) as { scripts: Record<string, string>; devDependencies: Record<string, string> };
    expect(pkg.scripts).toMatchObject({ dev: "chatctl dev", plan: "chatctl plan", deploy: "chatctl apply" });
    expect(pkg.devDependencies.chatctl).toBeDefined();
    expect(existsSync(join(projectDir, "node_modules"))).toBe(false);
    // The SDK the handlers import comes from the runtime, and the plan says so.
    expect(output).toMatch(/Not bundled: provided by the Lambda runtime[^\n]*\n\s+@aws-sdk\/client-apigatewaymanagementapi\s+default, sendmessage/);

    const [alice, bob] = await Promise.all([open(url), open(url)]);
    const toAlice = messages(alice!);
    const toBob = messages(bob!);
    alice!.send(JSON.stringify({ action: "sendmessage", message: "Hello World" }));
    await until(() => toBob.length >= 1 && toAlice.some((m) => m.type === "sent"), "the message reaches both clients");
    expect(toBob[0]).toMatchObject({ type: "message", message: "Hello World" });
    expect(toAlice.find((m) => m.type === "message")).toMatchObject({ message: "Hello World" });
    expect(toAlice.find((m) => m.type === "sent")).toMatchObject({ delivered: 2, recipients: 2 });

    bob!.send(JSON.stringify({ action: "dance" }));
    await until(() => toBob.some((m) => m.type === "error"), "$default answers an unknown action");
    expect(toBob.find((m) => m.type === "error")).toMatchObject({ actions: ["sendmessage"] });
    alice!.close();
    bob!.close();
  });

  it("after a save, plans again without repeating the note on what the runtime provides", async () => {
    const spec = join(projectDir, "chat.yaml");
    const from = output.length;
    writeFileSync(spec, `${readFileSync(spec, "utf8")}# saved again\n`);
    await waitForMatch(() => output.slice(from), /No changes\. Your stack matches chat\.yaml\.[\s\S]*WebSocket URL: /, 30_000);
    expect(output.slice(from)).not.toContain("Not bundled");
    expect(output.match(/Not bundled: provided by the Lambda runtime/g)).toHaveLength(1);
  });

  it("ships in the package every file init copies (a tarball from npm pack can init)", () => {
    const r = spawnSync("npm", ["pack", "--dry-run", "--json"], { cwd: root, env, encoding: "utf8" });
    expect(r.status).toBe(0);
    const [packed] = JSON.parse(r.stdout) as Array<{ files: Array<{ path: string }> }>;
    const files = new Set(packed!.files.map((f) => f.path));
    for (const f of ["templates/init/chat.yaml", "templates/init/gitignore", "templates/init/tsconfig.json", "templates/init/handlers/sendmessage.ts", "examples/github-actions.yml", "schema/chat.schema.json"]) {
      expect(files.has(f), f).toBe(true);
    }
  });

  it("without AWS credentials and --local, says in one line how to get them or to use --local", () => {
    const bare: NodeJS.ProcessEnv = { PATH: env.PATH, HOME: join(work, "no-home"), CHATCTL_HOME: join(work, "home"), NO_COLOR: "1", AWS_EC2_METADATA_DISABLED: "true" };
    const r = spawnSync("chatctl", ["plan"], { cwd: projectDir, env: bare, encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: no AWS credentials found: set AWS_PROFILE .*chatctl dev.*--local/);
  });

  it("refuses to overwrite files that exist, lists them, and overwrites with --force", () => {
    const chatctl = (args: string[], cwd: string) => spawnSync("chatctl", args, { cwd, env, encoding: "utf8" });
    const dir = mkdtempSync(join(work, "existing-"));
    writeFileSync(join(dir, "chat.yaml"), "stack: mine\n");
    writeFileSync(join(dir, "package.json"), "{}\n");
    const refused = chatctl(["init"], dir);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("not overwriting 2 files that exist in .:\n  chat.yaml\n  package.json\n");
    expect(refused.stderr).toContain("--force");
    expect(readFileSync(join(dir, "chat.yaml"), "utf8")).toBe("stack: mine\n");
    expect(existsSync(join(dir, "handlers"))).toBe(false); // nothing written at all

    const forced = chatctl(["init", "--force", "--stack", "team-chat"], dir);
    expect(forced.status).toBe(0);
    expect(forced.stdout).toContain("chat.yaml (overwritten)");
    expect(readFileSync(join(dir, "chat.yaml"), "utf8")).toContain("stack: team-chat");

    const badName = chatctl(["init", "other", "--stack", "Team Chat"], dir);
    expect(badName.status).toBe(1);
    expect(badName.stderr).toMatch(/^error: --stack "Team Chat": must start with a lowercase letter/);
  });
});
