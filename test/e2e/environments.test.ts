import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { GetFunctionConfigurationCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { describe, expect, it } from "vitest";
import { LOCAL_CREDENTIALS } from "../../src/local/endpoint.js";
import { runCli } from "../support/cloud.js";
import { useProjectCloud } from "../support/project-cloud.js";

// One spec, several environments: each its own stack, side by side in one account.

const env = useProjectCloud("envs");

const SPEC = [
  "stack: my-chat",
  "routes:",
  "  $default: default",
  "functions:",
  "  default:",
  "    handler: ../../handlers/default.ts",
  "environments:",
  "  staging:",
  "    functions: { default: { memory: 512 } }",
  "  prod:",
  '    account: "123456789012"',
  "    tags: { tier: prod }",
].join("\n");

function writeSpec(name: string, text: string): string {
  const file = join(env.dir, name);
  writeFileSync(file, `${text}\n`);
  return file;
}

describe("environments", () => {
  it("applies two environments side by side, with their own names and settings", async () => {
    const file = writeSpec("chat.yaml", SPEC.replace('    account: "123456789012"\n', ""));
    const staging = await runCli(["apply", "-f", file, "--env", "staging", ...env.at, "--auto-approve"]);
    expect(staging.code, staging.stderr).toBe(0);
    expect(staging.stdout).toMatch(/on stack my-chat-staging \(environment staging, account 000000000000, ap-northeast-1\)/);
    const prod = await runCli(["apply", "-f", file, "--env", "prod", ...env.at, "--auto-approve"]);
    expect(prod.code, prod.stderr).toBe(0);

    const lambda = new LambdaClient({ endpoint: env.cloud.url, region: "ap-northeast-1", credentials: LOCAL_CREDENTIALS });
    const memory = async (name: string) => (await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }))).MemorySize;
    expect(await memory("my-chat-staging-default")).toBe(512);
    expect(await memory("my-chat-prod-default")).toBe(256);

    // Each has its own lock and state: planning one does not see the other.
    const again = await runCli(["plan", "-f", file, "--env", "staging", ...env.at]);
    expect(again.stdout).toMatch(/No changes\. Stack my-chat-staging \(environment staging/);
  });

  it("prints the outputs of an environment, as text and as JSON", async () => {
    const file = join(env.dir, "chat.yaml"); // applied by the test above
    const json = await runCli(["outputs", "-f", file, "--env", "staging", ...env.at, "--json"]);
    expect(json.code, json.stderr).toBe(0);
    const o = JSON.parse(json.stdout) as Record<string, unknown> & { url: string; apiId: string; functions: Record<string, { name: string; arn: string }> };
    expect(o).toMatchObject({ stack: "my-chat-staging", environment: "staging", region: "ap-northeast-1", accountId: "000000000000", stage: "prod", tables: {} });
    expect(o.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/.*prod$/);
    expect(o.managementEndpoint).toBe(o.url.replace(/^ws:/, "http:"));
    expect(o.functions.default).toEqual({ name: "my-chat-staging-default", arn: "arn:aws:lambda:ap-northeast-1:000000000000:function:my-chat-staging-default" });

    const text = await runCli(["outputs", "-f", file, "--env", "staging", ...env.at]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`WebSocket URL        ${o.url}`);
    expect(text.stdout).toContain(`API id               ${o.apiId}`);
    expect(text.stdout).toMatch(/function default +my-chat-staging-default +arn:aws:lambda:/);

    const status = await runCli(["status", "-f", file, "--env", "staging", ...env.at, "--json"]);
    expect((JSON.parse(status.stdout) as { outputs: unknown }).outputs).toEqual(o);
  });

  it("says which environments exist when none is chosen", async () => {
    const file = writeSpec("pick.yaml", SPEC);
    const r = await runCli(["plan", "-f", file, ...env.at]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/defines environments staging, prod; choose one with --env NAME \(or CHATCTL_ENV\)/);
    const unknown = await runCli(["plan", "-f", file, "--env", "qa", ...env.at]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no environment "qa"; environments: staging, prod/);
  });

  it("refuses an environment pinned to another account before reading anything", async () => {
    const file = writeSpec("pinned.yaml", SPEC);
    const r = await runCli(["apply", "-f", file, "--env", "prod", ...env.at, "--auto-approve"]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      "error: environment prod belongs to account 123456789012, but these credentials are for account 000000000000; nothing was read or changed",
    );
    expect(r.stdout).toBe("");
  });

  it("points at the override's line when an override is wrong", async () => {
    const file = writeSpec(
      "bad.yaml",
      [
        ...SPEC.split("\n").slice(0, 7),
        "  staging:",
        "    routes: { $connect: default }",
        "    functions:",
        "      default: { memory: 64 }",
        "      missing: { memory: 512 }",
      ].join("\n"),
    );
    const r = await runCli(["plan", "-f", file, "--env", "staging", ...env.at]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.yaml:9:5: .*routes/);
    expect(r.stderr).toMatch(/bad\.yaml:11:\d+: .*memory/);
    expect(r.stderr).toMatch(/bad\.yaml:12:7: .*"missing" is not defined at the top level/);
  });

  it("apply --json and destroy --json stream one JSON event per line", async () => {
    const file = writeSpec("json.yaml", SPEC.replace("stack: my-chat", "stack: json-chat"));
    const run = await runCli(["apply", "-f", file, "--env", "staging", ...env.at, "--auto-approve", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const events = run.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as { version: string; type: string; step?: { id: string }; outcome?: string; [k: string]: unknown });
    expect(new Set(events.map((e) => e.version))).toEqual(new Set(["1.0"]));
    expect(events[0]).toMatchObject({ type: "plan", stack: "json-chat-staging", environment: "staging", account_id: "000000000000" });
    const fn = events.filter((e) => e.step?.id === "function.default").map((e) => `${e.type}${e.outcome ? ` ${e.outcome}` : ""}`);
    expect(fn).toEqual(["started", "finished created"]);
    const summary = events.at(-1);
    expect(summary).toMatchObject({ type: "summary", ok: true, exit_code: 0, mode: "apply" });
    expect(String(summary?.url)).toMatch(/^ws:\/\//);

    const destroyed = await runCli(["destroy", "-f", file, "--env", "staging", ...env.at, "--auto-approve", "--json"]);
    expect(destroyed.code, destroyed.stderr).toBe(0);
    const last = JSON.parse(destroyed.stdout.trimEnd().split("\n").at(-1) ?? "{}") as Record<string, unknown>;
    expect(last).toMatchObject({ type: "summary", mode: "destroy", ok: true });

    const unasked = await runCli(["apply", "-f", file, "--env", "staging", ...env.at, "--json"]);
    expect(unasked.code).toBe(1);
    expect(unasked.stderr).toMatch(/--json needs --auto-approve/);
  });
});
