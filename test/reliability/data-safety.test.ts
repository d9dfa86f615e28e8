import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli, type TestCloud } from "../support/cloud.js";
import { dynamo, inventory, tempProject, withCloud } from "../support/reliability.js";

// No run of chatctl loses a user's items unless told to with --delete-data.

const TABLE = "my-chat-connections";
const project = tempProject();
const copy = (name: string, change: (text: string) => string): string => {
  const text = change(project.readSpec("chat.yaml"));
  return project.writeSpec(name, text);
};
const ON_DESTROY_DELETE = copy("delete-table.yaml", (t) => t.replace("    ttlAttribute: expiresAt\n", "    ttlAttribute: expiresAt\n    onDestroy: delete\n"));
const NEW_KEY = copy("new-key.yaml", (t) => t.replace("partitionKey: connectionId", "partitionKey: roomId"));
const PROTECTED = copy("protected.yaml", (t) => t.replace("    ttlAttribute: expiresAt\n", "    ttlAttribute: expiresAt\n    deletionProtection: true\n    onDestroy: delete\n"));
const CHAT = project.spec("chat.yaml");

afterAll(() => project.remove());

const cli = (cloud: TestCloud, ...argv: string[]) => runCli([...argv, "--endpoint-url", cloud.url]);

async function apply(cloud: TestCloud, spec: string, ...flags: string[]) {
  const run = await cli(cloud, "apply", "-f", spec, "--auto-approve", ...flags);
  expect(run.code, run.stdout + run.stderr).toBe(0);
  return run;
}

async function putItem(cloud: TestCloud, key: Record<string, string>): Promise<void> {
  const item = Object.fromEntries(Object.entries(key).map(([k, v]) => [k, { S: v }]));
  await dynamo(cloud, "PutItem", { TableName: TABLE, Item: { ...item, note: { S: "a user's data" } } });
}

async function tables(cloud: TestCloud): Promise<string[]> {
  return (await inventory(cloud)).tables;
}

async function itemCount(cloud: TestCloud): Promise<number> {
  return ((await dynamo(cloud, "Scan", { TableName: TABLE })) as { Count: number }).Count;
}

describe("destroy and tables that hold items", () => {
  it("onDestroy: retain (the default) keeps the table, items and all, and says why; even with --delete-data", async () => {
    await withCloud(async (cloud) => {
      await apply(cloud, CHAT);
      await putItem(cloud, { connectionId: "abc" });
      const run = await cli(cloud, "destroy", "-f", CHAT, "--auto-approve", "--delete-data");
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`dynamodb\\.table ${TABLE} kept: onDestroy is retain`));
      expect(await tables(cloud)).toEqual([TABLE]);
      expect(await itemCount(cloud)).toBe(1);
    });
  });

  it("onDestroy: delete keeps a table that holds items unless --delete-data is given", async () => {
    await withCloud(async (cloud) => {
      await apply(cloud, ON_DESTROY_DELETE);
      await putItem(cloud, { connectionId: "abc" });
      const kept = await cli(cloud, "destroy", "-f", ON_DESTROY_DELETE, "--auto-approve");
      expect(kept.code, kept.stderr).toBe(0);
      expect(kept.stdout).toMatch(new RegExp(`dynamodb\\.table ${TABLE} kept: holds items; pass --delete-data to delete it`));
      expect(await tables(cloud)).toEqual([TABLE]);
      expect(await itemCount(cloud)).toBe(1);
      expect(cloud.models.lambda.functionNames()).toEqual([]); // the rest is gone

      const plan = await cli(cloud, "plan", "--destroy", "--delete-data", "-f", ON_DESTROY_DELETE);
      expect(plan.stdout).toMatch(/- delete\s+dynamodb\.table\s+my-chat-connections/);
      expect(plan.stdout).toMatch(/!! data loss: deleting my-chat-connections destroys the data it holds/);
      const gone = await cli(cloud, "destroy", "-f", ON_DESTROY_DELETE, "--auto-approve", "--delete-data");
      expect(gone.code, gone.stderr).toBe(0);
      expect(await tables(cloud)).toEqual([]);
    });
  });

  it("onDestroy: delete removes an empty table without --delete-data", async () => {
    await withCloud(async (cloud) => {
      await apply(cloud, ON_DESTROY_DELETE);
      const run = await cli(cloud, "destroy", "-f", ON_DESTROY_DELETE, "--auto-approve");
      expect(run.code, run.stderr).toBe(0);
      expect(await tables(cloud)).toEqual([]);
    });
  });

  it("a saved destroy plan made while the table was empty is refused once items arrive", async () => {
    await withCloud(async (cloud) => {
      await apply(cloud, ON_DESTROY_DELETE);
      const planFile = join(project.dir, "destroy.plan.json");
      const saved = await cli(cloud, "plan", "--destroy", "-f", ON_DESTROY_DELETE, "--out", planFile);
      expect(saved.code, saved.stderr).toBe(0);
      await putItem(cloud, { connectionId: "arrived-later" });
      const run = await cli(cloud, "apply", planFile);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/is stale: the stack changed in the account/);
      expect(await itemCount(cloud)).toBe(1);
    });
  });

  // Whether a table holds items is decided when the plan is made; items written after it
  // (another writer, a slow "yes" at the prompt) must not be lost without --delete-data.
  // Here they land while destroy deletes the functions, before the table's turn. (The
  // milliseconds between the table kind's last look and DeleteTable stay open: DynamoDB
  // has no conditional DeleteTable.)
  it("items written after the plan but before the delete are not lost without --delete-data", async () => {
    await withCloud(async (cloud) => {
      await apply(cloud, ON_DESTROY_DELETE);
      let written = false;
      cloud.setBeforeCall(async (service, operation) => {
        if (service === "lambda" && operation === "DeleteFunction" && !written) {
          written = true;
          await putItem(cloud, { connectionId: "just-in-time" });
        }
      });
      await cli(cloud, "destroy", "-f", ON_DESTROY_DELETE, "--auto-approve");
      cloud.setBeforeCall(undefined);
      expect(written).toBe(true);
      expect(await tables(cloud)).toEqual([TABLE]);
    });
  });
});

