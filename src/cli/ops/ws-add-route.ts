import { Command, Option } from "clipanion";
import { OpsCommand } from "./shared.js";

export class WsAddRouteCommand extends OpsCommand {
  static override paths = [["ws-add-route"], ["ws", "add-route"]];
  static override usage = Command.Usage({
    category: "WebSocket API",
    description: "Route messages to a Lambda function",
    details: `
      In one go: a Lambda proxy integration (AWS_PROXY) for the function, the route, and the permission that lets this API (and only this API) invoke the function.
      Running it again changes nothing; a run that failed half way is completed by the next.

      Route keys: \`$connect\`, \`$disconnect\`, \`$default\`, or an action such as \`sendmessage\` (picked by \`{"action":"sendmessage"}\`). Quote \`$\` keys in the shell.
      The function may be given by ARN or by name. Deploy afterwards with \`ws-deploy\` for the route to be live.
    `,
    examples: [
      ["Route the sendmessage action", "chatctl ws add-route a1b2c3d4e5 sendmessage arn:aws:lambda:ap-northeast-1:123456789012:function:sendmessage"],
      ["Route $connect, naming the function", "chatctl ws-add-route a1b2c3d4e5 '$connect' connect-handler"],
    ],
  });

  apiId = Option.String({ name: "api-id" });
  routeKey = Option.String({ name: "route-key" });
  lambdaArn = Option.String({ name: "lambda-arn" });

  async execute(): Promise<void> {
    const { addRoute } = await import("../../ops/ws.js");
    const added = await addRoute(await this.clients(), this.apiId, this.routeKey, this.lambdaArn);
    if (this.json) return this.printJson(added);
    this.out(`route ${this.bold(added.routeKey)} -> ${added.functionArn}`);
    this.printTable(
      ["PART", "ID", "OUTCOME"],
      [
        ["integration", added.integration.id, added.integration.outcome],
        ["route", added.route.id, added.route.outcome],
        ["permission", added.permission.statementId, added.permission.outcome],
      ],
    );
    this.out(this.dim(`deploy it with: chatctl ws-deploy ${added.apiId} <stage>`));
  }
}
