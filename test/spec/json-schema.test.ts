import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CHAT_SCHEMA_FILE, CHAT_SCHEMA_ID, chatJsonSchema, chatJsonSchemaText } from "../../src/spec/json-schema.js";
import { LOG_RETENTION_DAYS } from "../../src/spec/schema.js";

const committed = fileURLToPath(new URL(`../../${CHAT_SCHEMA_FILE}`, import.meta.url));
const REGENERATE = `UPDATE_SCHEMA=1 npx vitest run test/spec/json-schema.test.ts`;

type Json = Record<string, unknown>;
const at = (value: unknown, ...keys: string[]): Json => {
  let current = value;
  for (const key of keys) current = (current as Json)[key];
  return current as Json;
};

describe("schema/chat.schema.json", () => {
  it("matches the zod schema (regenerate with UPDATE_SCHEMA=1)", () => {
    const fresh = chatJsonSchemaText();
    if (process.env.UPDATE_SCHEMA === "1") writeFileSync(committed, fresh);
    const onDisk = existsSync(committed) ? readFileSync(committed, "utf8") : "";
    if (onDisk !== fresh) {
      expect.fail(`${CHAT_SCHEMA_FILE} is stale: src/spec/schema.ts changed since it was generated.\nRegenerate it with:\n  ${REGENERATE}\nand commit the result.`);
    }
  });

  it("names itself and keeps defaulted keys optional, as they are in chat.yaml", () => {
    const schema = chatJsonSchema();
    expect(schema.$id).toBe(CHAT_SCHEMA_ID);
    expect(schema.title).toBe("chatctl chat.yaml");
    expect(schema.$schema).toBe("http://json-schema.org/draft-07/schema#");
    expect(schema.required).toEqual(["stack", "routes", "functions"]);
    const fn = at(schema, "properties", "functions", "additionalProperties");
    expect(fn.required).toEqual(["handler"]);
    expect(fn.additionalProperties).toBe(false);
    expect(at(fn, "properties", "timeout")).toMatchObject({ type: "integer", minimum: 1, maximum: 900, default: 10 });
  });

  it("offers the log retention values CloudWatch Logs accepts", () => {
    const retention = at(chatJsonSchema(), "properties", "functions", "additionalProperties", "properties", "logRetentionDays");
    expect(retention.enum).toEqual([...LOG_RETENTION_DAYS]);
  });

  it("ends with a newline and is pretty-printed", () => {
    const text = chatJsonSchemaText();
    expect(text.endsWith("}\n")).toBe(true);
    expect(text).toContain('\n  "properties": {');
  });
});
