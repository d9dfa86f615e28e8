import { Command, Option } from "clipanion";
import { OpsCommand } from "./shared.js";

export class DynamodbCreateCommand extends OpsCommand {
  static override paths = [["dynamodb-create"], ["dynamodb", "create"]];
  static override usage = Command.Usage({
    category: "DynamoDB",
    description: "Create an on-demand table and wait until it is ACTIVE",
    details: `
      The keys are strings unless typed: \`score:N\` for a number, \`blob:B\` for binary. \`--ttl-attribute\` turns on expiry by that attribute (epoch seconds).
      Running it again for a table with the same keys changes nothing. The table carries no \`chatctl:stack\` tag: no stack adopts or deletes it.
    `,
    examples: [
      ["A connections table", "chatctl dynamodb-create connections connectionId"],
      ["With expiry", "chatctl dynamodb create connections connectionId --ttl-attribute expiresAt"],
      ["With a sort key", "chatctl dynamodb create messages roomId --sort-key sentAt:N"],
    ],
  });

  table = Option.String({ name: "table" });
  partitionKey = Option.String({ name: "pk" });
  sortKey = Option.String("--sort-key", { description: "Sort key attribute (name, name:S, name:N or name:B)" });
  ttlAttribute = Option.String("--ttl-attribute", { description: "Expire items when this attribute's time (epoch seconds) has passed" });

  async execute(): Promise<void> {
    const { createTable, parseKey } = await import("../../ops/dynamodb.js");
    const created = await createTable(await this.clients(), {
      tableName: this.table,
      partitionKey: parseKey(this.partitionKey, "partition key"),
      ...(this.sortKey ? { sortKey: parseKey(this.sortKey, "sort key") } : {}),
      ...(this.ttlAttribute ? { ttlAttribute: this.ttlAttribute } : {}),
    });
    if (this.json) return this.printJson(created);
    const verb = created.outcome === "created" ? this.green("created") : "unchanged";
    const keys = `${created.partitionKey.name}:${created.partitionKey.type}${created.sortKey ? `, ${created.sortKey.name}:${created.sortKey.type}` : ""}`;
    this.out(`${verb} table ${this.bold(created.tableName)} (${keys}; ${created.status}${created.ttlAttribute ? `; expires by ${created.ttlAttribute}` : ""})`);
  }
}
