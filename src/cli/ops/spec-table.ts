import { Option } from "clipanion";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { AwsClients } from "../../aws/clients.js";
import { UserError } from "../../errors.js";
import { chosenEnvironment } from "../stack-base.js";
import { OpsCommand } from "./shared.js";

/**
 * A command on one table (`connections list`, `dynamodb scan`): the table (or a stack
 * that has one) as its argument, as the original script took it, or, without one, the
 * table of the stack in ./chat.yaml (or -f, with --env), in the spec's region, as
 * `status` and `destroy` find their stack.
 */
export abstract class TableCommand extends OpsCommand {
  table = Option.String({ name: "table", required: false });
  fileOption = Option.String("-f,--file", { description: "The spec (default: ./chat.yaml): its stack's table when <table> is left out, and its dev server with --local" });
  envOption = Option.String("--env", { description: "Without <table>: the spec's environment (else CHATCTL_ENV)" });

  private get specFile(): string {
    return resolve(this.fileOption ?? "chat.yaml");
  }

  protected override localSpecFile(): string | undefined {
    return this.specFile;
  }

  /** The table to read and the clients to read it with. */
  protected async tableAndClients(command: string): Promise<{ table: string; clients: AwsClients }> {
    if (this.table !== undefined) return { table: this.table, clients: await this.clients() };
    const file = this.specFile;
    if (!existsSync(file)) {
      throw new UserError(
        `${command} takes <table> (a table, or a stack with one table); without it the stack's table comes from chat.yaml, and there is none at ${file}: pass the table, or -f <path to chat.yaml>`,
      );
    }
    const [{ loadSpec }, { SpecError }, { tableName }, { createClients }] = await Promise.all([
      import("../../spec/loader.js"),
      import("../../stack/prepare.js"),
      import("../../spec/names.js"),
      import("../../aws/clients.js"),
    ]);
    const loaded = await loadSpec(file, { environment: chosenEnvironment(this.envOption) });
    if (!loaded.ok) throw new SpecError(loaded.diagnostics, this.color);
    const keys = Object.keys(loaded.spec.tables);
    const key = keys.length === 1 ? keys[0] : keys.includes("connections") ? "connections" : undefined;
    if (key === undefined) {
      throw new UserError(
        keys.length === 0
          ? `${file} declares no tables: pass the table to read`
          : `${file} declares ${keys.length} tables (${keys.join(", ")}): pass the one to read, e.g. ${command} ${tableName(loaded.spec, keys[0] ?? "")}`,
      );
    }
    return { table: tableName(loaded.spec, key), clients: createClients(this.awsConfig(loaded.region)) };
  }
}
