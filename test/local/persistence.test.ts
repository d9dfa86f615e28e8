import { DynamoDBClient, PutItemCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { deterministicZip } from "../../src/bundle/index.js";
import { runCli, startTestCloud } from "../support/cloud.js";

const dir = mkdtempSync(join(tmpdir(), "chatctl-persist-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const credentials = { accessKeyId: "x", secretAccessKey: "y" };

async function apiIds(cloud: Awaited<ReturnType<typeof startTestCloud>>): Promise<string[]> {
  const out = await cloud.models.apigatewayv2.dispatch("GetApis", {});
  return ((out.Items ?? []) as { ApiId: string }[]).map((a) => a.ApiId);
}

describe("chatctl dev --persist", () => {
  it("brings back the control plane with the same ids, and the tables with their items, so a re-plan has nothing to do", async () => {
    const first = await startTestCloud({ persistDir: dir });
    let before: string[];
    try {
      const applied = await runCli(["apply", "-f", "specs/chat.yaml", "--endpoint-url", first.url, "--auto-approve"]);
      expect(applied.code, applied.stderr).toBe(0);
      before = await apiIds(first);
      const ddb = new DynamoDBClient({ region: "ap-northeast-1", endpoint: first.url, credentials });
      await ddb.send(new PutItemCommand({ TableName: "my-chat-connections", Item: { connectionId: { S: "kept-1" } } }));
    } finally {
      await first.close();
    }

    const second = await startTestCloud({ persistDir: dir });
    try {
      expect(second.restored?.replayed).toBeGreaterThan(20);
      expect(second.restored?.skipped).toBe(0);
      expect(await apiIds(second)).toEqual(before);
      const plan = await runCli(["plan", "-f", "specs/chat.yaml", "--endpoint-url", second.url, "--detailed-exitcode"]);
      expect(plan.stdout).toMatch(/No changes/);
      expect(plan.code).toBe(0);
      const ddb = new DynamoDBClient({ region: "ap-northeast-1", endpoint: second.url, credentials });
      const items = await ddb.send(new ScanCommand({ TableName: "my-chat-connections" }));
      expect(items.Items?.map((i) => i.connectionId?.S)).toEqual(["kept-1"]);
      // The functions' code came back too: the stack still runs.
      const out = await second.models.lambda.dispatch("GetFunction", { FunctionName: "my-chat-default" });
      expect((out.Configuration as { State?: string }).State).toBe("Active");
    } finally {
      await second.stop();
    }
  });

  it("keeps only a function's latest code in the journal, so saving a handler again and again does not grow it", async () => {
    const cloud = await startTestCloud({ persistDir: dir });
    const journal = join(dir, "control-plane.jsonl");
    const code = (n: number) => deterministicZip([["index.mjs", Buffer.from(`export const handler = async () => ${n};\n${"// padding\n".repeat(2000)}`)]]);
    let afterOne: number;
    try {
      await cloud.models.lambda.dispatch("UpdateFunctionCode", { FunctionName: "my-chat-default", ZipFile: code(1) });
      afterOne = statSync(journal).size;
      for (const n of [2, 3, 4, 5]) await cloud.models.lambda.dispatch("UpdateFunctionCode", { FunctionName: "my-chat-default", ZipFile: code(n) });
      // Same size of zip each time: one code update's worth, give or take its digits.
      expect(Math.abs(statSync(journal).size - afterOne)).toBeLessThan(200);
    } finally {
      await cloud.close();
    }
    const again = await startTestCloud({ persistDir: dir });
    try {
      expect(again.restored?.skipped).toBe(0);
      const fn = await again.models.lambda.dispatch("GetFunctionConfiguration", { FunctionName: "my-chat-default" });
      expect(fn.CodeSha256).toBe(createHash("sha256").update(code(5)).digest("base64"));
    } finally {
      await again.close();
    }
  });
});
