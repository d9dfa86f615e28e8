import { Command, Option } from "clipanion";
import { StackCommand } from "./stack-base.js";

export class StatusCommand extends StackCommand {
  static override paths = [["status"]];
  static override usage = Command.Usage({
    description: "Every component of the stack, its health, drift, and the WebSocket URL",
    details: `
      Reads the stack described by chat.yaml: for each resource whether it exists, matches the spec or has drifted (and which attributes), and its health (Lambda state, table status and approximate item count, the stage's deployment). Exits 0 when everything matches, 2 when something is missing or has drifted, 1 on error.
    `,
    examples: [
      ["Status of the stack in ./chat.yaml", "chatctl status"],
      ["As JSON, for scripts", "chatctl status -f chat.yaml --json"],
      ["Of the local cloud", "chatctl status -f specs/chat.yaml --local"],
      ["By stack name, as deploy finds it", "chatctl status my-chat"],
    ],
  });

  json = Option.Boolean("--json", false, { description: "Print the status as JSON" });
  stackOption = Option.String("--stack", { description: "The stack to show; its spec is -f, ./chat.yaml, ./STACK.yaml or ./specs/STACK.yaml" });
  stackArg = Option.String({ required: false, name: "stack" });

  /** `status my-chat`, as `deploy my-chat`, or `status --stack my-chat`. */
  get stack(): string | undefined {
    return this.stackArg ?? this.stackOption;
  }

  async execute(): Promise<number> {
    const { runStatus } = await import("../app/status.js");
    return runStatus({ ...this.target(this.stack), json: this.json }, this.io);
  }
}
