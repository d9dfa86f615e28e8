import { Command, Option } from "clipanion";
import { OpsCommand } from "./shared.js";

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

/** One class for both forms, `<api-id> <stage> <connection-id>` and `<stack> <connection-id>`, so that --help shows the examples at once. */
export class ConnectionDisconnectCommand extends OpsCommand {
  static override paths = [["connection-disconnect"], ["connection", "disconnect"]];
  static override usage = usage;
  first = Option.String({ name: "api-id|stack" });
  second = Option.String({ name: "stage|connection-id" });
  third = Option.String({ name: "connection-id", required: false });
  private target() {
    return this.third === undefined
      ? { api: this.first, stage: undefined, connectionId: this.second }
      : { api: this.first, stage: this.second, connectionId: this.third };
  }

  async execute(): Promise<void> {
    const { api, stage, connectionId } = this.target();
    const { resolveTarget, disconnectConnection } = await import("../../ops/connections.js");
    const clients = await this.clients();
    const target = await resolveTarget(clients, api, stage, connectionId);
    await disconnectConnection(clients, target);
    if (this.json) return this.printJson({ ...target, disconnected: true });
    this.out(`disconnected ${target.connectionId} (${target.apiId}/${target.stage})`);
  }
}
