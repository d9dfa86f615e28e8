import { Command, Option } from "clipanion";
import { OpsCommand } from "./shared.js";

export class WsGetUrlCommand extends OpsCommand {
  static override paths = [["ws-get-url"], ["ws", "get-url"], ["ws", "url"]];
  static override usage = Command.Usage({
    category: "WebSocket API",
    description: "Print the URL clients connect to",
    details: `
      Prints the stage's WebSocket URL (wss://... on AWS; ws://... on the local cloud), as the API itself reports its endpoint.
      The stage may be left out when the API has one stage, and a stack name may stand for the API id.
    `,
    examples: [
      ["The prod stage's URL", "chatctl ws get-url a1b2c3d4e5 prod"],
      ["Connect with wscat", "wscat -c $(chatctl ws-get-url my-chat)"],
      ["On the local cloud", "chatctl ws url my-chat --local"],
    ],
  });

  apiId = Option.String({ name: "api-id" });
  stage = Option.String({ name: "stage", required: false });

  async execute(): Promise<void> {
    const { getStageUrl } = await import("../../ops/ws.js");
    const found = await getStageUrl(await this.clients(), this.apiId, this.stage);
    if (this.json) return this.printJson(found);
    this.out(found.url);
  }
}
