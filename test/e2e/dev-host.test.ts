import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chatctlBin, cliBuilt, useDevProjects } from "../support/dev-project.js";

// `chatctl dev --host` anything but loopback: the user is told, on stderr, that the
// whole stack is open to whoever reaches the machine. (That 127.0.0.1 is the default
// bind is checked in gateway-stack.test.ts, on the local cloud itself.)

const newProject = useDevProjects("dev-host");

describe.skipIf(!cliBuilt)("chatctl dev --host", () => {
  it("warns when it listens beyond loopback, and still stops cleanly on Ctrl-C", async () => {
    const dir = newProject({ specs: true });

    const dev = spawn(
      process.execPath,
      [chatctlBin, "dev", "-f", join(dir, "specs/minimal.yaml"), "--host", "0.0.0.0", "--port", "0", "--no-watch", "--quiet"],
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
