import { describe, expect, it } from "vitest";
import { renderPlanMarkdown } from "../../src/plan/render-markdown.js";
import type { Plan } from "../../src/plan/types.js";
import { actual, desired } from "./fake-kinds.js";

const plan: Plan = {
  version: 1,
  mode: "apply",
  stack: "my-chat-prod",
  region: "us-east-1",
  accountId: "123456789012",
  environment: "prod",
  createdAt: "2025-01-01T00:00:00.000Z",
  fingerprint: "f".repeat(64),
  steps: [
    {
      id: "function.send",
      kind: "lambda.function",
      name: "my-chat-prod-send",
      action: "update",
      dependsOn: [],
      desired: desired("function.send", "lambda.function", {}),
      actual: actual("my-chat-prod-send", {}),
      changes: [{ path: "environment", before: { API_TOKEN: "old-s3cret", MODE: "a" }, after: { API_TOKEN: "new-s3cret", MODE: "b" } }],
    },
    {
      id: "role.send",
      kind: "iam.role",
      name: "my-chat-prod-send",
      action: "update",
      dependsOn: [],
      desired: desired("role.send", "iam.role", {}),
      actual: actual("my-chat-prod-send", {}),
      changes: [{ path: "inlinePolicy", before: "{}", after: '{"Statement":[]}' }],
    },
    {
      id: "table.connections",
      kind: "dynamodb.table",
      name: "my-chat-prod-connections",
      action: "replace",
      destroysData: true,
      dependsOn: [],
      desired: desired("table.connections", "dynamodb.table", {}),
      actual: actual("my-chat-prod-connections", {}, { holdsData: true }),
      changes: [{ path: "partitionKey.name", before: "id", after: "connectionId", forcesReplacement: true, destroysData: true }],
    },
  ],
  conflicts: [],
  kept: [],
  outputs: {},
};

describe("the markdown plan (a pull-request comment)", () => {
  const md = renderPlanMarkdown(plan);

  it("puts the summary first, then data loss and security, then the full plan collapsed", () => {
    const at = (text: string) => md.indexOf(text);
    expect(md.startsWith("### chatctl plan: `my-chat-prod` (environment prod, account 123456789012, us-east-1)\n\n**Plan: 0 to create, 2 to update, 1 to replace, 0 to delete.**\n")).toBe(true);
    expect(at("Data loss")).toBeGreaterThan(at("**Plan:"));
    expect(at("| update | `iam.role` | `my-chat-prod-send` | `inlinePolicy` |")).toBeGreaterThan(at("#### Security-relevant changes"));
    expect(at("<details><summary>Full plan</summary>")).toBeGreaterThan(at("#### Security-relevant changes"));
    expect(md.trimEnd().endsWith("</details>")).toBe(true);
  });

  it("redacts secrets as the text plan does", () => {
    expect(md).not.toMatch(/s3cret/);
    expect(md).toContain("API_TOKEN");
  });
});
