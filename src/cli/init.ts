import { Command, Option } from "clipanion";
import { relative } from "node:path";
import { ChatctlCommand } from "./base.js";

export class InitCommand extends ChatctlCommand {
  static override paths = [["init"]];
  static override usage = Command.Usage({
    description: "Create a new chat project: chat.yaml, handlers, package.json",
    details: `
      Writes a project into DIR (default: this folder; made when missing): \`chat.yaml\`, four TypeScript handlers in the Lambda runtime's style (\`handlers/\`: a client sends \`{"action":"sendmessage","message":"hi"}\` and every connection receives it), a \`package.json\` with chatctl as a dev dependency and \`dev\`, \`plan\` and \`deploy\` scripts, a \`.gitignore\`, a \`tsconfig.json\` for editors, and the CI workflow \`.github/workflows/chatctl.yml\`.

      \`chatctl dev\` runs it right away, with no \`npm install\`: the handlers use the AWS SDK v3 that the Lambda runtime provides. \`npm install\` gives editors their types.

      Files that exist are never overwritten: init lists them and stops, unless \`--force\`. The stack name defaults to the folder's name.
    `,
    examples: [
      ["A new project in a new folder", "chatctl init my-chat"],
      ["Here, with another stack name", "chatctl init --stack team-chat"],
      ["Point package.json at a git repository of chatctl (for CI)", "chatctl init my-chat --chatctl github:you/chatctl"],
    ],
  });

  dir = Option.String({ name: "DIR", required: false });
  stack = Option.String("--stack", { description: "Stack name (lowercase letters, digits and '-'; default: the folder's name)" });
  force = Option.Boolean("--force", false, { description: "Overwrite files that exist" });
  chatctl = Option.String("--chatctl", {
    description: "Where package.json gets chatctl from: a git URL, an `npm pack` tarball or a folder (default: this chatctl's folder)",
  });

  async execute(): Promise<number> {
    const { initProject } = await import("../init/project.js");
    const result = await initProject({
      dir: this.dir ?? ".",
      ...(this.stack !== undefined ? { stack: this.stack } : {}),
      force: this.force,
      ...(this.chatctl !== undefined ? { chatctlSource: this.chatctl } : {}),
    });
    const where = relative(process.cwd(), result.dir) || ".";
    this.out(`Created chat project ${result.stack} in ${where}:`);
    for (const file of result.written) this.out(`  ${file}${result.overwritten.includes(file) ? " (overwritten)" : ""}`);
    this.out("");
    this.out("Next:");
    if (where !== ".") this.out(`  cd ${where}`);
    this.out("  chatctl dev                      # the whole stack on this machine; prints its ws:// URL");
    this.out("  npx wscat -c <that URL>          # then send {\"action\":\"sendmessage\",\"message\":\"hi\"}");
    this.out("  npm install                      # optional: types for your editor");
    this.out("");
    this.out(`package.json gets chatctl from ${result.chatctlSource}; for CI, point it at a git URL or an npm pack tarball (--chatctl).`);
    return 0;
  }
}
