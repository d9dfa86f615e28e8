import { beforeAll, describe, expect, it } from "vitest";
import { summarizeApply } from "../../src/apply/progress.js";
import { runCli } from "../support/cloud.js";
import type { TestCloud } from "../support/cloud.js";
import {
  chatStackInventory,
  emptyInventory,
  faultAt,
  inventory,
  pendingChanges,
  planNow,
  recording,
  rerunErrors,
  runCore,
  STACK_TRACE,
  targetOf,
  withCloud,
  writeTally,
} from "../support/reliability.js";

// Destroy with one call failed: it stops with a summary or gets through, the
// next destroy finishes the job, nothing of the stack is left but the table
// (onDestroy: retain), and nothing is deleted twice or left behind.

const SPEC = "specs/chat.yaml";

/** Distinct write operations of destroying specs/chat.yaml, and how many calls of each. */
const DESTROY_WRITES: Readonly<Record<string, number>> = {
  "apigatewayv2.DeleteApi": 1,
  "apigatewayv2.DeleteIntegration": 4,
  "apigatewayv2.DeleteRoute": 5,
  "apigatewayv2.DeleteStage": 1,
  "iam.DeleteRole": 5,
  "iam.DeleteRolePolicy": 5,
  "lambda.DeleteFunction": 5,
  "lambda.RemovePermission": 4,
  "logs.DeleteLogGroup": 5,
};

/** What destroy leaves: the table, kept because the spec says onDestroy: retain. */
function leftAfterDestroy() {
  return { ...emptyInventory(), tables: chatStackInventory().tables };
}

async function applied(cloud: TestCloud): Promise<void> {
  const { result } = await runCore(cloud, SPEC, "apply");
  expect(result.ok).toBe(true);
}

async function expectDestroyConverges(cloud: TestCloud): Promise<void> {
  cloud.setBeforeCall(undefined);
  expect(await rerunErrors(cloud, SPEC, "destroy")).toEqual([]);
  expect(pendingChanges(await planNow(cloud, SPEC, "destroy"))).toEqual([]);
  expect(await inventory(cloud)).toEqual(leftAfterDestroy());
}

describe("destroy of specs/chat.yaml with one call failed", () => {
  beforeAll(async () => {
    await withCloud(async (cloud) => {
      await planNow(cloud, SPEC, "apply");
      await planNow(cloud, SPEC, "destroy");
    });
  });

  it("makes exactly these write calls when nothing fails, and keeps the table", async () => {
    await withCloud(async (cloud) => {
      await applied(cloud);
      const rec = recording();
      cloud.setBeforeCall(rec.hook);
      const run = await runCli(["destroy", "-f", SPEC, "--endpoint-url", cloud.url, "--auto-approve"]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/dynamodb\.table my-chat-connections kept: onDestroy is retain/);
      expect(writeTally(rec.calls)).toEqual(DESTROY_WRITES);
      cloud.setBeforeCall(undefined);
      expect(await inventory(cloud)).toEqual(leftAfterDestroy());
    });
  });

  describe.each(Object.keys(DESTROY_WRITES).map((key) => ({ key })))("$key", ({ key }) => {
    it("throttled: retried, and the destroy finishes", async () => {
      await withCloud(async (cloud) => {
        await applied(cloud);
        const fault = faultAt(cloud, targetOf(key), { type: "throttle", times: 1 });
        cloud.setBeforeCall(fault.hook);
        const { result } = await runCore(cloud, SPEC, "destroy", { sdkMaxAttempts: 1 });
        expect(fault.fired()).toBe(1);
        expect(result.ok).toBe(true);
        await expectDestroyConverges(cloud);
      });
    });

    it("denied: the destroy stops with a summary, and the next one finishes", async () => {
      await withCloud(async (cloud) => {
        await applied(cloud);
        const fault = faultAt(cloud, targetOf(key), { type: "deny" });
        cloud.setBeforeCall(fault.hook);
        const { result } = await runCore(cloud, SPEC, "destroy");
        expect(fault.fired()).toBe(1);
        expect(result.ok).toBe(false);
        expect(summarizeApply(result)).toMatch(/^Destroy failed \(1 failed(, \d+ skipped)?\): done \d+ deleted; not done: /);
        await expectDestroyConverges(cloud);
      });
    });

    it("answer lost after the delete took effect: the retry finds it gone and the destroy finishes", async () => {
      await withCloud(async (cloud) => {
        await applied(cloud);
        const fault = faultAt(cloud, targetOf(key), { type: "drop-after" });
        cloud.setBeforeCall(fault.hook);
        const { result } = await runCore(cloud, SPEC, "destroy");
        expect(fault.fired()).toBe(1);
        expect(result.errors.map((e) => e.message)).toEqual([]);
        await expectDestroyConverges(cloud);
      });
    });
  });

  it("through the CLI, denied: exit 1 with the summary and no stack trace; running destroy again finishes", async () => {
    await withCloud(async (cloud) => {
      await applied(cloud);
      const fault = faultAt(cloud, targetOf("lambda.DeleteFunction", 3), { type: "deny" });
      cloud.setBeforeCall(fault.hook);
      const run = await runCli(["destroy", "-f", SPEC, "--endpoint-url", cloud.url, "--auto-approve"]);
      expect(run.stdout + run.stderr).not.toMatch(STACK_TRACE);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/✗ lambda\.function my-chat-\w+ failed: AccessDeniedException/);
      expect(run.stdout).toMatch(/Destroy failed \(1 failed, \d+ skipped\)/);
      expect(run.stderr).toMatch(/Run the same command again to finish/);
      cloud.setBeforeCall(undefined);
      const again = await runCli(["destroy", "-f", SPEC, "--endpoint-url", cloud.url, "--auto-approve"]);
      expect(again.code, again.stdout + again.stderr).toBe(0);
      expect(again.stdout).toMatch(/Destroy complete/);
      expect(await inventory(cloud)).toEqual(leftAfterDestroy());
      const third = await runCli(["destroy", "-f", SPEC, "--endpoint-url", cloud.url, "--auto-approve"]);
      expect(third.code).toBe(0);
    });
  });
});
