import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chatctlBin, cliBuilt, useDevProjects } from "../support/dev-project.js";

// `chatctl dev > dev.log 2>&1` in the project folder: the log is in the watched tree, and
// every line dev wrote used to count as a change, so each apply caused the next, forever.

const newProject = useDevProjects("dev-log");

describe.skipIf(!cliBuilt)("chatctl dev writing its output into the project", () => {
  it("does not re-apply on its own log lines, and still on a change to chat.yaml", async () => {
    const dir = newProject();
    const spec = "stack: log-chat\nroutes:\n  $default: default\nfunctions:\n  default:\n    handler: ./handlers/default.ts\n";
    writeFileSync(join(dir, "chat.yaml"), spec);
    const log = join(dir, "dev.log");
    const fd = openSync(log, "a");
    const dev = spawn(process.execPath, [chatctlBin, "dev", "--port", "0"], {
      cwd: dir,
      env: { ...process.env, CHATCTL_HOME: join(dir, "home"), NO_COLOR: "1" },
      stdio: ["ignore", fd, fd],
    });
    closeSync(fd);
    const exited = new Promise<number | null>((r) => dev.once("exit", (code) => r(code)));
    const output = () => readFileSync(log, "utf8");
    const until = async (test: (text: string) => boolean, what: string) => {
      for (let i = 0; i < 400 && !test(output()) && dev.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
      expect(test(output()), `${what}:\n${output()}`).toBe(true);
    };
    try {
      await until((t) => t.includes("Watching chat.yaml and the handlers for changes."), "dev watching");
      // Long enough for several debounced bursts (150 ms each) had its lines counted.
      await new Promise((r) => setTimeout(r, 1500));
      expect(output()).not.toContain("Change detected");

      writeFileSync(join(dir, "chat.yaml"), `${spec}    memory: 512\n`);
      await until((t) => t.includes("Change detected"), "re-plan after an edit");
      await until((t) => /~ update\s+lambda\.function\s+log-chat-default/.test(t), "the edit's plan");
      await new Promise((r) => setTimeout(r, 1500));
      expect(output().split("Change detected").length - 1).toBe(1);
    } finally {
      dev.kill("SIGINT");
      await exited;
    }
  }, 60_000);
});
