import { Command, Option, UsageError } from "clipanion";
import { StackCommand } from "./stack-base.js";

export class PlanCommand extends StackCommand {
  static override paths = [["plan"]];
  static override usage = Command.Usage({
    description: "Show what apply would change, and why",
    details: `
      Reads what exists in the account (by the stack's tags and derived names), compares it with chat.yaml and prints every step: \`+ create\`, \`~ update\`, \`-/+ replace\`, \`- delete\`, with attribute-level differences. Values that only exist after apply are shown as (known after apply). Nothing is changed.

      With \`--detailed-exitcode\` the exit code is 0 when nothing would change, 2 when something would, 1 on error (as Terraform's). \`--out FILE\` saves the plan for \`chatctl apply FILE\`.
    `,
    examples: [
      ["Plan the stack in ./chat.yaml", "chatctl plan"],
      ["Plan against the local cloud of `chatctl dev`", "chatctl plan -f specs/chat.yaml --local"],
      ["In CI: save the plan and tell whether it changes anything", "chatctl plan -f chat.yaml --out plan.json --detailed-exitcode"],
      ["What destroy would remove", "chatctl plan -f chat.yaml --destroy"],
    ],
  });

  json = Option.Boolean("--json", false, { description: "Print the plan as JSON (as --format json)" });
  format = Option.String("--format", { description: "text (default), json, or markdown (a pull-request comment)" });
  detailedExitcode = Option.Boolean("--detailed-exitcode", false, { description: "Exit 0: no changes, 2: changes, 1: error" });
  outFile = Option.String("--out", { description: "Save the plan to this file, for `chatctl apply FILE`" });
  destroy = Option.Boolean("--destroy", false, { description: "Plan the removal of the stack instead" });
  deleteData = Option.Boolean("--delete-data", false, { description: "Plan to delete (or replace) tables even when they hold items" });

  async execute(): Promise<number> {
    const { runPlan } = await import("../app/plan.js");
    const { destroy, deleteData, outFile, detailedExitcode } = this;
    const format = this.json ? "json" : (this.format ?? "text");
    if (format !== "text" && format !== "json" && format !== "markdown") throw new UsageError(`--format ${format}: use text, json or markdown`);
    if (this.json && this.format !== undefined && this.format !== "json") throw new UsageError(`--json and --format ${this.format} ask for two formats; give one`);
    return runPlan({ ...this.target(), destroy, deleteData, format, outFile, detailedExitcode }, this.io);
  }
}
