import { Command, Option } from "clipanion";
import { OpsCommand } from "./shared.js";

export class WsDeployCommand extends OpsCommand {
  static override paths = [["ws-deploy"], ["ws", "deploy"]];
  static override usage = Command.Usage({
    category: "WebSocket API",
    description: "Deploy the API's routes to a stage",
    details: `
      Creates the stage when it does not exist, then a deployment of the API's current routes and integrations to it, and prints the URL clients connect to.
      A stack name may stand for the API id when the stack has exactly one API.
    `,
    examples: [
      ["Deploy to prod", "chatctl ws deploy a1b2c3d4e5 prod"],
      ["The script's old name", "chatctl ws-deploy a1b2c3d4e5 prod"],
    ],
  });

  apiId = Option.String({ name: "api-id" });
  stage = Option.String({ name: "stage" });

  async execute(): Promise<void> {
    const { deployStage } = await import("../../ops/ws.js");
    const deployed = await deployStage(await this.clients(), this.apiId, this.stage);
    if (this.json) return this.printJson(deployed);
    if (deployed.stageCreated) this.out(`${this.green("created")} stage ${deployed.stageName}`);
    this.out(`${this.green("deployed")} ${deployed.apiId} to ${deployed.stageName} (deployment ${deployed.deploymentId})`);
    this.out(deployed.url);
  }
}
