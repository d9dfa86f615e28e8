import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { summarizeApply } from "../../src/apply/progress.js";
import type { TestCloud } from "../support/cloud.js";
import {
  chatStackInventory,
  dynamo,
  faultAt,
  inventory,
  pendingChanges,
  planNow,
  recording,
  rerunErrors,
  runCore,
  targetOf,
  tempProject,
  withCloud,
  writeTally,
} from "../support/reliability.js";

// One update that changes a route's target, a function's code and a table's
// TTL attribute at once, with each of its writes failed in turn.

const before = tempProject();
const after = tempProject();
after.edit("specs/chat.yaml", (t) =>
  t.replace("  sendmessage: sendmessage\n  join: sendmessage\n", "  sendmessage: default\n  join: default\n").replace("ttlAttribute: expiresAt", "ttlAttribute: expiresAtEpoch"),
);
after.edit("handlers/default.ts", (t) => `${t}\nexport const revision = "update-under-faults";\n`);
const BEFORE = before.spec("chat.yaml");
const AFTER = after.spec("chat.yaml");

afterAll(() => {
  before.remove();
  after.remove();
});

/** Distinct write operations of the update, and how many calls of each. */
const UPDATE_WRITES: Readonly<Record<string, number>> = {
  "apigatewayv2.CreateDeployment": 1,
  "apigatewayv2.DeleteIntegration": 1, // sendmessage's, which no route uses any more
  "apigatewayv2.UpdateRoute": 2, // sendmessage and join, both moved to default
  "dynamodb.UpdateTimeToLive": 2,
  "lambda.UpdateFunctionCode": 1,
};

/** The stack once, less sendmessage's integration (no route uses it any more). */
function updatedInventory() {
  const inv = chatStackInventory();
  return { ...inv, integrations: inv.integrations.filter((i) => !i.includes("function:my-chat-sendmessage/")) };
}

async function stackBefore(cloud: TestCloud): Promise<void> {
  const { result } = await runCore(cloud, BEFORE, "apply");
  expect(result.errors.map((e) => e.message)).toEqual([]);
}

/** The update is fully there, and the stack exists once. */
async function expectUpdated(cloud: TestCloud): Promise<void> {
  cloud.setBeforeCall(undefined);
  expect(await rerunErrors(cloud, AFTER, "apply")).toEqual([]);
  expect(pendingChanges(await planNow(cloud, AFTER))).toEqual([]);
  expect(await inventory(cloud)).toEqual(updatedInventory());

  const gw = cloud.models.apigatewayv2;
  const api = ((await gw.peek("GetApis", {})) as { Items: Array<{ ApiId: string }> }).Items[0]!;
  const routes = ((await gw.peek("GetRoutes", { ApiId: api.ApiId })) as { Items: Array<{ RouteKey: string; Target: string }> }).Items;
  const integrations = ((await gw.peek("GetIntegrations", { ApiId: api.ApiId })) as { Items: Array<{ IntegrationId: string; IntegrationUri: string }> }).Items;
  const send = routes.find((r) => r.RouteKey === "sendmessage")!;
  const target = integrations.find((i) => send.Target === `integrations/${i.IntegrationId}`);
  expect(target?.IntegrationUri).toMatch(/function:my-chat-default\/invocations$/);

  const ttl = (await dynamo(cloud, "DescribeTimeToLive", { TableName: "my-chat-connections" })) as {
    TimeToLiveDescription: { TimeToLiveStatus: string; AttributeName?: string };
  };
  expect(ttl.TimeToLiveDescription).toMatchObject({ TimeToLiveStatus: "ENABLED", AttributeName: "expiresAtEpoch" });
}

describe("an update (route target, function code, table TTL) with one call failed", () => {
  beforeAll(async () => {
    await withCloud(async (cloud) => {
      await planNow(cloud, BEFORE);
      await planNow(cloud, AFTER);
    });
  });

  it("makes exactly these write calls when nothing fails", async () => {
    await withCloud(async (cloud) => {
      await stackBefore(cloud);
      const plan = await planNow(cloud, AFTER);
      expect(pendingChanges(plan)).toEqual(
        expect.arrayContaining(["update apigw.route sendmessage", "update lambda.function my-chat-default", "update dynamodb.table my-chat-connections"]),
      );
      const rec = recording();
      cloud.setBeforeCall(rec.hook);
      const { result } = await runCore(cloud, AFTER, "apply");
      expect(result.ok).toBe(true);
      expect(writeTally(rec.calls)).toEqual(UPDATE_WRITES);
      await expectUpdated(cloud);
    });
  });

  const positions = Object.entries(UPDATE_WRITES).flatMap(([key, n]) => Array.from({ length: n }, (_, i) => ({ key, nth: i + 1 })));
  describe.each(positions)("$key (call $nth)", ({ key, nth }) => {
    // A retried update starts from the plan's view: when the TTL "enable" is throttled, the
    // retry's "disable" meets "already disabled", which must count as done.
    it("throttled: retried, and the update lands", async () => {
      await withCloud(async (cloud) => {
        await stackBefore(cloud);
        const fault = faultAt(cloud, targetOf(key, nth), { type: "throttle", times: 1 });
        cloud.setBeforeCall(fault.hook);
        const { result } = await runCore(cloud, AFTER, "apply", { sdkMaxAttempts: 1 });
        expect(fault.fired()).toBe(1);
        expect(result.errors.map((e) => e.message)).toEqual([]);
        await expectUpdated(cloud);
      });
    });

    it("denied: the apply stops with a summary, and the next one lands the update", async () => {
      await withCloud(async (cloud) => {
        await stackBefore(cloud);
        const fault = faultAt(cloud, targetOf(key, nth), { type: "deny" });
        cloud.setBeforeCall(fault.hook);
        const { result } = await runCore(cloud, AFTER, "apply");
        expect(fault.fired()).toBe(1);
        expect(result.ok).toBe(false);
        expect(summarizeApply(result)).toMatch(/^Apply failed \(1 failed(, \d+ skipped)?\)/);
        await expectUpdated(cloud);
      });
    });

    it("answer lost after the call took effect: the update lands once", async () => {
      await withCloud(async (cloud) => {
        await stackBefore(cloud);
        const fault = faultAt(cloud, targetOf(key, nth), { type: "drop-after" });
        cloud.setBeforeCall(fault.hook);
        await runCore(cloud, AFTER, "apply");
        expect(fault.fired()).toBe(1);
        await expectUpdated(cloud);
      });
    });
  });
});
