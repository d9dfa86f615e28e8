import { Option } from "clipanion";
import type { AwsClients } from "../../aws/clients.js";
import { ChatctlCommand } from "../base.js";
import { span } from "../../text/ansi.js";
import { alignColumns } from "../../text/table.js";

// What every ad-hoc command shares: --json, the clients for the chosen endpoint,
// and the aligned tables people read. Kept free of the AWS SDK so that
// `chatctl --help` loads none of it.

export abstract class OpsCommand extends ChatctlCommand {
  json = Option.Boolean("--json", false, { description: "Print the result as JSON, for scripts" });

  private clientsMemo: AwsClients | undefined;

  async clients(): Promise<AwsClients> {
    if (!this.clientsMemo) {
      const { createClients } = await import("../../aws/clients.js");
      this.clientsMemo = createClients(this.awsConfig());
    }
    return this.clientsMemo;
  }

  printJson(value: unknown): void {
    this.out(JSON.stringify(value, null, 2));
  }

  bold(text: string): string {
    return span(this.color, "bold", text);
  }

  dim(text: string): string {
    return span(this.color, "dim", text);
  }

  green(text: string): string {
    return span(this.color, "green", text);
  }

  /** A table with a header row, columns padded to their widest cell; the last column is not padded. */
  printTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): void {
    const [head, ...body] = alignColumns([headers, ...rows]);
    this.out(this.dim(head ?? ""));
    for (const line of body) this.out(line);
  }
}

/** A cell for people: one line, at most `max` characters. */
export function cell(value: unknown, max = 60): string {
  const s = value === undefined ? "" : typeof value === "string" ? value : JSON.stringify(value);
  const oneLine = s.replace(/\s*[\r\n]+\s*/g, " ");
  const chars = [...oneLine];
  return chars.length > max ? `${chars.slice(0, max - 1).join("")}…` : oneLine;
}

/** "42s", "3m 05s", "2h 14m", "3d 4h". */
export function formatAge(seconds: number | undefined): string {
  if (seconds === undefined) return "?";
  if (seconds < 60) return `${seconds}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m ${String(seconds % 60).padStart(2, "0")}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/**
 * The two ways to name one connection, `<api-id> <stage> <connection-id>` and
 * `<stack> <connection-id>`, in one class so that --help shows both at once.
 */
export abstract class ConnectionTargetCommand extends OpsCommand {
  first = Option.String({ name: "api-id|stack" });
  second = Option.String({ name: "stage|connection-id" });
  third = Option.String({ name: "connection-id", required: false });

  protected target(): { api: string; stage: string | undefined; connectionId: string } {
    return this.third === undefined
      ? { api: this.first, stage: undefined, connectionId: this.second }
      : { api: this.first, stage: this.second, connectionId: this.third };
  }
}
