import { Command, Option } from "clipanion";
import { OpsCommand } from "./shared.js";

const usage = Command.Usage({
  category: "Connections",
  description: "Send a message to one connection",
  details: `
    Two forms: \`<api-id> <stage> <connection-id> <message>\`, or \`<stack> <connection-id> <message>\`.

    Posts the message through the stage's @connections API. The message is the argument itself, \`@file\` for a file's contents, or \`-\` for standard input.
    With a stack name, the stack's API and stage are found by its \`chatctl:stack\` tag.
    A connection that has closed is reported in one line, with exit code 1.
  `,
  examples: [
    ["Send JSON", `chatctl connection send a1b2c3d4e5 prod L0SM9cOFvHcCIhw= '{"message":"Server message"}'`],
    ["Through the stack name", "chatctl connection-send my-chat L0SM9cOFvHcCIhw= hello"],
    ["A file's contents", "chatctl connection send my-chat L0SM9cOFvHcCIhw= @notice.json"],
    ["From standard input", "echo hello | chatctl connection send my-chat L0SM9cOFvHcCIhw= -"],
  ],
});

/**
 * One class for both forms, `<api-id> <stage> <connection-id> <message>` and
 * `<stack> <connection-id> <message>`, so that --help shows the examples at once.
 */
export class ConnectionSendCommand extends OpsCommand {
  static override paths = [["connection-send"], ["connection", "send"]];
  static override usage = usage;
  first = Option.String({ name: "api-id|stack" });
  second = Option.String({ name: "stage|connection-id" });
  third = Option.String({ name: "connection-id|message" });
  fourth = Option.String({ name: "message", required: false });
  private target() {
    return this.fourth === undefined
      ? { api: this.first, stage: undefined, connectionId: this.second, message: this.third }
      : { api: this.first, stage: this.second, connectionId: this.third, message: this.fourth };
  }

  async execute(): Promise<void> {
    const { api, stage, connectionId, message: arg } = this.target();
    const [{ resolveTarget, sendToConnection }, { readMessage }] = await Promise.all([import("../../ops/connections.js"), import("../../ops/message.js")]);
    // Read first: an empty pipe is the user's mistake to hear about before any call.
    const message = await readMessage(arg, this.context.stdin);
    const clients = await this.clients();
    const target = await resolveTarget(clients, api, stage, connectionId, {
      missing: "<message>",
      usage: "chatctl connection-send <api-id> <stage> <connection-id> <message>",
    });
    const sent = await sendToConnection(clients, target, message);
    if (this.json) return this.printJson({ ...target, bytes: sent.bytes });
    this.out(`sent ${sent.bytes} byte${sent.bytes === 1 ? "" : "s"} to ${target.connectionId} (${target.apiId}/${target.stage})`);
  }
}
