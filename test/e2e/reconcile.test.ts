import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, startTestCloud, type TestCloud } from "../support/cloud.js";

let cloud: TestCloud;
beforeAll(async () => {
  cloud = await startTestCloud();
});
afterAll(async () => {
  await cloud?.stop();
});

const WRITE = /^(Create|Update|Delete|Put|Add|Remove|Tag|Untag)/;

describe("the reconciler against the local cloud", () => {
  it("applies specs/chat.yaml from empty, then has nothing to do", async () => {
    const applied = await runCli(["apply", "-f", "specs/chat.yaml", "--endpoint-url", cloud.url, "--auto-approve"]);
    expect(applied.stderr).toBe("");
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/Apply complete: 32 created, 0 updated, 0 replaced, 0 deleted\./);
    expect(applied.stdout).toMatch(/WebSocket URL: ws:\/\/127\.0\.0\.1:\d+\/[a-z0-9]+\/prod/);

    const before = cloud.calls().length;
    const plan = await runCli(["plan", "-f", "specs/chat.yaml", "--endpoint-url", cloud.url, "--detailed-exitcode"]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/No changes\. Your stack matches chat\.yaml\./);

    const again = await runCli(["apply", "-f", "specs/chat.yaml", "--endpoint-url", cloud.url, "--auto-approve"]);
    expect(again.code).toBe(0);
    const writes = cloud
      .calls()
      .slice(before)
      .filter((c) => WRITE.test(c.operation) && !(c.service === "dynamodb" && /Item$/.test(c.operation))); // the stack lock's own item
    expect(writes).toEqual([]);
  });

  it("reports the health of functions, tables and the stage in status", async () => {
    const status = await runCli(["status", "-f", "specs/chat.yaml", "--endpoint-url", cloud.url, "--json"]);
    expect(status.code).toBe(0);
    const components = (JSON.parse(status.stdout) as { components: { kind: string; health?: string }[] }).components;
    const healthOf = (kind: string) => components.filter((c) => c.kind === kind).map((c) => c.health);
    expect(healthOf("lambda.function").length).toBeGreaterThan(0);
    for (const h of healthOf("lambda.function")) expect(h).toBe("Active");
    for (const h of healthOf("dynamodb.table")) expect(h).toMatch(/^ACTIVE, ~\d+ items$/);
    expect(healthOf("apigw.stage")).toEqual([expect.stringMatching(/^deployment \S+/)]);
    // Kinds with nothing to say about health say nothing.
    for (const h of healthOf("apigw.route")) expect(h).toBeUndefined();
  });

  it("repairs a route deleted out of band", async () => {
    const api = (await cloud.models.apigatewayv2.dispatch("GetApis", {})).Items as { ApiId: string; Name: string }[];
    const apiId = api.find((a) => a.Name === "my-chat")!.ApiId;
    const routes = (await cloud.models.apigatewayv2.dispatch("GetRoutes", { ApiId: apiId })).Items as { RouteId: string; RouteKey: string }[];
    const send = routes.find((r) => r.RouteKey === "sendmessage")!;
    await cloud.models.apigatewayv2.dispatch("DeleteRoute", { ApiId: apiId, RouteId: send.RouteId });

    const plan = await runCli(["plan", "-f", "specs/chat.yaml", "--endpoint-url", cloud.url, "--detailed-exitcode"]);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(/\+ create\s+apigw\.route\s+sendmessage/);
    const apply = await runCli(["apply", "-f", "specs/chat.yaml", "--endpoint-url", cloud.url, "--auto-approve"]);
    expect(apply.code).toBe(0);
    const after = await runCli(["plan", "-f", "specs/chat.yaml", "--endpoint-url", cloud.url, "--detailed-exitcode"]);
    expect(after.code).toBe(0);
  });

  it("destroys what the stack owns and leaves the rest alone", async () => {
    // Something of someone else's, with a name that looks like ours.
    await cloud.models.iam.dispatch("CreateRole", {
      RoleName: "my-chat-unrelated",
      AssumeRolePolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [] }),
    });
    const destroyed = await runCli(["destroy", "-f", "specs/chat.yaml", "--endpoint-url", cloud.url, "--auto-approve"]);
    expect(destroyed.code).toBe(0);
    expect(destroyed.stdout).toMatch(/kept|retain/i); // the connections table is kept (onDestroy: retain)
    const roles = ((await cloud.models.iam.dispatch("ListRoles", {})).Roles as { RoleName: string }[]).map((r) => r.RoleName);
    expect(roles).toEqual(["my-chat-unrelated"]);
    expect(cloud.models.lambda.functionNames()).toEqual([]);
    const again = await runCli(["destroy", "-f", "specs/chat.yaml", "--endpoint-url", cloud.url, "--auto-approve"]);
    expect(again.code).toBe(0);
  });
});
