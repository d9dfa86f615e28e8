import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCli, type TestCloud } from "../support/cloud.js";
import { freshCloud } from "../support/reliability.js";

// Access logs need API Gateway's account-wide CloudWatch Logs role. The plan says so only
// while none is set; `apply --set-cloudwatch-role` sets one; one already set is never replaced.

let cloud: TestCloud;
let dir: string;
let spec: string;
let plainSpec: string;

beforeAll(async () => {
  cloud = await freshCloud();
  dir = mkdtempSync(join(tmpdir(), "chatctl-cwrole-"));
  writeFileSync(join(dir, "echo.ts"), "export const handler = async () => ({ statusCode: 200 });\n");
  spec = join(dir, "logged.yaml");
  writeFileSync(spec, ["stack: logged", "api:", "  accessLog: true", "routes:", "  $default: echo", "functions:", "  echo:", "    handler: ./echo.ts", ""].join("\n"));
  plainSpec = join(dir, "plain.yaml");
  writeFileSync(plainSpec, ["stack: plain", "routes:", "  $default: echo", "functions:", "  echo:", "    handler: ./echo.ts", ""].join("\n"));
});
afterAll(async () => {
  await cloud?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const NOTE = "Note on access logs:";
const account = () => cloud.models.apigateway.dispatch("GetAccount", {});
const endpoint = () => ["--endpoint-url", cloud.url];

async function setRoleBy(name: string): Promise<string> {
  const trust = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "apigateway.amazonaws.com" }, Action: "sts:AssumeRole" }] });
  const made = await cloud.models.iam.dispatch("CreateRole", { RoleName: name, AssumeRolePolicyDocument: trust });
  const arn = (made.Role as { Arn: string }).Arn;
  await cloud.models.apigateway.dispatch("UpdateAccount", { patchOperations: [{ op: "replace", path: "/cloudwatchRoleArn", value: arn }] });
  return arn;
}

describe("the CloudWatch Logs role of access logs", () => {
  beforeEach(async () => {
    await cloud.models.apigateway.dispatch("UpdateAccount", { patchOperations: [{ op: "remove", path: "/cloudwatchRoleArn" }] });
  });

  it("is explained by the plan, text and JSON, only while the account has none", async () => {
    const text = await runCli(["plan", "-f", spec, ...endpoint()]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(NOTE);
    expect(text.stdout).toContain("account-wide");
    expect(text.stdout).toContain("--set-cloudwatch-role");
    const json = await runCli(["plan", "-f", spec, "--json", ...endpoint()]);
    const notices = (JSON.parse(json.stdout) as { notices: { id: string; message: string }[] }).notices;
    expect(notices.map((n) => n.id)).toEqual(["apigateway-cloudwatch-role-missing"]);

    await setRoleBy("someone-elses-logs-role");
    const after = await runCli(["plan", "-f", spec, ...endpoint()]);
    expect(after.stdout).not.toContain(NOTE);
    expect((JSON.parse((await runCli(["plan", "-f", spec, "--json", ...endpoint()])).stdout) as { notices: unknown[] }).notices).toEqual([]);
  });

  it("is not read when no stage writes access logs", async () => {
    const before = cloud.calls().filter((c) => c.service === "apigateway").length;
    const run = await runCli(["plan", "-f", plainSpec, ...endpoint()]);
    expect(run.stdout).not.toContain(NOTE);
    expect(cloud.calls().filter((c) => c.service === "apigateway").length).toBe(before);
  });

  it("is left unset by apply without the flag, which says how to set it", async () => {
    const run = await runCli(["apply", "-f", spec, "--auto-approve", ...endpoint()]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("Access logs will not be written");
    expect(run.stderr).toContain("--set-cloudwatch-role");
    expect((await account()).cloudwatchRoleArn).toBeUndefined();
  });

  it("is set by apply --set-cloudwatch-role, and the next plan has no note", async () => {
    const run = await runCli(["apply", "-f", spec, "--auto-approve", "--set-cloudwatch-role", ...endpoint()]);
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain("Access logs will not be written");
    const arn = (await account()).cloudwatchRoleArn;
    expect(arn).toMatch(/:role\/chatctl-apigateway-cloudwatch$/);
    const attached = await cloud.models.iam.dispatch("ListAttachedRolePolicies", { RoleName: "chatctl-apigateway-cloudwatch" });
    expect(attached.AttachedPolicies).toEqual([
      { PolicyArn: "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs", PolicyName: "AmazonAPIGatewayPushToCloudWatchLogs" },
    ]);
    const next = await runCli(["plan", "-f", spec, ...endpoint()]);
    expect(next.stdout).not.toContain(NOTE);

    // Destroy leaves the account-wide setting as it is.
    expect((await runCli(["destroy", "-f", spec, "--auto-approve", ...endpoint()])).code).toBe(0);
    expect((await account()).cloudwatchRoleArn).toBe(arn);
  });

  it("is never replaced when one is already set", async () => {
    const theirs = await setRoleBy("already-there");
    const updates = () => cloud.calls().filter((c) => c.service === "apigateway" && c.operation === "UpdateAccount").length;
    const before = updates();
    const run = await runCli(["deploy", "-f", spec, "--auto-approve", "--set-cloudwatch-role", ...endpoint()]);
    expect(run.code).toBe(0);
    expect((await account()).cloudwatchRoleArn).toBe(theirs);
    expect(updates()).toBe(before);
  });
});
