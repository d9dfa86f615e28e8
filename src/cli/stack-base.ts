import { Option } from "clipanion";
import { createInterface } from "node:readline/promises";
import type { AppIO } from "../app/io.js";
import type { StackTarget } from "../app/session.js";
import { resolve } from "node:path";
import { UserError } from "../errors.js";
import { ChatctlCommand } from "./base.js";

/** Commands that work from a chat.yaml. */
export abstract class StackCommand extends ChatctlCommand {
  fileOption = Option.String("-f,--file", { description: "The stack's spec (default: ./chat.yaml)" });

  envOption = Option.String("--env", { description: "The spec's environment to work on (else CHATCTL_ENV)" });

  get environment(): string | undefined {
    return chosenEnvironment(this.envOption);
  }

  get file(): string {
    return this.fileOption ?? "chat.yaml";
  }

  /** The stack these flags name, for the use cases in src/app. */
  target(stack?: string): StackTarget {
    return { specFile: this.fileOption, stack, awsConfig: (region, savedEndpoint) => this.awsConfig(region, savedEndpoint), environment: this.environment };
  }

  /** This command's terminal, as the use cases see it. */
  get io(): AppIO {
    return { out: (line) => this.out(line), err: (line) => this.err(line), color: this.color, confirm: (question) => this.confirm(question) };
  }

  protected override localSpecFile(): string | undefined {
    return resolve(this.file);
  }

  /**
   * Asks before changing anything. In CI there is nobody to ask: refuse rather
   * than guess, and say how to say yes.
   */
  async confirm(question: string): Promise<void> {
    const stdin = this.context.stdin as NodeJS.ReadStream;
    if (!stdin.isTTY) {
      throw new UserError("no terminal to ask for confirmation; pass --auto-approve to proceed without asking (as in CI)");
    }
    const rl = createInterface({ input: stdin, output: this.context.stdout });
    try {
      const answer = await rl.question(`${question}\n  Only 'yes' will be accepted: `);
      if (answer.trim() !== "yes") throw new UserError("cancelled: nothing was changed", 1);
    } finally {
      rl.close();
    }
  }
}

/** --env, else CHATCTL_ENV; an empty value means none. */
export function chosenEnvironment(envOption: string | undefined): string | undefined {
  const name = envOption ?? process.env.CHATCTL_ENV;
  return name === undefined || name === "" ? undefined : name;
}

/** Reads --parallelism. */
export function parseParallelism(text: string): number {
  const parallelism = Number(text);
  if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > 64) throw new UserError("--parallelism must be a whole number from 1 to 64");
  return parallelism;
}

/** "5m", "30s", "1500ms", "0" -> milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new UserError(`${flag}: "${text}" is not a duration; use e.g. 30s, 5m, 1h or 0`);
  const n = Number(m[1]);
  const unit = m[2] ?? "s";
  return Math.round(n * (unit === "ms" ? 1 : unit === "s" ? 1000 : unit === "m" ? 60_000 : 3_600_000));
}
