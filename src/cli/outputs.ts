import { Command, Option } from "clipanion";
import { StackCommand } from "./stack-base.js";

export class OutputsCommand extends StackCommand {
  static override paths = [["outputs"]];
  static override usage = Command.Usage({
    description: "The stack's WebSocket URL, management endpoint, API id, and its tables' and functions' names and ARNs",
    details: `
      Reads the deployed stack of chat.yaml (or of --env NAME) and prints what clients and other tools need. Exits 0 when the stack is deployed, 2 when its stage does not exist yet, 1 on error.
    `,
    examples: [
      ["Outputs of the stack in ./chat.yaml", "chatctl outputs"],
      ["Of the staging environment, as JSON for scripts", "chatctl outputs --env staging --json"],
    ],
  });

  json = Option.Boolean("--json", false, { description: "Print the outputs as JSON" });

  async execute(): Promise<number> {
    const { runOutputs } = await import("../app/outputs.js");
    return runOutputs({ ...this.target(), json: this.json }, this.io);
  }
}
