import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, type CliRun, type TestCloud } from "../support/cloud.js";
import { freshCloud, STACK_TRACE, tempProject } from "../support/reliability.js";

// A user's mistakes, tried as a hostile user would: one clear message that
// names the place (file:line:col), exit 1, no stack trace, and not a single
// AWS call before the mistake is found.

let cloud: TestCloud;
const project = tempProject();
beforeAll(async () => {
  cloud = await freshCloud();
});
afterAll(async () => {
  await cloud?.stop();
  project.remove();
});

function specFile(name: string, text: string): string {
  const file = join(project.dir, "specs", name);
  writeFileSync(file, text);
  return file;
}

/** Runs a command that must be refused before any AWS call. */
async function refusedOffline(argv: string[]): Promise<CliRun> {
  const before = cloud.calls().length;
  const run = await runCli([...argv, "--endpoint-url", cloud.url]);
  expect(cloud.calls().slice(before)).toEqual([]);
  expect(run.code).toBe(1);
  expect(run.stdout + run.stderr).not.toMatch(STACK_TRACE);
  expect(run.stdout + run.stderr).not.toContain("    at ");
  return run;
}

const VALID = `stack: my-chat
routes:
  $default: default
functions:
  default:
    handler: ../handlers/default.ts
`;

describe("a spec with a mistake is refused before any AWS call", () => {
  it.each([["plan"], ["apply", "--auto-approve"]])("malformed YAML (%s)", async (...command) => {
    const file = specFile("malformed.yaml", "stack: my-chat\nroutes: [\n  $default: default\n");
    const run = await refusedOffline([...command, "-f", file]);
    expect(run.stderr).toMatch(new RegExp(`^${escape(file)}:\\d+:\\d+: error: `, "m"));
  });

  it("an unknown key: named with its place and the keys allowed there", async () => {
    const file = specFile("unknown-key.yaml", VALID.replace("    handler:", "    colour: blue\n    handler:"));
    const run = await refusedOffline(["plan", "-f", file]);
    expect(run.stderr).toContain(`${file}:6:5: error: functions.default: unknown key "colour"`);
    expect(run.stderr).toMatch(/allowed keys in functions\.default: .*handler/);
  });

  it("a value of the wrong type", async () => {
    const file = specFile("wrong-type.yaml", `${VALID}    memory: lots\n`);
    const run = await refusedOffline(["plan", "-f", file]);
    expect(run.stderr).toMatch(new RegExp(`${escape(file)}:7:13: error: functions\\.default\\.memory: .*"lots"`));
  });

  it("a stack name AWS would reject", async () => {
    const file = specFile("bad-name.yaml", VALID.replace("stack: my-chat", "stack: my chat!"));
    const run = await refusedOffline(["apply", "-f", file, "--auto-approve"]);
    expect(run.stderr).toMatch(new RegExp(`${escape(file)}:1:8: error: stack: `));
  });

  it("every problem at once, each with its own place", async () => {
    const file = specFile("many.yaml", `${VALID.replace("stack: my-chat", "stack: my chat!")}    memory: lots\n    colour: blue\n`);
    const run = await refusedOffline(["plan", "-f", file]);
    const places = run.stderr.match(new RegExp(`^${escape(file)}:\\d+:\\d+: error: `, "gm")) ?? [];
    expect(places.length).toBeGreaterThanOrEqual(3);
  });

  it("a handler file that does not exist: the spec's line, and where it looked", async () => {
    const file = specFile("missing-handler.yaml", VALID.replace("../handlers/default.ts", "../handlers/nope.ts"));
    const run = await refusedOffline(["apply", "-f", file, "--auto-approve"]);
    expect(run.stderr).toContain(`${file}:6:14: error: functions.default.handler: handler file not found: ../handlers/nope.ts`);
    expect(run.stderr).toContain(join(project.dir, "handlers", "nope.ts"));
  });

  it("a handler that does not compile: the handler's file:line:col, and nothing changed", async () => {
    writeFileSync(join(project.dir, "handlers", "broken.ts"), 'export const handler = async () => {\n  return { statusCode: 200 ;\n};\n');
    const file = specFile("broken-handler.yaml", VALID.replace("../handlers/default.ts", "../handlers/broken.ts"));
    const run = await refusedOffline(["apply", "-f", file, "--auto-approve"]);
    expect(run.stderr).toMatch(/^[^\n]*handlers\/broken\.ts:2:\d+: error: /); // the compiler's line first, said once
    expect(run.stderr).not.toMatch(/error: [^\n]*error: /);
    expect(run.stderr).toMatch(/\nNothing was changed: fix the code above and run again\.\n$/);
  });

  it("status with a handler that does not compile: warns that code drift goes unchecked, and shows the rest", async () => {
    writeFileSync(join(project.dir, "handlers", "broken.ts"), 'export const handler = async () => {\n  return { statusCode: 200 ;\n};\n');
    const file = specFile("broken-status.yaml", VALID.replace("stack: my-chat", "stack: broken-status").replace("../handlers/default.ts", "../handlers/broken.ts"));
    const run = await runCli(["status", "-f", file, "--endpoint-url", cloud.url]);
    expect(run.stderr).toMatch(/^warning: a handler does not compile, so code drift is not checked:\n[^\n]*handlers\/broken\.ts:2:\d+: error: [^\n]*\n$/);
    expect(run.stdout).toMatch(/^Stack broken-status in \S+\n\nKIND +NAME +STATE +DETAIL\n/);
    expect(run.stdout).toContain("WebSocket URL: (not deployed yet: run chatctl apply)");
    expect(run.code).toBe(2); // nothing of it exists yet
  });

  it("a broken module four handlers import is printed once, naming the functions; a handler without a handler export is named by path", async () => {
    writeFileSync(join(project.dir, "handlers", "shared-broken.ts"), "export const greet = (: string) => 1;\n");
    for (const n of ["a", "b", "c", "d"]) writeFileSync(join(project.dir, "handlers", `uses-${n}.ts`), 'import { greet } from "./shared-broken.js";\nexport const handler = async () => greet();\n');
    const fns = ["a", "b", "c", "d"].map((n) => `  f${n}:\n    handler: ../handlers/uses-${n}.ts\n`).join("");
    const file = specFile("shared-broken.yaml", `stack: my-chat\nroutes:\n  $default: fa\nfunctions:\n${fns}`);
    const run = await refusedOffline(["plan", "-f", file]);
    const lines = run.stderr.split("\n").filter((l) => l.includes("shared-broken.ts:1:"));
    expect(lines).toEqual([expect.stringMatching(/\(in 4 functions: fa, fb, fc, fd\)$/)]);

    writeFileSync(join(project.dir, "handlers", "no-export.cjs"), "module.exports.main = async () => 1;\n");
    const noExport = await refusedOffline(["plan", "-f", specFile("no-export.yaml", VALID.replace("../handlers/default.ts", "../handlers/no-export.cjs"))]);
    expect(noExport.stderr).toMatch(/handlers\/no-export\.cjs: error: no `handler` export/);
  });

  it("a spec file that is not there", async () => {
    const run = await refusedOffline(["plan", "-f", join(project.dir, "specs", "absent.yaml")]);
    expect(run.stderr).toMatch(/absent\.yaml/);
  });

  it("a YAML bomb (aliases expanding without bound) is refused, not expanded", async () => {
    const lines = ["stack: my-chat", "a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 12; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(", ")}]`);
    const file = specFile("bomb.yaml", `${lines.join("\n")}\n`);
    const run = await refusedOffline(["plan", "-f", file]);
    expect(run.stderr).toMatch(new RegExp(`${escape(file)}:\\d+:\\d+: error: `));
  });
});

describe("apply refuses what it cannot do safely", () => {
  it("with no terminal and no --auto-approve: says how to proceed, changes nothing", async () => {
    const before = cloud.calls().length;
    const run = await runCli(["apply", "-f", "specs/minimal.yaml", "--endpoint-url", cloud.url]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/no terminal to ask for confirmation; pass --auto-approve/);
    expect(run.stdout + run.stderr).not.toMatch(STACK_TRACE);
    const writes = cloud
      .calls()
      .slice(before)
      .filter((c) => /^(Create|Update|Delete|Put|Add|Remove|Tag|Untag)/.test(c.operation) && !(c.service === "dynamodb" && /Item$|^CreateTable$/.test(c.operation)));
    expect(writes).toEqual([]);
  });

  it("a saved plan made stale by a change in the account", async () => {
    const planFile = join(project.dir, "stale-account.plan.json");
    const saved = await runCli(["plan", "-f", "specs/minimal.yaml", "--endpoint-url", cloud.url, "--out", planFile]);
    expect(saved.code, saved.stderr).toBe(0);
    // Someone else gets there first.
    const first = await runCli(["apply", "-f", "specs/minimal.yaml", "--endpoint-url", cloud.url, "--auto-approve"]);
    expect(first.code, first.stderr).toBe(0);
    const before = cloud.calls().length;
    const run = await runCli(["apply", planFile, "--endpoint-url", cloud.url]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/the saved plan .*stale-account\.plan\.json is stale: the stack changed in the account since it was made/);
    expect(run.stdout + run.stderr).not.toMatch(STACK_TRACE);
    const writes = cloud.calls().slice(before).filter((c) => /^(Create|Update|Delete|Put|Add|Remove)/.test(c.operation) && c.service !== "dynamodb");
    expect(writes).toEqual([]);
  });

  it("a saved plan made stale by an edit of the spec", async () => {
    const spec = specFile("edited.yaml", VALID.replace("stack: my-chat", "stack: edited-chat"));
    const planFile = join(project.dir, "stale-spec.plan.json");
    expect((await runCli(["plan", "-f", spec, "--endpoint-url", cloud.url, "--out", planFile])).code).toBe(0);
    writeFileSync(spec, `${readFileSync(spec, "utf8")}    memory: 512\n`);
    const run = await runCli(["apply", planFile, "--endpoint-url", cloud.url]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/is stale: .*edited\.yaml or a handler changed since it was made/);
    expect(cloud.models.lambda.functionNames().filter((n) => n.startsWith("edited-chat"))).toEqual([]);
  });

  it.each([
    ["not JSON", "{ this is not json"],
    ["cut short", null],
    ["edited by hand", "edit"],
    ["another program's JSON", '{"hello": "world"}'],
  ])("a corrupted plan file (%s): a clear error", async (_what, content) => {
    const planFile = join(project.dir, "corrupt.plan.json");
    const spec = specFile("never-applied.yaml", VALID.replace("stack: my-chat", "stack: never-applied"));
    expect((await runCli(["plan", "-f", spec, "--endpoint-url", cloud.url, "--out", planFile])).code).toBe(0);
    const good = readFileSync(planFile, "utf8");
    expect(good).toContain('"action": "create"');
    const text = content === null ? good.slice(0, Math.floor(good.length / 2)) : content === "edit" ? good.replace('"action": "create"', '"action": "delete"') : content;
    writeFileSync(planFile, text);
    const before = cloud.calls().length;
    const run = await runCli(["apply", planFile, "--endpoint-url", cloud.url]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: .*corrupt\.plan\.json/m);
    expect(run.stdout + run.stderr).not.toMatch(STACK_TRACE);
    expect(cloud.calls().slice(before)).toEqual([]);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
