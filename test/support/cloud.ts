import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { Cli } from "clipanion";
import { startLocalCloud, type LocalCloud, type LocalCloudOptions } from "../../src/local/cloud.js";
import { buildCli } from "../../src/cli/main.js";

export interface TestCloud extends LocalCloud {
  /** Removes the temp folders too. */
  stop(): Promise<void>;
}

/** A local cloud on a free loopback port, with its own temp folders. */
export async function startTestCloud(opts: Partial<LocalCloudOptions> = {}): Promise<TestCloud> {
  const dir = mkdtempSync(join(tmpdir(), "chatctl-test-"));
  const cloud = await startLocalCloud({ certDir: join(dir, "tls"), port: 0, ...opts });
  return Object.assign(cloud, {
    async stop() {
      await cloud.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the real CLI in this process with captured output (no TTY, no colour):
 * what a user in CI would see. Use `--endpoint-url cloud.url` to aim it at a test cloud.
 */
export async function runCli(argv: readonly string[], stdinText?: string): Promise<CliRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough();
  if (stdinText !== undefined) stdin.end(stdinText);
  else stdin.end();
  let out = "";
  let err = "";
  stdout.on("data", (d: Buffer) => (out += d.toString()));
  stderr.on("data", (d: Buffer) => (err += d.toString()));
  const code = await buildCli(false).run([...argv], { ...Cli.defaultContext, stdin, stdout, stderr, colorDepth: 1 });
  return { code, stdout: out, stderr: err };
}
