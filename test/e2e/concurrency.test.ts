import { spawn } from "node:child_process";
import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import { LOCK_TABLE } from "../../src/stack/lock.js";
import { runCli, type TestCloud } from "../support/cloud.js";
import { builtCli, chatStackInventory, dynamo, inventory, spawnCli, STACK_TRACE, withCloud } from "../support/reliability.js";

// Two runs against one stack at once must not both change it: the lock lives
// in the account (a conditional write in DynamoDB), so it holds across machines.

const SPEC = "specs/chat.yaml";
const cli = (cloud: TestCloud, ...argv: string[]) => runCli([...argv, "--endpoint-url", cloud.url]);

/**
 * Holds the first run's CreateApi until a second run has tried to take the lock,
 * so the two overlap whatever the machine's speed.
 */
function holdFirstRunUntilSecondTriesLock(cloud: TestCloud): { firstIsChanging: Promise<void> } {
  let firstHoldsLock = false;
  let secondTried: () => void = () => {};
  const tried = new Promise<void>((r) => (secondTried = r));
  let changing: () => void = () => {};
  const firstIsChanging = new Promise<void>((r) => (changing = r));
  cloud.setBeforeCall(async (service, operation, input) => {
    // Any attempt to take the lock while the first run is changing the stack is the second run's.
    if (firstHoldsLock && service === "dynamodb" && input.TableName === LOCK_TABLE && operation === "PutItem") secondTried();
    if (service === "apigatewayv2" && operation === "CreateApi") {
      firstHoldsLock = true;
      changing();
      await tried;
    }
  });
  return { firstIsChanging };
}

/** A lock item as another machine's run would have left it. */
async function lockHeldElsewhere(cloud: TestCloud, opts: { host: string; pid: number; expiresInSeconds: number }): Promise<void> {
  // The lock table is made by chatctl on first use; make it the same way here.
  await dynamo(cloud, "CreateTable", {
    TableName: LOCK_TABLE,
    AttributeDefinitions: [{ AttributeName: "stack", AttributeType: "S" }],
    KeySchema: [{ AttributeName: "stack", KeyType: "HASH" }],
    BillingMode: "PAY_PER_REQUEST",
  }).catch(() => undefined);
  for (let i = 0; i < 100; i++) {
    const { Table } = (await dynamo(cloud, "DescribeTable", { TableName: LOCK_TABLE })) as { Table: { TableStatus: string } };
    if (Table.TableStatus === "ACTIVE") break;
    await new Promise((r) => setTimeout(r, 10));
  }
  await dynamo(cloud, "PutItem", {
    TableName: LOCK_TABLE,
    Item: {
      stack: { S: "my-chat" },
      owner: { S: `ci@${opts.host} pid ${opts.pid}` },
      host: { S: opts.host },
      pid: { N: String(opts.pid) },
      operation: { S: "apply" },
      since: { S: "2026-01-02T03:04:05.000Z" },
      expiresAt: { N: String(Math.floor(Date.now() / 1000) + opts.expiresInSeconds) },
    },
  });
}

