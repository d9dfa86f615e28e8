import { tmpdir } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, type TestCloud } from "../support/cloud.js";
import { freshCloud } from "../support/reliability.js";

// The text plan a user reads before the first apply, for representative specs,
// from an empty account. A change in what chatctl would do, or in how it says
// it, shows up here as a diff to review.

let cloud: TestCloud;
beforeAll(async () => {
  cloud = await freshCloud();
});
afterAll(async () => {
  await cloud?.stop();
});

/** Parts that differ between runs and machines: code hashes, ports, the checkout's path. */
function normalize(text: string): string {
  return text
    .replace(/[A-Za-z0-9+/]{43}=/g, "<code-sha256>")
    .replace(/\b[0-9a-f]{64}\b/g, "<sha256-hex>")
    .replace(/127\.0\.0\.1:\d+/g, "127.0.0.1:<port>")
    .replaceAll(process.cwd(), "<repo>")
    .replaceAll(tmpdir(), "<tmp>");
}

describe.each(["chat", "custom-routes", "authorized"])("plan of specs/%s.yaml from an empty account", (name) => {
  it("reads as recorded", async () => {
    const run = await runCli(["plan", "-f", `specs/${name}.yaml`, "--endpoint-url", cloud.url, "--detailed-exitcode"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(2);
    await expect(normalize(run.stdout)).toMatchFileSnapshot(`__snapshots__/plan-${name}.txt`);
  });
});

describe("plan --format markdown", () => {
  it("reads as recorded: summary, security-relevant changes, then the full plan collapsed", async () => {
    const run = await runCli(["plan", "-f", "specs/chat.yaml", "--endpoint-url", cloud.url, "--format", "markdown"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout.split("\n").slice(0, 3)).toEqual(["### chatctl plan: `my-chat` (ap-northeast-1)", "", "**Plan: 32 to create, 0 to update, 0 to replace, 0 to delete.**"]);
    await expect(normalize(run.stdout)).toMatchFileSnapshot("__snapshots__/plan-chat.md");
  });
});
