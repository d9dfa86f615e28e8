import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

// Starts of `chatctl dev` that cannot lead anywhere end at once with exit 1: --no-watch
// (scripts, CI jobs) on a spec that does not apply, which nothing would ever apply again,
// no spec at all (a wrong folder or -f), watching or not, and a port that is taken.

const root = resolve(import.meta.dirname, "../..");
const built = existsSync(join(root, "dist/cli/main.js"));
const dirs: string[] = [];

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function runDev(dir: string, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dev = spawn(process.execPath, [join(root, "bin/chatctl.js"), "dev", "-f", join(dir, "chat.yaml"), ...(args.includes("--port") ? [] : ["--port", "0"]), ...args], {
    env: { ...process.env, CHATCTL_HOME: join(dir, "home"), NO_COLOR: "1" },
  });
  let stdout = "";
  let stderr = "";
  dev.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  dev.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const killer = setTimeout(() => dev.kill("SIGKILL"), 30_000);
  return new Promise((r) =>
    dev.once("exit", (code) => {
      clearTimeout(killer);
      r({ code, stdout, stderr });
    }),
  );
}

/** A project of one function, `fn` on $default, with `chat.yaml` ending in `functionExtra` (indented under fn). */
function oneFunctionProject(prefix: string, stack: string, functionExtra = ""): string {
  const dir = mkdtempSync(join(tmpdir(), `chatctl-${prefix}-`));
  dirs.push(dir);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: `${prefix}-test`, type: "module" }));
  writeFileSync(join(dir, "h.mjs"), "export const handler = async () => ({ statusCode: 200 });\n");
  writeFileSync(join(dir, "chat.yaml"), `stack: ${stack}\nroutes:\n  $default: fn\nfunctions:\n  fn:\n    handler: ./h.mjs\n${functionExtra}`);
  return dir;
}

describe.skipIf(!built)("chatctl dev --no-watch", () => {
  it("exits 1 with the spec's error when the stack does not apply", async () => {
    const dir = oneFunctionProject("dev-no-watch", "nw", "    memroy: 128\n");

    const r = await runDev(dir, ["--no-watch"]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`${join(dir, "chat.yaml")}:7:5: error: functions.fn: unknown key "memroy" (did you mean "memory"?)`);
    expect(r.stderr).toContain("with --no-watch nothing re-applies: chatctl dev stops");
    expect(r.stderr).not.toContain("applies again");
    expect(r.stdout).not.toContain("WebSocket URL");
  }, 45_000);

  it("on a port in use, exits 1 at once, naming the chatctl dev that holds it", async () => {
    const dir = oneFunctionProject("dev-port", "pt");
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
    const port = (taken.address() as AddressInfo).port;
    try {
      const other = await runDev(dir, ["--port", String(port)]);
      expect(other.code, other.stderr).toBe(1);
      expect(other.stderr).toContain(`error: port ${port} is in use (another chatctl dev?): pick another with --port, or --port 0 for any free one`);

      // A live dev server's record for that port, as chatctl dev writes it (this test's pid stands in).
      mkdirSync(join(dir, "home/local"), { recursive: true });
      const record = { url: `http://127.0.0.1:${port}`, pid: process.pid, startedAt: new Date().toISOString(), specFile: "/work/other/chat.yaml" };
      writeFileSync(join(dir, "home/local", `${process.pid}.json`), JSON.stringify(record));
      const named = await runDev(dir, ["--port", String(port)]);
      expect(named.code, named.stderr).toBe(1);
      expect(named.stderr).toContain(`error: port ${port} is in use by chatctl dev (pid ${process.pid}, /work/other/chat.yaml): stop it, or pick another with --port`);
    } finally {
      taken.close();
    }
  }, 75_000);

  it("without a spec, exits 1 at once even when watching, and says how to get one", async () => {
    const dir = mkdtempSync(join(tmpdir(), "chatctl-dev-no-spec-"));
    dirs.push(dir);
    const r = await runDev(dir, []);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`error: no spec at ${join(dir, "chat.yaml")}: pass one with -f <path to chat.yaml>, or create one here with \`chatctl init\``);
    expect(r.stdout).not.toContain("Local cloud listening");
  }, 45_000);
});