describe("two applies of the same stack at once", () => {
  it("one proceeds; the other fails at once, naming who holds the stack and since when", async () => {
    await withCloud(
      async (cloud) => {
        const { firstIsChanging } = holdFirstRunUntilSecondTriesLock(cloud);
        const first = cli(cloud, "apply", "-f", SPEC, "--auto-approve");
        await firstIsChanging;
        const second = await cli(cloud, "apply", "-f", SPEC, "--auto-approve");
        expect(second.code).toBe(1);
        expect(second.stderr).toMatch(/^error: stack my-chat is being changed by \S+@\S+ pid \d+ \(apply\) since \d{4}-\d\d-\d\dT[\d:.]+Z\. Wait for it \(--lock-timeout 5m/m);
        expect(second.stderr).toMatch(/chatctl force-unlock my-chat/);
        expect(second.stdout + second.stderr).not.toMatch(STACK_TRACE);
        expect(second.stdout).toBe(""); // it planned nothing, so it printed no plan

        const done = await first;
        expect(done.code, done.stderr).toBe(0);
        expect(await inventory(cloud)).toEqual(chatStackInventory());
      },
    );
  });

  it("with --lock-timeout the other waits, then finds nothing to do", async () => {
    await withCloud(
      async (cloud) => {
        const { firstIsChanging } = holdFirstRunUntilSecondTriesLock(cloud);
        const first = cli(cloud, "apply", "-f", SPEC, "--auto-approve");
        await firstIsChanging;
        const second = await cli(cloud, "apply", "-f", SPEC, "--auto-approve", "--lock-timeout", "60s");
        expect(second.stderr).toMatch(/Waiting for the lock on stack my-chat: held by \S+ pid \d+ \(apply\) since /);
        expect(second.code, second.stderr).toBe(0);
        expect(second.stdout).toMatch(/No changes\./);
        expect((await first).code).toBe(0);
        expect(await inventory(cloud)).toEqual(chatStackInventory());
      },
    );
  });

  it.skipIf(builtCli() === undefined)("two processes started together: the stack is made once, one creates and the other finds nothing to do", async () => {
    await withCloud(
      async (cloud) => {
        const argv = ["apply", "-f", SPEC, "--endpoint-url", cloud.url, "--auto-approve", "--lock-timeout", "90s"];
        const [a, b] = await Promise.all([spawnCli(argv), spawnCli(argv)]);
        for (const run of [a, b]) {
          expect(run.code, run.stderr).toBe(0);
          expect(run.stdout + run.stderr).not.toMatch(STACK_TRACE);
        }
        const outcomes = [a, b].map((r) => (/Apply complete: 32 created/.test(r.stdout) ? "created" : /No changes\./.test(r.stdout) ? "nothing to do" : r.stdout)).sort();
        expect(outcomes).toEqual(["created", "nothing to do"]);
        expect(await inventory(cloud)).toEqual(chatStackInventory());
      },
      { callDelayMs: 10 },
    );
  });
});

describe("locks left behind", () => {
  it("a live lock from another machine blocks apply until force-unlock removes it", async () => {
    await withCloud(async (cloud) => {
      await lockHeldElsewhere(cloud, { host: "ci-runner-7", pid: 4242, expiresInSeconds: 30 });
      const blocked = await cli(cloud, "apply", "-f", SPEC, "--auto-approve");
      expect(blocked.code).toBe(1);
      expect(blocked.stderr).toContain("stack my-chat is being changed by ci@ci-runner-7 pid 4242 (apply) since 2026-01-02T03:04:05.000Z");
      expect(blocked.stderr).toMatch(/its lock lapses within \d+s, or remove it now with: chatctl force-unlock my-chat/);
      expect(cloud.models.lambda.functionNames()).toEqual([]);

      const unlocked = await runCli(["force-unlock", "my-chat", "--endpoint-url", cloud.url]);
      expect(unlocked.code, unlocked.stderr).toBe(0);
      expect(unlocked.stdout).toContain("Removed the lock on stack my-chat held by ci@ci-runner-7 pid 4242 (apply) since 2026-01-02T03:04:05.000Z.");

      expect((await cli(cloud, "apply", "-f", SPEC, "--auto-approve")).code).toBe(0);
      // Released at the end of the run: nothing left to unlock.
      const again = await runCli(["force-unlock", "my-chat", "--endpoint-url", cloud.url]);
      expect(again.stdout).toContain("Stack my-chat was not locked.");
    });
  });

  it("force-unlock before any lock table exists says the stack is not locked", async () => {
    await withCloud(async (cloud) => {
      const run = await runCli(["force-unlock", "my-chat", "--endpoint-url", cloud.url]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain("Stack my-chat was not locked.");
    });
  });

  it("a lease that lapsed (its run died elsewhere) is taken over", async () => {
    await withCloud(async (cloud) => {
      await lockHeldElsewhere(cloud, { host: "ci-runner-7", pid: 4242, expiresInSeconds: -5 });
      const run = await cli(cloud, "apply", "-f", SPEC, "--auto-approve");
      expect(run.code, run.stderr).toBe(0);
    });
  });

  it("a lock of a dead process on this machine is taken over at once", async () => {
    const dead = spawn(process.execPath, ["-e", ""]);
    const pid = dead.pid!;
    await new Promise((r) => dead.on("exit", r));
    await withCloud(async (cloud) => {
      await lockHeldElsewhere(cloud, { host: hostname(), pid, expiresInSeconds: 30 });
      const run = await cli(cloud, "apply", "-f", SPEC, "--auto-approve");
      expect(run.code, run.stderr).toBe(0);
    });
  });
});
