import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chatctlBin, cliBuilt, useDevProjects } from "../support/dev-project.js";

// Ctrl-C reaches `chatctl dev` from the moment it says it is listening, not only once the
// URL is out: a stop that lands during the first apply is clean (exit 0, its --local record
// removed), and a second one while it stops exits at once, as Terraform's second Ctrl-C does.

const newProject = useDevProjects("dev-stop");

interface Dev {
  readonly process: ChildProcessWithoutNullStreams;
  readonly home: string;
  readonly output: () => { stdout: string; stderr: string };
  readonly exited: Promise<number | null>;
}

function startDev(): Dev {
  const dir = newProject({ specs: true });
  const home = join(dir, "home");
  const dev = spawn(process.execPath, [chatctlBin, "dev", "-f", join(dir, "specs/minimal.yaml"), "--port", "0", "--quiet"], {
    env: { ...process.env, CHATCTL_HOME: home, NO_COLOR: "1" },
  });
  let stdout = "";
  let stderr = "";
  dev.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  dev.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const killer = setTimeout(() => dev.kill("SIGKILL"), 40_000);
  const exited = new Promise<number | null>((r) =>
    dev.once("exit", (code) => {
      clearTimeout(killer);
      r(code);
    }),
  );
  return { process: dev, home, output: () => ({ stdout, stderr }), exited };
}

async function until(dev: Dev, pattern: RegExp): Promise<void> {
  for (let i = 0; i < 600 && !pattern.test(dev.output().stdout) && dev.process.exitCode === null; i++) await new Promise((r) => setTimeout(r, 10));
  expect(dev.output().stdout, dev.output().stderr).toMatch(pattern);
}

function records(home: string): string[] {
  const dir = join(home, "local");
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".json")) : [];
}

describe.skipIf(!cliBuilt)("stopping chatctl dev", () => {
  it("a Ctrl-C during the first apply stops it cleanly once the apply is done", async () => {
    const dev = startDev();
    await until(dev, /Local cloud listening on /);
    expect(records(dev.home)).toHaveLength(1);
    dev.process.kill("SIGINT");
    expect(await dev.exited, dev.output().stderr).toBe(0);
    expect(dev.output().stdout).toContain("Stopping: closing connections (each gets close code 1001 and its $disconnect); Ctrl-C again to exit at once...");
    expect(dev.output().stdout).toMatch(/Stopped\./);
    expect(dev.output().stdout).not.toContain("Watching chat.yaml");
    expect(records(dev.home)).toEqual([]);
  }, 45_000);

  it("a second stop request while stopping exits at once with 130, its record removed", async () => {
    const dev = startDev();
    await until(dev, /Local cloud listening on /);
    dev.process.kill("SIGINT");
    dev.process.kill("SIGTERM");
    expect(await dev.exited, dev.output().stderr).toBe(130);
    expect(dev.output().stdout).toContain("Second stop request: exiting now, without closing connections.");
    expect(dev.output().stdout).not.toMatch(/Stopped\./);
    expect(records(dev.home)).toEqual([]);
  }, 45_000);
});
