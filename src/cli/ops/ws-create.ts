import { Command, Option } from "clipanion";
import { OpsCommand } from "./shared.js";

export class WsCreateCommand extends OpsCommand {
  static override paths = [["ws-create"], ["ws", "create"]];
  static override usage = Command.Usage({
    category: "WebSocket API",
    description: "Create an empty WebSocket API",
    details: `
      Creates a WebSocket API with no routes. Add routes with \`ws-add-route\`, then make them live with \`ws-deploy\`.

      The API carries no \`chatctl:stack\` tag: no stack adopts or deletes it.
    `,
    examples: [
      ["Create an API", "chatctl ws create my-chat-api"],
      ["Same, under the script's old name", "chatctl ws-create my-chat-api"],
      ["Print its id for a script", "chatctl ws create my-chat-api --json"],
    ],
  });

  name = Option.String({ name: "name" });
  routeSelectionExpression = Option.String("--route-selection-expression", "$request.body.action", {
    description: "How a message picks its route (default: the body's action field)",
  });

  async execute(): Promise<void> {
    const { createWebSocketApi } = await import("../../ops/ws.js");
    const api = await createWebSocketApi(await this.clients(), this.name, this.routeSelectionExpression);
    if (this.json) return this.printJson(api);
    this.out(`${this.green("created")} WebSocket API ${this.bold(api.name)}`);
    this.out(`  id        ${api.apiId}`);
    this.out(`  endpoint  ${api.apiEndpoint}`);
    this.out(this.dim(`next: chatctl ws-add-route ${api.apiId} '$default' <lambda-arn>, then chatctl ws-deploy ${api.apiId} prod`));
  }
}
