import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFunction, defaultRoleName, loadCode, updateFunctionCode } from "../../src/ops/lambda.js";
import { accountId, clientsOn, makeModels, noSleep, region, tinyZip } from "./world.js";

let dir: string;
let zipPath: string;
let entryPath: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "chatctl-ops-lambda-"));
  zipPath = join(dir, "func.zip");
  await writeFile(zipPath, tinyZip());
  entryPath = join(dir, "handler.ts");
  await writeFile(entryPath, "export const handler = async (event: unknown): Promise<{ statusCode: number }> => ({ statusCode: event ? 200 : 400 });\n");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("lambda-create's role names", () => {
  it("keep short names whole and give long ones a hash suffix, so two functions sharing 56 characters get two roles", async () => {
    expect(defaultRoleName("connect-handler")).toBe("chatctl-connect-handler");
    const head = "a".repeat(56);
    const one = defaultRoleName(`${head}-one`);
    const two = defaultRoleName(`${head}-two`);
    expect(one).toHaveLength(64);
    expect(two).toHaveLength(64);
    expect(one).not.toBe(two);
    expect(one.startsWith(`chatctl-${head.slice(0, 47)}`)).toBe(true);

    const models = makeModels();
    const clients = await clientsOn(models);
    for (const name of [`${head}-one`, `${head}-two`]) {
      await createFunction(clients, { name, code: await loadCode(zipPath), handler: "index.handler", runtime: "nodejs22.x", sleep: noSleep });
    }
    for (const [name, role] of [[`${head}-one`, one], [`${head}-two`, two]] as const) {
      const policy = await models.iam.dispatch("GetRolePolicy", { RoleName: role, PolicyName: "chatctl" });
      expect(decodeURIComponent(String(policy.PolicyDocument))).toContain(`log-group:/aws/lambda/${name}:*`);
    }
  });
});

describe("lambda-create", () => {
  it("creates a logs-only role under /chatctl/ with no stack tag, then the function", async () => {
    const models = makeModels();
    const clients = await clientsOn(models);
    const created = await createFunction(clients, { name: "connect-handler", code: await loadCode(zipPath), handler: "index.handler", runtime: "nodejs22.x", sleep: noSleep });
    expect(created).toMatchObject({
      functionName: "connect-handler",
      functionArn: `arn:aws:lambda:${region}:${accountId}:function:connect-handler`,
      roleArn: `arn:aws:iam::${accountId}:role/chatctl/chatctl-connect-handler`,
      roleCreated: true,
      state: "Active",
    });
    const role = await models.iam.dispatch("GetRole", { RoleName: "chatctl-connect-handler" });
    expect((role.Role as { Tags?: unknown }).Tags).toBeUndefined();
    const policy = await models.iam.dispatch("GetRolePolicy", { RoleName: "chatctl-connect-handler", PolicyName: "chatctl" });
    const doc = decodeURIComponent(String(policy.PolicyDocument));
    expect(doc).toContain("logs:PutLogEvents");
    expect(doc).toContain("log-group:/aws/lambda/connect-handler:*");
    expect((await models.lambda.dispatch("ListTags", { Resource: created.functionArn })).Tags).toEqual({});
  });

  it("waits out IAM propagation of the new role, retrying with backoff", async () => {
    const models = makeModels({ rolePropagationMs: 40 });
    const clients = await clientsOn(models);
    const waits: number[] = [];
    const progress: string[] = [];
    const created = await createFunction(clients, {
      name: "late-role",
      code: await loadCode(zipPath),
      handler: "index.handler",
      runtime: "nodejs22.x",
      // Backoff delays are seconds on AWS; here a few milliseconds of real time pass per retry.
      sleep: async (ms) => {
        waits.push(ms);
        await new Promise((r) => setTimeout(r, 15));
      },
      onProgress: (m) => progress.push(m),
    });
    expect(created.state).toBe("Active");
    const attempts = models.lambda.calls.filter((c) => c.operation === "CreateFunction").length;
    expect(attempts).toBeGreaterThan(1);
    expect(waits[0]).toBe(1000);
    expect(progress[0]).toContain("waiting for role");
  });

  it("reuses an existing role of that name, or the one given", async () => {
    const models = makeModels();
    const clients = await clientsOn(models);
    await createFunction(clients, { name: "one", code: await loadCode(zipPath), handler: "index.handler", runtime: "nodejs22.x", sleep: noSleep });
    await models.lambda.dispatch("DeleteFunction", { FunctionName: "one" });
    const again = await createFunction(clients, { name: "one", code: await loadCode(zipPath), handler: "index.handler", runtime: "nodejs22.x", sleep: noSleep });
    expect(again.roleCreated).toBe(false);
    const given = await createFunction(clients, {
      name: "two",
      code: await loadCode(zipPath),
      handler: "index.handler",
      runtime: "nodejs22.x",
      roleArn: again.roleArn,
      sleep: noSleep,
    });
    expect(given).toMatchObject({ roleArn: again.roleArn, roleCreated: false });
    expect(defaultRoleName("x".repeat(64))).toHaveLength(64);
  });

  it("bundles a TypeScript entry and runs it as index.handler", async () => {
    const models = makeModels();
    const clients = await clientsOn(models);
    const code = await loadCode(entryPath);
    expect(code.bundledHandler).toBe("index.handler");
    const created = await createFunction(clients, { name: "bundled", code, handler: "-", runtime: "nodejs22.x", sleep: noSleep });
    expect(created.handler).toBe("index.handler");
    await expect(createFunction(clients, { name: "py", code, handler: "-", runtime: "python3.12", sleep: noSleep })).rejects.toThrow("bundled for Node.js");
  });

  it("says clearly when the function exists or the source is not usable", async () => {
    const models = makeModels();
    const clients = await clientsOn(models);
    await createFunction(clients, { name: "dup", code: await loadCode(zipPath), handler: "index.handler", runtime: "nodejs22.x", sleep: noSleep });
    await expect(createFunction(clients, { name: "dup", code: await loadCode(zipPath), handler: "index.handler", runtime: "nodejs22.x", sleep: noSleep })).rejects.toThrow(
      "function dup already exists in ap-northeast-1; update its code with: chatctl lambda-update dup <zip|entry>",
    );
    await expect(loadCode(join(dir, "missing.zip"))).rejects.toThrow("no such file");
    await expect(loadCode(join(dir, "notes.txt"))).rejects.toThrow("is neither a .zip nor a handler entry");
    await writeFile(join(dir, "broken.ts"), "export const handler = (;\n");
    await expect(loadCode(join(dir, "broken.ts"))).rejects.toThrow(/cannot bundle .*broken\.ts:\n.*broken\.ts:1:/);
  });
});

