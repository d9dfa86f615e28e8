import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { wrongTarget, type SavedPlan } from "../../src/plan/file.js";
import type { Plan } from "../../src/plan/types.js";
import { runCli, startTestCloud, type TestCloud } from "../support/cloud.js";

// A saved plan holds one endpoint's ids and ARNs: it goes back where it was made
// (so the hint `chatctl apply plan.json` works after `plan --local`), and is
// refused anywhere else.

let here: TestCloud;
let elsewhere: TestCloud;
let dir: string;
beforeAll(async () => {
  [here, elsewhere] = await Promise.all([startTestCloud(), startTestCloud()]);
  dir = mkdtempSync(join(tmpdir(), "chatctl-saved-plan-"));
});
afterAll(async () => {
  await Promise.all([here?.stop(), elsewhere?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

describe("a saved plan keeps its endpoint", () => {
  it("applies with the hint's command alone, at the endpoint it was made against", async () => {
    const file = join(dir, "plan.json");
    const planned = await runCli(["plan", "-f", "specs/minimal.yaml", "--endpoint-url", here.url, "--out", file]);
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stdout).toContain(`Apply exactly this plan with: chatctl apply ${file} (it goes to ${here.url}, where it was made)`);

    const refused = await runCli(["apply", file, "--endpoint-url", elsewhere.url]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`error: the saved plan ${file} was made against ${here.url}, not ${elsewhere.url}`);
    expect(elsewhere.models.lambda.functionNames()).toEqual([]);

    const applied = await runCli(["apply", file]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/Apply complete: \d+ created/);
    expect(here.models.lambda.functionNames().length).toBeGreaterThan(0);
  });

  it("refuses a plan for another account or region", () => {
    const plan = { accountId: "111111111111", region: "ap-northeast-1" } as Plan;
    const saved: SavedPlan = { plan, specPath: "chat.yaml", specHash: "h", savedAt: "t", endpoint: undefined };
    expect(wrongTarget(saved, "p.json", { endpoint: undefined, accountId: "111111111111", region: "ap-northeast-1" })).toBeUndefined();
    expect(wrongTarget(saved, "p.json", { endpoint: undefined, accountId: "222222222222", region: "ap-northeast-1" })).toBe(
      "the saved plan p.json was made for account 111111111111, but these credentials are for account 222222222222; make a new plan there with chatctl plan --out p.json",
    );
    expect(wrongTarget(saved, "p.json", { endpoint: undefined, accountId: "111111111111", region: "eu-west-1" })).toMatch(/made for region ap-northeast-1, not eu-west-1/);
    expect(wrongTarget(saved, "p.json", { endpoint: "http://127.0.0.1:4510", accountId: "111111111111", region: "ap-northeast-1" })).toMatch(
      /was made against AWS, not http:\/\/127\.0\.0\.1:4510/,
    );
  });
});
