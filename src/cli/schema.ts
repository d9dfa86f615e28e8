import { Command } from "clipanion";
import { ChatctlCommand } from "./base.js";

export class SchemaCommand extends ChatctlCommand {
  static override paths = [["schema"]];
  static override usage = Command.Usage({
    description: "Print the JSON Schema of chat.yaml (for editors)",
    details: `
      The same schema as schema/chat.schema.json. Name it in the first line of a chat.yaml for completion and checks in editors with the YAML language server: \`# yaml-language-server: $schema=./chat.schema.json\`.
    `,
    examples: [["Write it next to your spec", "chatctl schema > chat.schema.json"]],
  });

  async execute(): Promise<number> {
    const { chatJsonSchema } = await import("../spec/json-schema.js");
    this.out(JSON.stringify(chatJsonSchema(), null, 2));
    return 0;
  }
}
