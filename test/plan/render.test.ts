import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ref } from "../../src/resources/kind.js";
import { renderPlan } from "../../src/plan/render-text.js";
import { planToJson } from "../../src/plan/render-json.js";
import { assertFresh, isStale, loadPlan, PlanFileError, savePlan } from "../../src/plan/file.js";
import { fingerprintSnapshot, type StateSnapshot } from "../../src/plan/snapshot.js";
import type { Plan, Step } from "../../src/plan/types.js";
import { actual, desired } from "./fake-kinds.js";

const policy = (actions: string[], resource: unknown) => ({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: actions, Resource: resource }],
});

const fnDesired = desired("function.connect", "lambda.function", {
  functionName: "my-chat-connect",
  roleArn: ref("role.connect", "arn"),
  timeout: 29,
  environment: { TABLE: "my-chat-connections" },
});

const steps: Step[] = [
  {
    id: "function.connect",
    kind: "lambda.function",
    name: "my-chat-connect",
    action: "create",
    dependsOn: ["role.connect"],
    desired: fnDesired,
    changes: [
      { path: "functionName", before: undefined, after: "my-chat-connect" },
      { path: "roleArn", before: undefined, after: ref("role.connect", "arn") },
      { path: "timeout", before: undefined, after: 29 },
      { path: "environment", before: undefined, after: { TABLE: "my-chat-connections" } },
    ],
  },
  {
    id: "role.send",
    kind: "iam.role",
    name: "my-chat-send",
    action: "update",
    dependsOn: [],
    desired: desired("role.send", "iam.role", {}),
    actual: actual("my-chat-send", {}),
    changes: [
      {
        path: "inlinePolicy",
        before: policy(["dynamodb:GetItem"], "arn:aws:dynamodb:ap-northeast-1:123456789012:table/my-chat-connections"),
        after: policy(["dynamodb:DeleteItem", "dynamodb:GetItem"], ref("table.connections", "arn")),
      },
      { path: "tags.app", before: "chat", after: "chat2" },
    ],
  },
  {
    id: "function.send",
    kind: "lambda.function",
    name: "my-chat-send",
    action: "update",
    dependsOn: [],
    desired: desired("function.send", "lambda.function", {}),
    actual: actual("my-chat-send", {}),
    changes: [{ path: "timeout", before: 10, after: 29 }],
  },
  {
    id: "table.connections",
    kind: "dynamodb.table",
    name: "my-chat-connections",
    action: "replace",
    reason: "partition key changed",
    destroysData: true,
    dependsOn: [],
    desired: desired("table.connections", "dynamodb.table", {}),
    actual: actual("my-chat-connections", {}, { holdsData: true }),
    changes: [{ path: "partitionKey.name", before: "id", after: "connectionId", forcesReplacement: true, destroysData: true }],
  },
  {
    id: "route.old",
    kind: "apigw.route",
    name: "r-123",
    action: "delete",
    reason: "no longer in chat.yaml",
    dependsOn: [],
    actual: actual("r-123", {}, { parent: true }),
    changes: [],
  },
  { id: "api", kind: "apigw.api", name: "my-chat", action: "noop", dependsOn: [], changes: [], actual: actual("abc123", {}) },
];

const plan: Plan = {
  version: 1,
  mode: "apply",
  stack: "my-chat",
  region: "ap-northeast-1",
  accountId: "123456789012",
  createdAt: "2025-01-01T00:00:00.000Z",
  fingerprint: "f".repeat(64),
  steps,
  conflicts: [
    {
      id: "role.connect",
      kind: "iam.role",
      name: "my-chat-connect",
      owner: "other",
      message: "a role named my-chat-connect exists and is not managed by stack my-chat (it carries chatctl:stack=other)",
    },
  ],
  kept: [{ id: "table.old", kind: "dynamodb.table", name: "my-chat-old", reason: "holds items; pass --delete-data to delete it" }],
  outputs: { api: { apiId: "abc123" } },
};

function render(p: Plan, color = false): string {
  const lines: string[] = [];
  renderPlan(p, (l) => lines.push(l), { color });
  return lines.join("\n");
}

