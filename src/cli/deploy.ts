import { Command, Option } from "clipanion";
import { StackCommand, parseDuration, parseParallelism } from "./stack-base.js";

/** The original script's `deploy <stack-name>`: apply that stack's spec. */
export class DeployCommand extends StackCommand {
  static override paths = [["deploy"]];
  static override usage = Command.Usage({
    description: "Deploy a stack (the original script's name for apply)",
    details: `
      The same as \`chatctl apply\`. The stack's spec is the \`-f\` file, else ./chat.yaml, ./STACK.yaml or ./specs/STACK.yaml; when a stack name is given it must match the spec's \`stack\`.
    `,
    examples: [
      ["Deploy stack my-chat from ./chat.yaml", "chatctl deploy my-chat"],
      ["Without asking (CI)", "chatctl deploy my-chat -f chat.yaml --auto-approve"],
    ],
  });

  stack = Option.String({ required: false, name: "stack" });
  autoApprove = Option.Boolean("--auto-approve", false, { description: "Do not ask for confirmation" });
  deleteData = Option.Boolean("--delete-data", false, { description: "Allow deleting or replacing tables that hold items" });
  lockTimeout = Option.String("--lock-timeout", "0s", { description: "How long to wait for another run's lock (e.g. 5m)" });
  concurrency = Option.String("--parallelism", "8", { description: "Steps run side by side at most" });
  setCloudwatchRole = Option.Boolean("--set-cloudwatch-role", false, {
    description: "When access logs are on and the account has no CloudWatch Logs role for API Gateway, create role chatctl-apigateway-cloudwatch and set it (account-wide; one already set is kept)",
  });

  async execute(): Promise<number> {
    const parallelism = parseParallelism(this.concurrency);
    const lockTimeoutMs = parseDuration(this.lockTimeout, "--lock-timeout");
    const { runDeploy } = await import("../app/deploy.js");
    const { autoApprove, deleteData, setCloudwatchRole } = this;
    return runDeploy({ ...this.target(this.stack), autoApprove, deleteData, lockTimeoutMs, parallelism, setCloudwatchRole }, this.io);
  }
}
