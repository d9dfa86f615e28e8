import { Command, Option } from "clipanion";
import { OpsCommand } from "./shared.js";

export class LambdaUpdateCommand extends OpsCommand {
  static override paths = [["lambda-update"], ["lambda", "update"]];
  static override usage = Command.Usage({
    category: "Lambda",
    description: "Replace a function's code",
    details: `
      Uploads a \`.zip\`, or bundles a \`.ts\`/\`.js\` entry first, and waits until the new code is live. Bundles are deterministic: unchanged source gives unchanged code, reported as such.
    `,
    examples: [
      ["From a zip", "chatctl lambda-update connect-handler func.zip"],
      ["From TypeScript", "chatctl lambda update connect-handler handlers/connect.ts"],
    ],
  });

  name = Option.String({ name: "name" });
  source = Option.String({ name: "zip|entry" });

  async execute(): Promise<void> {
    const { loadCode, updateFunctionCode } = await import("../../ops/lambda.js");
    const code = await loadCode(this.source);
    const updated = await updateFunctionCode(await this.clients(), this.name, code);
    if (updated.handlerMismatch) {
      this.err(
        `warning: the bundle exports ${updated.handlerMismatch.bundle} but ${this.name}'s handler is ${updated.handlerMismatch.function}; invocations will not find it until the handler is changed`,
      );
    }
    if (this.json) return this.printJson(updated);
    const verb = updated.outcome === "updated" ? this.green("updated") : "unchanged";
    this.out(`${verb} ${this.bold(updated.functionName)} code ${updated.codeSha256}`);
  }
}
