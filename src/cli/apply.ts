import { Command, Option } from "clipanion";
import { StackCommand, parseDuration, parseParallelism } from "./stack-base.js";

export class ApplyCommand extends StackCommand {
  static override paths = [["apply"]];
  static override usage = Command.Usage({
    description: "Make the account match chat.yaml",
    details: `
      Plans, shows the plan, asks for confirmation (unless \`--auto-approve\`), then creates, updates and deletes what the plan says, independent steps side by side. Throttling and IAM's propagation delay are retried. When a step fails, what depends on it is skipped and the summary says what was done and what was not; running apply again converges, whatever the failure.

      \`chatctl apply PLANFILE\` applies a plan saved by \`chatctl plan --out\`, and refuses it when chat.yaml, a handler or the account changed since.

      Only one apply or destroy of a stack runs at a time: the lock lives in the account (a \`chatctl-locks\` DynamoDB table), so CI runners on different machines see it too.
    `,
    examples: [
      ["Apply ./chat.yaml after confirming", "chatctl apply"],
      ["In CI, without asking", "chatctl apply -f chat.yaml --auto-approve"],
      ["Apply a saved plan", "chatctl apply plan.json"],
      ["Apply to the local cloud of `chatctl dev`", "chatctl apply -f specs/chat.yaml --local --auto-approve"],
    ],
  });

  planFile = Option.String({ required: false, name: "planfile" });
  autoApprove = Option.Boolean("--auto-approve", false, { description: "Do not ask for confirmation" });
  deleteData = Option.Boolean("--delete-data", false, { description: "Allow deleting or replacing tables that hold items" });
  lockTimeout = Option.String("--lock-timeout", "0s", { description: "How long to wait for another run's lock (e.g. 5m)" });
  concurrency = Option.String("--parallelism", "8", { description: "Steps run side by side at most" });
  json = Option.Boolean("--json", false, { description: "Stream one JSON event per line (plan, started, retried, finished, summary); needs --auto-approve" });
  setCloudwatchRole = Option.Boolean("--set-cloudwatch-role", false, {
    description: "When access logs are on and the account has no CloudWatch Logs role for API Gateway, create role chatctl-apigateway-cloudwatch and set it (account-wide; one already set is kept)",
  });

  async execute(): Promise<number> {
    const parallelism = parseParallelism(this.concurrency);
    const lockTimeoutMs = parseDuration(this.lockTimeout, "--lock-timeout");
    const { runApply } = await import("../app/apply.js");
    const { planFile, autoApprove, deleteData, json, setCloudwatchRole } = this;
    return runApply({ ...this.target(), planFile, autoApprove, deleteData, lockTimeoutMs, parallelism, json, setCloudwatchRole }, this.io);
  }
}
