import { Option } from "clipanion";
import { createInterface } from "node:readline/promises";
import { UserError } from "../errors.js";
import { ChatctlCommand } from "./base.js";

/** Commands that work from a chat.yaml. */
export abstract class StackCommand extends ChatctlCommand {
  fileOption = Option.String("-f,--file", { description: "The stack's spec (default: ./chat.yaml)" });

  get file(): string {
    return this.fileOption ?? "chat.yaml";
  }

  set file(path: string) {
    this.fileOption = path;
  }

  /** True when the user named the spec with -f. */
  get fileGiven(): boolean {
    return this.fileOption !== undefined;
  }

  /**
   * Asks before changing anything. In CI there is nobody to ask: refuse rather
   * than guess, and say how to say yes.
   */
  async confirm(question: string, autoApprove: boolean): Promise<void> {
    if (autoApprove) return;
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

/** "5m", "30s", "1500ms", "0" -> milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new UserError(`${flag}: "${text}" is not a duration; use e.g. 30s, 5m, 1h or 0`);
  const n = Number(m[1]);
  const unit = m[2] ?? "s";
  return Math.round(n * (unit === "ms" ? 1 : unit === "s" ? 1000 : unit === "m" ? 60_000 : 3_600_000));
}
