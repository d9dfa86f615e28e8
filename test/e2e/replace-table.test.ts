import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../support/cloud.js";
import { useProjectCloud } from "../support/project-cloud.js";

// Replacing a table keeps its name, so its ARN: the roles that name it in their
// policies have nothing to change, and nothing about the replacement may show
// chatctl's internal stand-in for a value known only after apply.

const env = useProjectCloud("replace");

/** One function whose role's policy names the table (its ARN, and its indexes'). */
function specWithKey(key: string): string {
  const text = [
    "stack: my-chat",
    "routes:",
    "  $connect: connect",
    "functions:",
    "  connect:",
    "    handler: ../../handlers/connect.ts",
    "    tables: [connections]",
    "tables:",
    "  connections:",
    `    partitionKey: ${key}`,
    "    onDestroy: delete",
  ].join("\n");
  const file = join(env.dir, `chat-${key}.yaml`);
  writeFileSync(file, `${text}\n`);
  return file;
}

describe("a plan that replaces a table", () => {
  it("plans the replacement alone: no role updates, no placeholder in text or JSON", async () => {
    const applied = await runCli(["apply", "-f", specWithKey("connectionId"), ...env.at, "--auto-approve"]);
    expect(applied.code, applied.stderr).toBe(0);

    const changed = specWithKey("id");
    const text = await runCli(["plan", "-f", changed, ...env.at]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/replace\s+dynamodb\.table\s+my-chat-connections/);
    expect(text.stdout).not.toMatch(/chatctl-unknown|\\u0000|\u0000/);
    expect(text.stdout).not.toMatch(/iam\.role/);

    const json = await runCli(["plan", "-f", changed, ...env.at, "--json"]);
    expect(json.stdout).not.toMatch(/chatctl-unknown|\\u0000/);
    const steps = (JSON.parse(json.stdout) as { steps: Array<{ kind: string; action: string }> }).steps.filter((s) => s.action !== "noop");
    expect(steps.map((s) => `${s.action} ${s.kind}`)).toEqual(["replace dynamodb.table"]);
  });
});
