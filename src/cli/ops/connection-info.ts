import { Command } from "clipanion";
import { ConnectionTargetCommand } from "./shared.js";

const usage = Command.Usage({
  category: "Connections",
  description: "Show what API Gateway knows about one connection",
  details: `
    Two forms: \`<api-id> <stage> <connection-id>\`, or \`<stack> <connection-id>\`.

    Asks the stage's @connections API when the connection opened, when it was last active, and its source IP and user agent.
    A closed connection is reported in one line, with exit code 1.
  `,
  examples: [
    ["Is this client still there?", "chatctl connection info my-chat L0SM9cOFvHcCIhw="],
    ["As JSON", "chatctl connection-info a1b2c3d4e5 prod L0SM9cOFvHcCIhw= --json"],
  ],
});

export class ConnectionInfoCommand extends ConnectionTargetCommand {
  static override paths = [["connection-info"], ["connection", "info"]];
  static override usage = usage;

  async execute(): Promise<void> {
    const { api, stage, connectionId } = this.target();
    const { resolveTarget, connectionInfo } = await import("../../ops/connections.js");
    const clients = await this.clients();
    const target = await resolveTarget(clients, api, stage, connectionId, {
      missing: "<connection-id>",
      usage: "chatctl connection-info <api-id> <stage> <connection-id>",
    });
    const info = await connectionInfo(clients, target);
    if (this.json) return this.printJson(info);
    for (const [k, v] of [
      ["connection", info.connectionId],
      ["connected", info.connectedAt ?? "-"],
      ["last active", info.lastActiveAt ?? "-"],
      ["source IP", info.sourceIp ?? "-"],
      ["user agent", info.userAgent ?? "-"],
    ] as const) {
      this.out(`${this.dim(k.padEnd(12))}${v}`);
    }
  }
}
