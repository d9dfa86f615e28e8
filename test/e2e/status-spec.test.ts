import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, startTestCloud, type TestCloud } from "../support/cloud.js";

// `status` finds its spec as `deploy` does: run from the repository root, where
// the spec is specs/chat.yaml (stack my-chat), with no argument or the stack's name.

let cloud: TestCloud;
beforeAll(async () => {
  cloud = await startTestCloud();
});
afterAll(async () => {
  await cloud?.stop();
});

describe("status finds the spec as deploy does", () => {
  it("with no argument and with the stack name", async () => {
    for (const args of [[], ["my-chat"]]) {
      const r = await runCli(["status", ...args, "--endpoint-url", cloud.url]);
      expect(r.stderr, args.join(" ")).not.toMatch(/cannot read|no spec found|Unknown Syntax/i);
      expect(r.stdout, args.join(" ")).toMatch(/^Stack my-chat in ap-northeast-1/);
      expect(r.code, args.join(" ")).toBe(2); // nothing deployed yet: every component is missing
    }
    const wrong = await runCli(["status", "other-chat", "--endpoint-url", cloud.url]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/no spec found for stack other-chat/);
  });
});