describe("lambda-update", () => {
  it("replaces the code and says when nothing changed", async () => {
    const models = makeModels({ stateTransitionMs: 0 });
    const clients = await clientsOn(models);
    await createFunction(clients, { name: "fn", code: await loadCode(zipPath), handler: "index.handler", runtime: "nodejs22.x", sleep: noSleep });
    const v2 = join(dir, "v2.zip");
    await writeFile(v2, tinyZip("export const handler = async () => ({ statusCode: 204 });"));
    const updated = await updateFunctionCode(clients, "fn", await loadCode(v2), noSleep);
    expect(updated.outcome).toBe("updated");
    expect(updated.codeSha256).not.toBe(updated.previousCodeSha256);
    expect((await updateFunctionCode(clients, "fn", await loadCode(v2), noSleep)).outcome).toBe("unchanged");
  });

  it("warns when a bundle's handler is not the function's", async () => {
    const models = makeModels();
    const clients = await clientsOn(models);
    // The model checks the handler's file is in the zip: app.main needs app.mjs.
    const { strToU8, zipSync } = await import("fflate");
    const appZip = join(dir, "app.zip");
    await writeFile(appZip, zipSync({ "app.mjs": strToU8("export const main = async () => ({});") }));
    await createFunction(clients, { name: "legacy2", code: await loadCode(appZip), handler: "app.main", runtime: "nodejs22.x", sleep: noSleep });
    const updated = await updateFunctionCode(clients, "legacy2", await loadCode(entryPath), noSleep);
    expect(updated.handlerMismatch).toEqual({ function: "app.main", bundle: "index.handler" });
  });

  it("names a missing function and how to create it", async () => {
    const clients = await clientsOn(makeModels());
    await expect(updateFunctionCode(clients, "ghost", await loadCode(zipPath), noSleep)).rejects.toThrow(
      "no function ghost in ap-northeast-1; create it with: chatctl lambda-create ghost <zip|entry> <handler> <runtime>",
    );
  });
});