describe("a change that would replace a table", () => {
  it("holding items: shown as kept (data would be destroyed), and apply leaves it alone without --delete-data", async () => {
    await withCloud(async (cloud) => {
      await apply(cloud, CHAT);
      await putItem(cloud, { connectionId: "abc" });
      const plan = await cli(cloud, "plan", "-f", NEW_KEY);
      expect(plan.stdout).toMatch(/dynamodb\.table my-chat-connections kept: must be replaced \(partition key changed\) but holds items; pass --delete-data to replace it/);
      const run = await cli(cloud, "apply", "-f", NEW_KEY, "--auto-approve");
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/No changes will be made; see what is kept/);
      expect(run.stdout).not.toMatch(/✓ dynamodb\.table/);
      expect(await itemCount(cloud)).toBe(1);
      const key = (await dynamo(cloud, "DescribeTable", { TableName: TABLE })) as { Table: { KeySchema: Array<{ AttributeName: string }> } };
      expect(key.Table.KeySchema.map((k) => k.AttributeName)).toEqual(["connectionId"]);
      // It is not silently "done" either: the plan still shows the pending replacement.
      const again = await cli(cloud, "plan", "-f", NEW_KEY);
      expect(again.stdout).toMatch(/kept: must be replaced/);
    });
  });

  it("holding items, with --delete-data: the plan says data is destroyed, and apply replaces the table", async () => {
    await withCloud(async (cloud) => {
      await apply(cloud, CHAT);
      await putItem(cloud, { connectionId: "abc" });
      const plan = await cli(cloud, "plan", "-f", NEW_KEY, "--delete-data");
      expect(plan.stdout).toMatch(/-\/\+ replace\s+dynamodb\.table\s+my-chat-connections/);
      expect(plan.stdout).toMatch(/!! data loss: replacing my-chat-connections destroys the data it holds/);
      await apply(cloud, NEW_KEY, "--delete-data");
      const key = (await dynamo(cloud, "DescribeTable", { TableName: TABLE })) as { Table: { KeySchema: Array<{ AttributeName: string }> } };
      expect(key.Table.KeySchema.map((k) => k.AttributeName)).toEqual(["roomId"]);
      expect(await itemCount(cloud)).toBe(0);
      expect((await cli(cloud, "plan", "-f", NEW_KEY, "--detailed-exitcode")).code).toBe(0);
    });
  });

  it("an empty table is replaced without the flag, and the plan still names it a replacement", async () => {
    await withCloud(async (cloud) => {
      await apply(cloud, CHAT);
      const plan = await cli(cloud, "plan", "-f", NEW_KEY);
      expect(plan.stdout).toMatch(/-\/\+ replace\s+dynamodb\.table\s+my-chat-connections/);
      expect(plan.stdout).toMatch(/partition key changed/);
      await apply(cloud, NEW_KEY);
      expect((await cli(cloud, "plan", "-f", NEW_KEY, "--detailed-exitcode")).code).toBe(0);
    });
  });
});

describe("deletion protection from the spec", () => {
  it("is enabled on the table; a destroy told to delete the table keeps it and says why, without a stack trace", async () => {
    await withCloud(async (cloud) => {
      await apply(cloud, PROTECTED);
      const table = (await dynamo(cloud, "DescribeTable", { TableName: TABLE })) as { Table: { DeletionProtectionEnabled?: boolean } };
      expect(table.Table.DeletionProtectionEnabled).toBe(true);
      const run = await cli(cloud, "destroy", "-f", PROTECTED, "--auto-approve", "--delete-data");
      expect(run.stdout + run.stderr).not.toMatch(/^\s+at .+:\d+/m);
      expect(await tables(cloud)).toEqual([TABLE]);
      expect(run.stdout).toMatch(/dynamodb\.table my-chat-connections (failed: ResourceInUseException: .*protected against deletion|kept)/);
    });
  });

  // DynamoDB refuses to delete a protected table: destroy keeps it and says why, rather
  // than failing the same way on every re-run.
  it("a destroy that cannot delete a protected table still converges when re-run", async () => {
    await withCloud(async (cloud) => {
      await apply(cloud, PROTECTED);
      await cli(cloud, "destroy", "-f", PROTECTED, "--auto-approve", "--delete-data");
      const again = await cli(cloud, "destroy", "-f", PROTECTED, "--auto-approve", "--delete-data");
      expect(again.code, again.stdout).toBe(0);
    });
  });

  it("can be turned on for an existing table by editing the spec", async () => {
    await withCloud(async (cloud) => {
      await apply(cloud, CHAT);
      const plan = await cli(cloud, "plan", "-f", PROTECTED);
      expect(plan.stdout).toMatch(/~ update\s+dynamodb\.table\s+my-chat-connections/);
      await apply(cloud, PROTECTED);
      const table = (await dynamo(cloud, "DescribeTable", { TableName: TABLE })) as { Table: { DeletionProtectionEnabled?: boolean } };
      expect(table.Table.DeletionProtectionEnabled).toBe(true);
    });
  });
});
