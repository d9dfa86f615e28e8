import { Command, Option, UsageError } from "clipanion";
import type { LogEvent } from "../../ops/logs.js";
import { OpsCommand } from "./shared.js";

export class LambdaLogsCommand extends OpsCommand {
  static override paths = [["lambda-logs"], ["lambda", "logs"]];
  static override usage = Command.Usage({
    category: "Lambda",
    description: "Print a function's recent logs, or follow them",
    details: `
      Prints the events of the log group /aws/lambda/<name> from the last [minutes] (default 10), oldest first. A name starting with /aws/apigateway/ is a stage's access log group (api.accessLog), read as named.
      \`--follow\` keeps polling every 2 seconds and prints only new events, until Ctrl-C. \`--filter\` takes a CloudWatch Logs filter pattern.
      With \`--json\`, events are a JSON array; with \`--follow --json\`, one JSON object per line.
    `,
    examples: [
      ["The last 30 minutes", "chatctl lambda-logs connect-handler 30"],
      ["Follow, errors only", "chatctl lambda logs my-chat-sendmessage --follow --filter ERROR"],
      ["From the local cloud", "chatctl lambda logs my-chat-connect --local"],
      ["A stage's access log", "chatctl lambda-logs /aws/apigateway/my-chat/prod/access --local"],
    ],
  });

  name = Option.String({ name: "name" });
  minutes = Option.String({ name: "minutes", required: false });
  follow = Option.Boolean("--follow,-f", false, { description: "Keep printing new events until Ctrl-C" });
  filter = Option.String("--filter", { description: "Only events matching this CloudWatch Logs filter pattern" });

  async execute(): Promise<void> {
    const minutes = this.minutes === undefined ? 10 : Number(this.minutes);
    if (!Number.isFinite(minutes) || minutes <= 0) throw new UsageError(`minutes must be a positive number, not '${this.minutes}'`);
    const { readLogs, followLogs } = await import("../../ops/logs.js");
    const clients = await this.clients();
    const base = { functionName: this.name, startTime: Date.now() - minutes * 60_000, ...(this.filter ? { filterPattern: this.filter } : {}) };
    if (!this.follow) {
      const events = await readLogs(clients, base);
      if (this.json) return this.printJson(events);
      if (events.length === 0) this.err(`no log events for ${this.name} in the last ${minutes} minute${minutes === 1 ? "" : "s"}`);
      for (const e of events) this.out(this.line(e));
      return;
    }
    const stop = new AbortController();
    const onSigint = () => stop.abort();
    process.once("SIGINT", onSigint);
    try {
      await followLogs(clients, {
        ...base,
        signal: stop.signal,
        onWaiting: (message) => this.err(this.dim(message)),
        onEvents: (events) => {
          for (const e of events) this.out(this.json ? JSON.stringify(e) : this.line(e));
        },
      });
    } finally {
      process.removeListener("SIGINT", onSigint);
    }
  }

  private line(e: LogEvent): string {
    // Lambda's stream names end in the runtime instance's id; a few characters tell instances apart.
    const instance = /\]([0-9a-f]{6})/.exec(e.logStream)?.[1] ?? e.logStream.slice(-6);
    return `${this.dim(`${e.time} ${instance}`)}  ${e.message}`;
  }
}
