import {
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { hostname, userInfo } from "node:os";
import type { AwsClients } from "../aws/clients.js";
import { isAwsError } from "../aws/errors.js";
import { UserError } from "../errors.js";
import { pidAlive } from "../pid.js";

// CI machines share no disk, so the lock lives in the account: one item per stack
// in a small DynamoDB table, taken with a conditional write. It is a lease, renewed
// while the run lives, so a run that was killed blocks others for a short while
// only; on the same machine a dead holder is recognised at once by its pid.

export const LOCK_TABLE = process.env.CHATCTL_LOCK_TABLE || "chatctl-locks";
const LEASE_SECONDS = 30;
const RENEW_EVERY_MS = 10_000;

export interface LockHolder {
  readonly stack: string;
  readonly owner: string; // "user@host pid 1234"
  readonly host: string;
  readonly pid: number;
  readonly operation: string; // "apply", "destroy"
  readonly since: string; // ISO time
  readonly expiresAt: number; // epoch seconds
}

export interface StackLock {
  readonly holder: LockHolder;
  release(): Promise<void>;
}

export interface LockOptions {
  readonly operation: string;
  /** How long to wait for another run to finish, in ms (0: fail at once). */
  readonly timeoutMs: number;
  readonly onWait?: (holder: LockHolder) => void;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

function toHolder(item: Record<string, { S?: string; N?: string }> | undefined): LockHolder | undefined {
  if (!item?.stack?.S) return undefined;
  return {
    stack: item.stack.S,
    owner: item.owner?.S ?? "unknown",
    host: item.host?.S ?? "",
    pid: Number(item.pid?.N ?? 0),
    operation: item.operation?.S ?? "change",
    since: item.since?.S ?? "",
    expiresAt: Number(item.expiresAt?.N ?? 0),
  };
}

async function ensureLockTable(clients: AwsClients): Promise<void> {
  const ddb = clients.dynamodb();
  try {
    await ddb.send(
      new CreateTableCommand({
        TableName: LOCK_TABLE,
        AttributeDefinitions: [{ AttributeName: "stack", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "stack", KeyType: "HASH" }],
        BillingMode: "PAY_PER_REQUEST",
        Tags: [{ Key: "chatctl:purpose", Value: "locks" }],
      }),
    );
  } catch (err) {
    if (!isAwsError(err, "ResourceInUseException")) throw err;
  }
  for (let i = 0; i < 60; i++) {
    const t = await ddb.send(new DescribeTableCommand({ TableName: LOCK_TABLE }));
    if (t.Table?.TableStatus === "ACTIVE") return;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export async function acquireStackLock(clients: AwsClients, stack: string, opts: LockOptions): Promise<StackLock> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const ddb = clients.dynamodb();
  const host = hostname();
  const me = {
    stack,
    owner: `${safeUser()}@${host} pid ${process.pid}`,
    host,
    pid: process.pid,
    operation: opts.operation,
    since: new Date(now()).toISOString(),
  };
  const deadline = now() + opts.timeoutMs;
  let waitedFor: string | undefined;
  // Set once a read has shown the holder to be a dead process on this machine; the
  // next write may then replace exactly that holder. (No read before the first write:
  // the lock is free on almost every run.)
  let deadPid = -1;

  for (;;) {
    const expiresAt = Math.floor(now() / 1000) + LEASE_SECONDS;
    try {
      await ddb.send(
        new PutItemCommand({
          TableName: LOCK_TABLE,
          Item: {
            stack: { S: stack },
            owner: { S: me.owner },
            host: { S: host },
            pid: { N: String(process.pid) },
            operation: { S: opts.operation },
            since: { S: me.since },
            expiresAt: { N: String(expiresAt) },
          },
          ConditionExpression: "attribute_not_exists(#s) OR #e < :now OR (#h = :host AND #p = :deadpid)",
          ExpressionAttributeNames: { "#s": "stack", "#e": "expiresAt", "#h": "host", "#p": "pid" },
          ExpressionAttributeValues: {
            ":now": { N: String(Math.floor(now() / 1000)) },
            ":host": { S: host },
            ":deadpid": { N: String(deadPid) },
          },
        }),
      );
      return startLease(clients, { ...me, expiresAt });
    } catch (err) {
      if (isAwsError(err, "ResourceNotFoundException")) {
        await ensureLockTable(clients);
        continue;
      }
      if (!isAwsError(err, "ConditionalCheckFailedException")) throw err;
    }
    const current = await readHolder(clients, stack);
    if (!current) continue; // released between our write and our read
    if (current.host === host && current.pid !== process.pid && current.pid !== deadPid && !pidAlive(current.pid)) {
      deadPid = current.pid;
      continue;
    }
    if (now() >= deadline) {
      const remaining = Math.max(0, current.expiresAt - Math.floor(now() / 1000));
      throw new UserError(
        `stack ${stack} is being changed by ${current.owner} (${current.operation}) since ${current.since}. ` +
          `Wait for it (--lock-timeout 5m waits up to five minutes)` +
          (remaining > 0 ? `; if that run died, its lock lapses within ${remaining}s, or remove it now with: chatctl force-unlock ${stack}` : "") +
          ".",
      );
    }
    if (waitedFor !== current.owner) {
      waitedFor = current.owner;
      opts.onWait?.(current);
    }
    await sleep(Math.min(2000, Math.max(100, deadline - now())));
  }
}

async function readHolder(clients: AwsClients, stack: string): Promise<LockHolder | undefined> {
  const got = await clients.dynamodb().send(new GetItemCommand({ TableName: LOCK_TABLE, Key: { stack: { S: stack } }, ConsistentRead: true }));
  return toHolder(got.Item as Record<string, { S?: string; N?: string }> | undefined);
}

function startLease(clients: AwsClients, holder: LockHolder): StackLock {
  const ddb = clients.dynamodb();
  const timer = setInterval(() => {
    ddb
      .send(
        new UpdateItemCommand({
          TableName: LOCK_TABLE,
          Key: { stack: { S: holder.stack } },
          UpdateExpression: "SET #e = :e",
          ConditionExpression: "#o = :o",
          ExpressionAttributeNames: { "#e": "expiresAt", "#o": "owner" },
          ExpressionAttributeValues: { ":e": { N: String(Math.floor(Date.now() / 1000) + LEASE_SECONDS) }, ":o": { S: holder.owner } },
        }),
      )
      .catch(() => undefined); // a missed renewal only shortens the lease
  }, RENEW_EVERY_MS);
  timer.unref();
  return {
    holder,
    async release() {
      clearInterval(timer);
      await ddb
        .send(
          new DeleteItemCommand({
            TableName: LOCK_TABLE,
            Key: { stack: { S: holder.stack } },
            ConditionExpression: "#o = :o",
            ExpressionAttributeNames: { "#o": "owner" },
            ExpressionAttributeValues: { ":o": { S: holder.owner } },
          }),
        )
        .catch((err: unknown) => {
          if (!isAwsError(err, "ConditionalCheckFailedException")) throw err;
        });
    },
  };
}

/** `chatctl force-unlock`: removes whatever lock the stack has; returns who held it. */
export async function forceUnlock(clients: AwsClients, stack: string): Promise<LockHolder | undefined> {
  let holder: LockHolder | undefined;
  try {
    holder = await readHolder(clients, stack);
  } catch (err) {
    if (isAwsError(err, "ResourceNotFoundException")) return undefined;
    throw err;
  }
  if (!holder) return undefined;
  await clients.dynamodb().send(new DeleteItemCommand({ TableName: LOCK_TABLE, Key: { stack: { S: stack } } }));
  return holder;
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return "unknown";
  }
}
