import { Command } from "clipanion";
import { ConnectionTargetCommand } from "./shared.js";

const usage = Command.Usage({
  category: "Connections",
  description: "Close one connection",
  details: `
    Two forms: \`<api-id> <stage> <connection-id>\`, or \`<stack> <connection-id>\`.

    Closes the connection through the stage's @connections API; the $disconnect route then runs as usual.
    With a stack name, the stack's API and stage are found by its \`chatctl:stack\` tag.
  `,
  examples: [
    ["Disconnect a client", "chatctl connection disconnect a1b2c3d4e5 prod L0SM9cOFvHcCIhw="],
    ["Through the stack name", "chatctl connection-disconnect my-chat L0SM9cOFvHcCIhw="],
  ],
});

export class ConnectionDisconnectCommand extends ConnectionTargetCommand {
  static override paths = [["connection-disconnect"], ["connection", "disconnect"]];
  static override usage = usage;

  async execute(): Promise<void> {
    const { api, stage, connectionId } = this.target();
    const { resolveTarget, disconnectConnection } = await import("../../ops/connections.js");
    const clients = await this.clients();
    const target = await resolveTarget(clients, api, stage, connectionId, {
      missing: "<connection-id>",
      usage: "chatctl connection-disconnect <api-id> <stage> <connection-id>",
    });
    await disconnectConnection(clients, target);
    if (this.json) return this.printJson({ ...target, disconnected: true });
    this.out(`disconnected ${target.connectionId} (${target.apiId}/${target.stage})`);
  }
}
