import { writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { runCli } from "../support/cloud.js";
import { useProjectCloud } from "../support/project-cloud.js";

// A stage serves the deployment it points at, as on AWS: these are the faults a
// local cloud that served the API's current routes could not show (issue 11).

const env = useProjectCloud("snapshot");

const handler = (file: string) => relative(env.dir, resolve(file));

/** A stack whose $default answers `unknown action "<x>"` and whose `explode` route always fails. */
function writeSpec(stack: string, opts: { stage?: string; explode: boolean }): string {
  const lines = [
    `stack: ${stack}`,
    "api:",
    `  stage: ${opts.stage ?? "prod"}`,
    "routes:",
    "  $default: default",
    ...(opts.explode ? ["  explode: explode"] : []),
    "functions:",
    "  default:",
    `    handler: ${handler("handlers/default.ts")}`,
    "    manageConnections: true",
    ...(opts.explode ? ["  explode:", `    handler: ${handler("test/fixtures/handlers/explode.ts")}`] : []),
  ];
  const file = join(env.dir, `${stack}-${opts.stage ?? "prod"}-${opts.explode ? "with" : "without"}.yaml`);
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

async function cli(args: string[]): Promise<string> {
  const r = await runCli([...args, ...env.at]);
  if (r.code !== 0) throw new Error(`${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Opens /{stage}, sends one message and returns the first frame that answers it. */
async function answerTo(path: string, message: unknown): Promise<string> {
  const ws = new WebSocket(`${env.cloud.url.replace(/^http/, "ws")}${path}`);
  try {
    await new Promise((ok, fail) => ws.once("open", ok).once("error", fail));
    const frame = new Promise<string>((ok) => ws.once("message", (d: Buffer) => ok(d.toString("utf8"))));
    ws.send(JSON.stringify(message));
    return await frame;
  } finally {
    ws.terminate();
  }
}

async function apiIdOf(name: string): Promise<string> {
  const apis = (await env.cloud.models.apigatewayv2.dispatch("GetApis", {})).Items as Array<{ ApiId: string; Name: string }>;
  return apis.find((a) => a.Name === name)?.ApiId ?? "";
}

describe("a deployment is a snapshot", () => {
  it("drops a route removed from chat.yaml: after one apply it no longer answers, and the next plan has nothing to do", async () => {
    await cli(["apply", "-f", writeSpec("snap-drop", { explode: true }), "--auto-approve"]);
    const apiId = await apiIdOf("snap-drop");
    expect(JSON.parse(await answerTo(`/${apiId}/prod`, { action: "explode" }))).toMatchObject({ message: "Internal server error" });

    const without = writeSpec("snap-drop", { explode: false });
    await cli(["apply", "-f", without, "--auto-approve"]);
    // $default takes it now: the deployed snapshot no longer holds the route.
    expect(JSON.parse(await answerTo(`/${apiId}/prod`, { action: "explode" }))).toMatchObject({ message: 'unknown action "explode"' });
    const plan = await runCli(["plan", "-f", without, ...env.at, "--detailed-exitcode"]);
    expect(plan.stdout).toMatch(/No changes/);
    expect(plan.code).toBe(0);
  });

  it("serves a route changed by ws-add-route only once ws-deploy has run", async () => {
    await cli(["apply", "-f", writeSpec("snap-hand", { explode: true }), "--auto-approve"]);
    const apiId = await apiIdOf("snap-hand");
    await cli(["ws-add-route", apiId, "poke", "snap-hand-explode"]);
    await cli(["ws-deploy", apiId, "prod"]);
    expect(JSON.parse(await answerTo(`/${apiId}/prod`, { action: "poke" }))).toMatchObject({ message: "Internal server error" });

    await cli(["ws-add-route", apiId, "poke", "snap-hand-default"]);
    // Not deployed yet: the stage still serves the old target.
    expect(JSON.parse(await answerTo(`/${apiId}/prod`, { action: "poke" }))).toMatchObject({ message: "Internal server error" });
    await cli(["ws-deploy", apiId, "prod"]);
    expect(JSON.parse(await answerTo(`/${apiId}/prod`, { action: "poke" }))).toMatchObject({ message: 'unknown action "poke"' });
  });

  it("renames api.stage in one apply: the new stage serves, the old one is gone, the next plan has nothing to do", async () => {
    await cli(["apply", "-f", writeSpec("snap-stage", { explode: false }), "--auto-approve"]);
    const apiId = await apiIdOf("snap-stage");
    const renamed = writeSpec("snap-stage", { stage: "live", explode: false });
    await cli(["apply", "-f", renamed, "--auto-approve"]);
    const plan = await runCli(["plan", "-f", renamed, ...env.at, "--detailed-exitcode"]);
    expect(plan.stdout).toMatch(/No changes/);
    expect(plan.code).toBe(0);
    const stages = ((await env.cloud.models.apigatewayv2.dispatch("GetStages", { ApiId: apiId })).Items as Array<{ StageName: string }>).map((s) => s.StageName);
    expect(stages).toEqual(["live"]);
    expect(JSON.parse(await answerTo(`/${apiId}/live`, { action: "nothing" }))).toMatchObject({ message: 'unknown action "nothing"' });
  });
});
