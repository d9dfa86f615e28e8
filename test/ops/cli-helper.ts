import { Cli } from "clipanion";
import { PassThrough } from "node:stream";
import { opsCommands } from "../../src/cli/ops-commands.js";

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function collect(stream: PassThrough): () => string {
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  return () => Buffer.concat(chunks).toString("utf8");
}

/**
 * Runs the ops commands as `chatctl` would, with captured output. `env` is laid
 * over a neutral environment (no region, profile or colour settings) for the
 * duration of the run; `stdin` is what a pipe would give.
 */
export async function run(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}, stdin = ""): Promise<RunResult> {
  const cli = new Cli({ binaryLabel: "chatctl", binaryName: "chatctl", binaryVersion: "test", enableCapture: false, enableColors: false });
  for (const command of opsCommands) cli.register(command);
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const input = new PassThrough();
  input.end(stdin);
  const out = collect(stdout);
  const err = collect(stderr);

  const overrides: Record<string, string | undefined> = {
    AWS_REGION: undefined,
    AWS_DEFAULT_REGION: undefined,
    AWS_PROFILE: undefined,
    AWS_ENDPOINT_URL: undefined,
    NO_COLOR: undefined,
    FORCE_COLOR: undefined,
    ...env,
  };
  const saved = new Map(Object.keys(overrides).map((k) => [k, process.env[k]]));
  const savedExitCode = process.exitCode;
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  process.exitCode = undefined;
  let code: number;
  try {
    const returned = await cli.run([...argv], { stdin: input, stdout, stderr, env: process.env, colorDepth: 1 });
    // ChatctlCommand.catch reports user errors through process.exitCode, as bin/chatctl does.
    code = process.exitCode === undefined ? returned : Number(process.exitCode);
  } finally {
    process.exitCode = savedExitCode;
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  stdout.end();
  stderr.end();
  return { code, stdout: out(), stderr: err() };
}