describe("secrets in plans", () => {
  it("shows environment variables with secret-looking names as (sensitive), in text and JSON", () => {
    const secretPlan: Plan = {
      ...plan,
      steps: [
        {
          id: "function.connect",
          kind: "lambda.function",
          name: "my-chat-connect",
          action: "create",
          dependsOn: [],
          changes: [{ path: "environment", before: undefined, after: { CHAT_REQUIRE_TOKEN: "hunter2", TABLE_NAME: "t" } }],
        },
        {
          id: "function.send",
          kind: "lambda.function",
          name: "my-chat-send",
          action: "update",
          dependsOn: [],
          changes: [{ path: "environment.DB_PASSWORD", before: "old-pass", after: "new-pass" }],
        },
      ],
    };
    const text = render(secretPlan);
    const json = JSON.stringify(planToJson(secretPlan));
    for (const secret of ["hunter2", "old-pass", "new-pass"]) {
      expect(text).not.toContain(secret);
      expect(json).not.toContain(secret);
    }
    expect(text).toContain('"CHAT_REQUIRE_TOKEN": "(sensitive)"');
    expect(text).toContain('"TABLE_NAME": "t"');
    expect(text).toMatch(/environment\.DB_PASSWORD: "\(sensitive\)" -> "\(sensitive\)"/);
  });
});

describe("renderPlan", () => {
  it("with compactCreates, names each new resource on one line and still shows changes in full", () => {
    const lines: string[] = [];
    renderPlan(plan, (l) => lines.push(l), { color: false, compactCreates: true });
    const text = lines.join("\n");
    expect(text).toContain("  + create  lambda.function  my-chat-connect\n");
    expect(text).not.toContain("+ functionName");
    expect(text).toMatch(/~ update\s+iam\.role\s+my-chat-send\n\s+inlinePolicy:/);
  });

  it("shows every change Terraform-style, with policy diffs, unknowns, data loss, security, conflicts and kept", () => {
    expect(render(plan)).toMatchInlineSnapshot(`
      "chatctl will perform the following actions on stack my-chat (ap-northeast-1):

        + create  lambda.function  my-chat-connect
            + environment  = {
                               "TABLE": "my-chat-connections"
                             }
            + functionName = "my-chat-connect"
            + roleArn      = (known after apply)
            + timeout      = 29

        ~ update  iam.role  my-chat-send
            inlinePolicy:
              @@ -2,10 +2,11 @@
                 "Statement": [
                   {
                     "Action": [
              +        "dynamodb:DeleteItem",
                       "dynamodb:GetItem"
                     ],
                     "Effect": "Allow",
              -      "Resource": "arn:aws:dynamodb:ap-northeast-1:123456789012:table/my-chat-connections"
              +      "Resource": "(known after apply)"
                   }
                 ],
                 "Version": "2012-10-17"
            tags.app: "chat" -> "chat2"

        ~ update  lambda.function  my-chat-send
            timeout: 10 -> 29

      -/+ replace  dynamodb.table  my-chat-connections (partition key changed)
            partitionKey.name: "id" -> "connectionId"  # forces replacement
            !! data loss: replacing my-chat-connections destroys the data it holds

        - delete  apigw.route  r-123 (no longer in chat.yaml)

      Security-relevant changes:
        ~ iam.role my-chat-send: inlinePolicy, tags.app

      Conflicts (never touched by chatctl):
        ! a role named my-chat-connect exists and is not managed by stack my-chat (it carries chatctl:stack=other)

      Kept:
        # dynamodb.table my-chat-old kept: holds items; pass --delete-data to delete it

      Plan: 1 to create, 2 to update, 1 to replace, 1 to delete.
      1 conflict must be resolved before this plan can be applied."
    `);
  });

  it("says so when nothing changes", () => {
    const quiet: Plan = { ...plan, steps: [steps[5]!], conflicts: [], kept: [] };
    expect(render(quiet)).toBe("No changes. Your stack matches chat.yaml.");
    expect(render({ ...quiet, mode: "destroy", steps: [] })).toBe("No changes. Nothing of stack my-chat is left to destroy.");
  });

  it("colours only when asked", () => {
    expect(render(plan, false)).not.toContain("\u001b[");
    expect(render(plan, true)).toContain("\u001b[32m");
  });

  it("renders a policy carried as compact JSON text as a document diff", () => {
    const textPolicy: Plan = {
      ...plan,
      conflicts: [],
      kept: [],
      steps: [
        {
          ...steps[1]!,
          changes: [{ path: "assumeRolePolicy", before: JSON.stringify({ a: 1, b: [1] }), after: JSON.stringify({ a: 1, b: [2] }) }],
        },
      ],
    };
    expect(render(textPolicy)).toContain(["        -    1", "        +    2"].join("\n"));
  });
});

