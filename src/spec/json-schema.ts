// schema/chat.schema.json comes from the zod schema, so editors complete and check
// exactly what the loader accepts. Generated for the input side: keys with defaults
// are optional there, as they are in chat.yaml.

import { z } from "zod";
import { ChatSpec, LOG_RETENTION_DAYS, LogRetention } from "./schema.js";

export const CHAT_SCHEMA_ID = "urn:chatctl:schema:chat";

/** Path of the committed file, relative to the package root. */
export const CHAT_SCHEMA_FILE = "schema/chat.schema.json";

export function chatJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(ChatSpec, {
    io: "input",
    // Draft 7 is what yaml-language-server and VS Code understand best.
    target: "draft-7",
    override: (ctx) => {
      const json = ctx.jsonSchema;
      // `.int()` means "safe integer" to zod; as bounds those only clutter an editor's hover.
      if (json.minimum === Number.MIN_SAFE_INTEGER) delete json.minimum;
      if (json.maximum === Number.MAX_SAFE_INTEGER) delete json.maximum;
      // The refinement is invisible to JSON Schema; an enum lets editors offer the values.
      if (ctx.zodSchema === LogRetention) json.enum = [...LOG_RETENTION_DAYS];
    },
  }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: CHAT_SCHEMA_ID,
    title: "chatctl chat.yaml",
    ...rest,
    description:
      "A real-time chat stack for chatctl: an API Gateway WebSocket API whose routes invoke Lambda functions, with DynamoDB tables. Handler paths are relative to the spec file.",
  };
}

/** The file's exact text: pretty-printed, with a trailing newline. */
export function chatJsonSchemaText(): string {
  return `${JSON.stringify(chatJsonSchema(), null, 2)}\n`;
}
