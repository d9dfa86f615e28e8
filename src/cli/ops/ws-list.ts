import { Command } from "clipanion";
import { OpsCommand } from "./shared.js";

export class WsListCommand extends OpsCommand {
  static override paths = [["ws-list"], ["ws", "list"]];
  static override usage = Command.Usage({
    category: "WebSocket API",
    description: "List the WebSocket APIs of the region",
    details: `
      One line per API: id, name, the stack that owns it (its \`chatctl:stack\` tag, or - when none does), creation date and endpoint.
    `,
    examples: [
      ["List APIs", "chatctl ws list"],
      ["In another region, as JSON", "chatctl ws list --region us-east-1 --json"],
    ],
  });

  async execute(): Promise<void> {
    const { listWebSocketApis } = await import("../../ops/ws.js");
    const apis = await listWebSocketApis(await this.clients());
    if (this.json) {
      return this.printJson(
        apis.map((a) => ({ apiId: a.apiId, name: a.name, stack: a.stack ?? null, apiEndpoint: a.apiEndpoint, createdDate: a.createdDate?.toISOString() ?? null, tags: a.tags })),
      );
    }
    if (apis.length === 0) {
      this.err(`no WebSocket APIs in ${(await this.clients()).config.region}`);
      return;
    }
    this.printTable(
      ["ID", "NAME", "STACK", "CREATED", "ENDPOINT"],
      apis.map((a) => [a.apiId, a.name, a.stack ?? "-", a.createdDate ? a.createdDate.toISOString().slice(0, 16).replace("T", " ") : "-", a.apiEndpoint]),
    );
  }
}
