import { Command, Option } from "clipanion";
import { StackCommand, parseDuration } from "./stack-base.js";

export class DestroyCommand extends StackCommand {
  static override paths = [["destroy"]];
  static override usage = Command.Usage({
    description: "Remove everything this stack owns, and nothing else",
    details: `
      Deletes only resources that carry this stack's \`chatctl:stack\` tag (or live inside its API), in reverse dependency order, after confirmation. Tables are kept when the spec says \`onDestroy: retain\` (the default) or when they hold items, unless \`--delete-data\` is given; the output says what was kept and why. Running destroy again is harmless.

      \`chatctl destroy STACK\` (the original script's form) needs the stack's chat.yaml: \`-f\`, ./chat.yaml, ./STACK.yaml or ./specs/STACK.yaml.
    `,
    examples: [
      ["Destroy the stack in ./chat.yaml", "chatctl destroy"],
      ["Destroy it in CI, tables and their items included", "chatctl destroy -f chat.yaml --auto-approve --delete-data"],
      ["The original script's form", "chatctl destroy my-chat"],
    ],
  });

  stack = Option.String({ required: false, name: "stack" });
  autoApprove = Option.Boolean("--auto-approve", false, { description: "Do not ask for confirmation" });
  deleteData = Option.Boolean("--delete-data", false, { description: "Also delete tables that hold items, and their items" });
  lockTimeout = Option.String("--lock-timeout", "0s", { description: "How long to wait for another run's lock (e.g. 5m)" });
  json = Option.Boolean("--json", false, { description: "Stream one JSON event per line (plan, started, retried, finished, summary); needs --auto-approve" });

  async execute(): Promise<number> {
    const lockTimeoutMs = parseDuration(this.lockTimeout, "--lock-timeout");
    const { runDestroy } = await import("../app/destroy.js");
    const { autoApprove, deleteData, json } = this;
    return runDestroy({ ...this.target(this.stack), autoApprove, deleteData, lockTimeoutMs, json }, this.io);
  }
}
