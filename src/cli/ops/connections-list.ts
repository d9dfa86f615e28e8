import { Command, Option } from "clipanion";
import { OpsCommand, cell, formatAge } from "./shared.js";

export class ConnectionsListCommand extends OpsCommand {
  static override paths = [["connections-list"], ["connections", "list"]];
  static override usage = Command.Usage({
    category: "Connections",
    description: "List the connections recorded in a table",
    details: `
      Reads every connection the $connect handler stored (all pages of the table) and prints its id, age, source IP and user agent, oldest first.
      A stack name may stand for the table when the stack has exactly one table.
    `,
    examples: [
      ["List the connections of a table", "chatctl connections list my-chat-connections"],
      ["Of stack my-chat, on the local cloud", "chatctl connections-list my-chat --local"],
      ["Only the ids, with jq", "chatctl connections list my-chat --json | jq -r '.connections[].connectionId'"],
    ],
  });

  table = Option.String({ name: "table" });

  async execute(): Promise<void> {
    const { listConnections } = await import("../../ops/connections.js");
    const list = await listConnections(await this.clients(), this.table);
    if (this.json) return this.printJson(list);
    if (list.connections.length === 0) {
      this.err(`no connections in ${list.table}`);
      return;
    }
    this.printTable(
      ["CONNECTION ID", "AGE", "SOURCE IP", "USER AGENT"],
      list.connections.map((c) => [c.connectionId, formatAge(c.ageSeconds), c.sourceIp ?? "-", cell(c.userAgent ?? "-")]),
    );
    this.err(this.dim(`${list.connections.length} connection${list.connections.length === 1 ? "" : "s"} in ${list.table}`));
  }
}
