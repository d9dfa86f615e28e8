import { Command } from "clipanion";
import { cell, formatAge } from "./shared.js";
import { TableCommand } from "./spec-table.js";

export class ConnectionsListCommand extends TableCommand {
  static override paths = [["connections-list"], ["connections", "list"]];
  static override usage = Command.Usage({
    category: "Connections",
    description: "List the connections recorded in a table",
    details: `
      Reads every connection the $connect handler stored (all pages of the table) and prints its id, age, source IP and user agent, oldest first.
      A stack name may stand for the table when the stack has exactly one table. Without <table>, the table is the one of the stack in ./chat.yaml (or \`-f\`, with \`--env\`), in the spec's region: its only table, or the one named \`connections\`.
    `,
    examples: [
      ["The connections of the stack in ./chat.yaml, on the local cloud", "chatctl connections list --local"],
      ["List the connections of a table", "chatctl connections list my-chat-connections"],
      ["Of stack my-chat, on the local cloud", "chatctl connections-list my-chat --local"],
      ["Only the ids, with jq", "chatctl connections list my-chat --json | jq -r '.connections[].connectionId'"],
    ],
  });

  async execute(): Promise<void> {
    const { listConnections } = await import("../../ops/connections.js");
    const { table, clients } = await this.tableAndClients("chatctl connections list");
    const list = await listConnections(clients, table);
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
