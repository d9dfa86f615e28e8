import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

// `chatctl dev --host` anything but loopback: the user is told, on stderr, that the
// whole stack is open to whoever reaches the machine. (That 127.0.0.1 is the default
// bind is checked in gateway-stack.test.ts, on the local cloud itself.)

const root = resolve(import.meta.dirname, "../..");
const built = existsSync(join(root, "dist/cli/main.js"));
const dirs: string[] = [];

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe.skipIf(!built)("chatctl dev --host", () => {
  it("warns when it listens beyond loopback, and still stops cleanly on Ctrl-C", async () => {
    const dir = mkdtempSync(join(tmpdir(), "chatctl-dev-host-"));
    dirs.push(dir);
    cpSync(join(root, "specs"), join(dir, "specs"), { recursive: true });
    cpSync(join(root, "handlers"), join(dir, "handlers"), { recursive: true });
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "dev-host-test", type: "module" }));
    symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));

    const dev = spawn(
      process.execPath,
      [join(root, "bin/chatctl.js"), "dev", "-f", join(dir, "specs/minimal.yaml"), "--host", "0.0.0.0", "--port", "0", "--no-watch", "--quiet"],
      { env: { ...process.env, CHATCTL_HOME: join(dir, "home"), NO_COLOR: "1" } },
    );
    let stdout = "";
    let stderr = "";
    dev.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    dev.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => dev.once("exit", (code) => r(code)));
    try {
      // Once the URL is printed the stack is applied and Ctrl-C is handled.
      for (let i = 0; i < 600 && !/WebSocket URL: /.test(stdout) && dev.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
      expect(stdout, stderr).toMatch(/WebSocket URL: ws:\/\/127\.0\.0\.1:\d+\/[a-z0-9]+\/prod/);
      expect(stderr).toContain("warning: listening on 0.0.0.0: anyone who can reach this machine can connect, call its functions and read its tables.");
      dev.kill("SIGINT");
      expect(await exited).toBe(0);
      expect(stdout).toMatch(/Stopped\./);
    } finally {
      if (dev.exitCode === null) {
        dev.kill("SIGKILL");
        await exited;
      }
    }
  }, 45_000);
});
