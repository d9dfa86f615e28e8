import { Command, Option } from "clipanion";
import * as t from "typanion";
import { cell } from "./shared.js";
import { TableCommand } from "./spec-table.js";

export class DynamodbScanCommand extends TableCommand {
  static override paths = [["dynamodb-scan"], ["dynamodb", "scan"]];
  static override usage = Command.Usage({
    category: "DynamoDB",
    description: "Print every item of a table",
    details: `
      Reads all pages of the table (or the first \`--limit\` items) and prints one row per item, one column per top-level attribute, keys first.
      \`--json\` prints the items as plain JSON (no DynamoDB type wrappers; sets as arrays, binary as base64).
      A stack name may stand for the table when the stack has exactly one table. Without <table>, the table is the one of the stack in ./chat.yaml (or \`-f\`, with \`--env\`), in the spec's region: its only table, or the one named \`connections\`.
    `,
    examples: [
      ["All items", "chatctl dynamodb-scan connections"],
      ["The first 20, as JSON", "chatctl dynamodb scan my-chat-connections --limit 20 --json"],
      ["The table of the stack in specs/chat.yaml, on the local cloud", "chatctl dynamodb scan -f specs/chat.yaml --local"],
    ],
  });

  limit = Option.String("--limit", { description: "Stop after this many items", validator: t.isNumber() });

  async execute(): Promise<void> {
    const { scanTable } = await import("../../ops/dynamodb.js");
    const { table, clients } = await this.tableAndClients("chatctl dynamodb scan");
    const result = await scanTable(clients, table, this.limit);
    if (this.json) return this.printJson(result.items);
    if (result.items.length === 0) {
      this.err(`${result.table} is empty`);
      return;
    }
    const keys = [result.partitionKey, ...(result.sortKey ? [result.sortKey] : [])];
    const others = [...new Set(result.items.flatMap((item) => Object.keys(item)))].filter((k) => !keys.includes(k)).sort();
    const columns = [...keys, ...others];
    this.printTable(
      columns,
      result.items.map((item) => columns.map((c) => (c in item ? cell(item[c]) : "-"))),
    );
    const count = `${result.items.length} item${result.items.length === 1 ? "" : "s"}`;
    this.err(this.dim(result.truncated ? `${count} (stopped at --limit ${this.limit}; the table may hold more)` : count));
  }
}
