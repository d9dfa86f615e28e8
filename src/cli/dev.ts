import { Command, Option } from "clipanion";
import { UserError } from "../errors.js";
import { StackCommand } from "./stack-base.js";

export class DevCommand extends StackCommand {
  static override paths = [["dev"]];
  static override usage = Command.Usage({
    description: "Run the whole stack on this machine, no AWS account needed",
    details: `
      Starts a local cloud in this process (API Gateway WebSocket stages with their @connections API, Lambda, DynamoDB, IAM, CloudWatch Logs, STS, all speaking AWS's own protocols on one port), applies chat.yaml to it with the same planner and executor as \`chatctl apply\`, prints the plan and the API's ws:// URL (\`ws://127.0.0.1:PORT/<api-id>/<stage>\`), and keeps running. Editing chat.yaml or a handler re-plans and re-applies; open connections stay open when the API itself did not change.

      The dev console, at the root of the port (\`http://127.0.0.1:4510/\`, printed at start), shows the open connections, a live timeline of connects, refusals, messages, @connections calls and log lines, and the stack; from it you can open a client, send frames, post to or disconnect any connection. It answers only on this machine.

      Other commands reach it with \`--local\` (this spec's dev server, or \`--local PORT\`): \`chatctl connections-list my-chat --local\`, \`chatctl lambda-logs my-chat-sendmessage --local --follow\`. Handlers may build their management client as AWS's samples do (\`https://\${domainName}/\${stage}\` or \`https://\${apiId}.execute-api.\${AWS_REGION}.amazonaws.com/\${stage}\`): inside the local runner those reach the local cloud, over TLS the functions trust.

      It listens on 127.0.0.1 unless \`--host\` says otherwise. \`--persist DIR\` keeps the local cloud across restarts: tables with their items, and the APIs (same ids), functions, roles and log groups; the first apply after a restart then has nothing to do. Ctrl-C, SIGTERM or SIGHUP (also through npx and npm run) stop it cleanly: an apply in progress finishes, then every connection gets close code 1001 and its $disconnect. A second Ctrl-C exits at once.
    `,
    examples: [
      ["Run the example stack", "chatctl dev -f specs/chat.yaml"],
      ["On a fixed port, keeping the tables", "chatctl dev -f chat.yaml --port 4510 --persist .chatctl/local"],
      ["Throttle one call in five, reproducibly", "chatctl dev -f chat.yaml --faults faults.json"],
    ],
  });

  port = Option.String("--port", "4510", { description: "Port for every service and the WebSocket stages (0: any free port)" });
  host = Option.String("--host", "127.0.0.1", { description: "Address to listen on (127.0.0.1 by default: only this machine)" });
  persist = Option.String("--persist", { description: "Keep the local cloud (tables, items, APIs, functions) in this folder across restarts" });
  watch = Option.Boolean("--watch", true, { description: "Re-apply when chat.yaml or a handler changes (--no-watch to turn off: then a stack that does not apply ends dev with exit 1)" });
  quiet = Option.Boolean("--quiet", false, { description: "Do not print the functions' log lines" });
  faults = Option.String("--faults", {
    description: 'Inject AWS faults from this JSON file, to see how your code copes: {"seed": 1, "rules": [{"service": "lambda", "operation": "CreateFunction", "nth": 1, "error": {"name": "ThrottlingException"}}]} (also "delayMs", "drop", "probability", "times")',
  });

  async execute(): Promise<number> {
    const port = Number(this.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`--port must be a port number (0-65535), not "${this.port}"`);
    const { runDev } = await import("../app/dev.js");
    const { host, persist, watch, quiet, faults } = this;
    return runDev({ specFile: this.file, host, port, persist, watch, quiet, faults, environment: this.environment }, this.io);
  }
}