describe("planToJson", () => {
  it("is stable machine-readable data with unknowns marked", () => {
    const json = planToJson(plan);
    expect(json).toMatchObject({ format_version: "1.0", mode: "apply", has_changes: true, summary: { create: 1, update: 2, replace: 1, delete: 1, noop: 1 } });
    expect(json.steps.map((s) => s.action)).toEqual(["create", "update", "update", "replace", "delete", "noop"]);
    expect(json.steps[0]!.changes.find((c) => c.path === "roleArn")).toEqual({
      path: "roleArn",
      before: null,
      after: { unknown: true, ref: "role.connect.arn" },
      forces_replacement: false,
      destroys_data: false,
    });
    expect(json.steps[3]).toMatchObject({ destroys_data: true, reason: "partition key changed", physical_id: "my-chat-connections" });
    expect(json.conflicts[0]).toMatchObject({ owner: "other" });
    // Same plan, same text.
    expect(JSON.stringify(planToJson(plan))).toBe(JSON.stringify(json));
  });
});

describe("plan files", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "chatctl-plan-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("round-trips a plan and tells when it is stale", async () => {
    const path = join(dir, "round.plan");
    await savePlan(path, plan, { specPath: "/x/chat.yaml", specHash: "abc" });
    const saved = await loadPlan(path);
    expect(saved.plan).toEqual(JSON.parse(JSON.stringify(plan)));
    expect(saved).toMatchObject({ specPath: "/x/chat.yaml", specHash: "abc" });
    expect(isStale(saved, plan.fingerprint)).toBe(false);
    expect(isStale(saved, "0".repeat(64))).toBe(true);
  });

  it("refuses a saved plan once the spec or the account moved since it was made", () => {
    const state: StateSnapshot = { resources: { "table.connections": { status: "absent" } }, outputs: {}, orphans: [] };
    const saved = { plan: { ...plan, fingerprint: fingerprintSnapshot(state) }, specPath: "/x/chat.yaml", specHash: "abc", savedAt: "2026-01-01T00:00:00Z", endpoint: undefined };
    expect(() => assertFresh(saved, "p.plan", { desiredHash: "abc", state })).not.toThrow();
    expect(() => assertFresh(saved, "p.plan", { desiredHash: "abd", state })).toThrow(
      new PlanFileError("the saved plan p.plan is stale: /x/chat.yaml or a handler changed since it was made. Run chatctl plan --out p.plan again.", "p.plan"),
    );
    const moved: StateSnapshot = { ...state, resources: { "table.connections": { status: "present", actual: actual("my-chat-connections", {}) } } };
    expect(() => assertFresh(saved, "p.plan", { desiredHash: "abc", state: moved })).toThrow(/is stale: the stack changed in the account since it was made/);
  });

  it("refuses missing, foreign, corrupted and other-version files with a clear message", async () => {
    await expect(loadPlan(join(dir, "nope.plan"))).rejects.toThrow(/no saved plan at .*nope\.plan/);
    await expect(loadPlan(join(dir, "nope.plan"))).rejects.toBeInstanceOf(PlanFileError);

    const notJson = join(dir, "not-json.plan");
    await writeFile(notJson, "hello");
    await expect(loadPlan(notJson)).rejects.toThrow(/not a chatctl plan file, or it is corrupted/);

    const path = join(dir, "edit.plan");
    await savePlan(path, plan, { specPath: "chat.yaml", specHash: "abc" });
    const text = await readFile(path, "utf8");
    await writeFile(path, text.replace('"timeout"', '"timeouts"'));
    await expect(loadPlan(path)).rejects.toThrow(/is corrupted \(checksum mismatch\)/);

    const file = JSON.parse(text) as Record<string, unknown>;
    await writeFile(path, JSON.stringify({ ...file, version: 99 }));
    await expect(loadPlan(path)).rejects.toThrow(/saved by a different version of chatctl \(plan file version 99/);

    await writeFile(path, JSON.stringify({ hello: "world" }));
    await expect(loadPlan(path)).rejects.toThrow(/is not a chatctl plan file/);
  });
});
