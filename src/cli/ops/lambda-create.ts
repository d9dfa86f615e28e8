import { Command, Option, UsageError } from "clipanion";
import * as t from "typanion";
import { DEFAULT_NODE_RUNTIME } from "../../aws/lambda-rules.js";
import { OpsCommand } from "./shared.js";

/** A bundled entry without a runtime gets what a spec's function gets by default. */
export const BUNDLED_RUNTIME = DEFAULT_NODE_RUNTIME;

export class LambdaCreateCommand extends OpsCommand {
  static override paths = [["lambda-create"], ["lambda", "create"]];
  static override usage = Command.Usage({
    category: "Lambda",
    description: "Create a Lambda function from a zip or a handler source file",
    details: `
      A \`.zip\` is uploaded as it is. A \`.ts\`, \`.js\` or \`.mjs\` entry is bundled first (esbuild, one ESM file exporting \`index.handler\`); the handler argument is then not needed (give \`-\` or leave it out) and the runtime defaults to ${BUNDLED_RUNTIME}.

      Without \`--role\`, a role \`chatctl-<name>\` (path /chatctl/) is created that may only write the function's own logs; the few seconds IAM takes to let Lambda use a new role are waited out.
      Neither the function nor the role carries a \`chatctl:stack\` tag: no stack adopts or deletes them.
    `,
    examples: [
      ["From a zip", "chatctl lambda-create connect-handler func.zip index.handler nodejs22.x"],
      ["From TypeScript, bundled", "chatctl lambda create connect-handler handlers/connect.ts"],
      ["With an existing role", "chatctl lambda create connect-handler func.zip index.handler nodejs22.x --role arn:aws:iam::123456789012:role/my-role"],
    ],
  });

  name = Option.String({ name: "name" });
  source = Option.String({ name: "zip|entry" });
  handler = Option.String({ name: "handler", required: false });
  runtime = Option.String({ name: "runtime", required: false });
  role = Option.String("--role", { description: "Run as this role (ARN) instead of creating chatctl-<name>" });
  timeout = Option.String("--timeout", { description: "Seconds the function may run (default 3)", validator: t.isNumber() });
  memory = Option.String("--memory", { description: "Memory in MB (default 128)", validator: t.isNumber() });

  async execute(): Promise<void> {
    const { loadCode, createFunction } = await import("../../ops/lambda.js");
    const code = await loadCode(this.source);
    if (!code.bundledHandler && (!this.handler || this.handler === "-" || !this.runtime)) {
      throw new UsageError("a .zip needs its handler and runtime: chatctl lambda-create <name> <zip> <handler> <runtime>");
    }
    if (code.bundledHandler && this.handler && this.handler !== "-" && this.handler !== code.bundledHandler) {
      this.err(`note: ${this.source} is bundled into ${code.bundledHandler}; the handler '${this.handler}' is ignored (the entry must export 'handler')`);
    }
    const created = await createFunction(await this.clients(), {
      name: this.name,
      code,
      handler: code.bundledHandler ?? this.handler ?? "",
      runtime: this.runtime ?? BUNDLED_RUNTIME,
      ...(this.role ? { roleArn: this.role } : {}),
      ...(this.timeout !== undefined ? { timeout: this.timeout } : {}),
      ...(this.memory !== undefined ? { memory: this.memory } : {}),
      onProgress: (message) => this.err(this.dim(message)),
    });
    if (this.json) return this.printJson(created);
    if (created.roleCreated) this.out(`${this.green("created")} role ${created.roleArn}`);
    this.out(`${this.green("created")} function ${this.bold(created.functionName)}`);
    this.out(`  arn      ${created.functionArn}`);
    this.out(`  runtime  ${created.runtime}`);
    this.out(`  handler  ${created.handler}`);
    this.out(`  role     ${created.roleArn}`);
    this.out(`  code     ${created.codeSha256}`);
  }
}
