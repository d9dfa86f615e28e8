import { Command, Option } from "clipanion";
import { splitTarget } from "./connection-args.js";
import { OpsCommand } from "./shared.js";

const USAGE = "<api-id> <stage> <connection-id> <message>, or <stack> <connection-id> <message>";

export class ConnectionSendCommand extends OpsCommand {
  static override paths = [["connection-send"], ["connection", "send"]];
  static override usage = Command.Usage({
    category: "Connections",
    description: "Send a message to one connection",
    details: `
      Posts the message through the stage's @connections API. The message is the argument itself, \`@file\` for a file's contents, or \`-\` for standard input.
      With a stack name instead of \`<api-id> <stage>\`, the stack's API and stage are found by its \`chatctl:stack\` tag.
      A connection that has closed is reported in one line, with exit code 1.
    `,
    examples: [
      ["Send JSON", `chatctl connection send a1b2c3d4e5 prod L0SM9cOFvHcCIhw= '{"message":"Server message"}'`],
      ["Through the stack name", "chatctl connection-send my-chat L0SM9cOFvHcCIhw= hello"],
      ["A file's contents", "chatctl connection send my-chat L0SM9cOFvHcCIhw= @notice.json"],
      ["From standard input", "echo hello | chatctl connection send my-chat L0SM9cOFvHcCIhw= -"],
    ],
  });

  args = Option.Rest({ name: "api-id stage connection-id message", required: 3 });

  async execute(): Promise<void> {
    const { api, stage, connectionId, rest } = splitTarget(this.args, 1, USAGE);
    const [{ resolveTarget, sendToConnection }, { readMessage }] = await Promise.all([import("../../ops/connections.js"), import("../../ops/message.js")]);
    const message = await readMessage(rest[0] ?? "", this.context.stdin);
    const clients = await this.clients();
    const target = await resolveTarget(clients, api, stage, connectionId);
    const sent = await sendToConnection(clients, target, message);
    if (this.json) return this.printJson({ ...target, bytes: sent.bytes });
    this.out(`sent ${sent.bytes} byte${sent.bytes === 1 ? "" : "s"} to ${target.connectionId} (${target.apiId}/${target.stage})`);
  }
}
