import { Command, Option } from "clipanion";
import { OpsCommand } from "./shared.js";

export class WsDeleteCommand extends OpsCommand {
  static override paths = [["ws-delete"], ["ws", "delete"]];
  static override usage = Command.Usage({
    category: "WebSocket API",
    description: "Delete a WebSocket API by its id",
    details: `
      Deletes the API with its routes, integrations and stages; connected clients are dropped.
      Only an API id is accepted here (see \`ws-list\`): to remove a whole stack, use \`chatctl destroy <stack>\`.
    `,
    examples: [["Delete an API", "chatctl ws delete a1b2c3d4e5"]],
  });

  apiId = Option.String({ name: "api-id" });

  async execute(): Promise<void> {
    const { deleteWebSocketApi } = await import("../../ops/ws.js");
    const deleted = await deleteWebSocketApi(await this.clients(), this.apiId);
    if (this.json) return this.printJson(deleted);
    this.out(`deleted API ${deleted.apiId} (${deleted.name})`);
    if (deleted.stack) this.err(`note: it belonged to stack ${deleted.stack}; its next \`chatctl apply\` creates it again, with a new id`);
  }
}
