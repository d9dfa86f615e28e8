import {
  CreateTableCommand,
  DescribeTimeToLiveCommand,
  ScanCommand,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type AttributeValue,
  type KeySchemaElement,
  type ScalarAttributeType,
  type TableDescription,
} from "@aws-sdk/client-dynamodb";
import type { AwsClients } from "../aws/clients.js";
import { UserError } from "../errors.js";
import { assertSafeId, realSleep, type Sleep } from "./common.js";
import { errorName } from "../aws/errors.js";
import { plainItem, type PlainItem } from "./items.js";
import { describeTable, findTable } from "./lookup.js";

export interface KeySpec {
  readonly name: string;
  readonly type: ScalarAttributeType;
}

/** "connectionId" (a string key) or "score:N" / "blob:B". */
export function parseKey(text: string, what: string): KeySpec {
  const m = /^([^:]{1,255})(?::([SNB]))?$/.exec(text);
  if (!m?.[1]) throw new UserError(`${what} '${text}' is not a key attribute: write name, name:S, name:N or name:B`);
  return { name: m[1], type: (m[2] ?? "S") as ScalarAttributeType };
}

export interface CreateTableOptions {
  readonly tableName: string;
  readonly partitionKey: KeySpec;
  readonly sortKey?: KeySpec;
  readonly ttlAttribute?: string;
  readonly sleep?: Sleep;
  readonly timeoutMs?: number;
}

export interface CreatedTable {
  readonly tableName: string;
  readonly tableArn: string;
  readonly outcome: "created" | "unchanged";
  readonly status: string;
  readonly partitionKey: KeySpec;
  readonly sortKey?: KeySpec;
  readonly ttlAttribute?: string;
}

function keyOf(t: TableDescription, type: "HASH" | "RANGE"): KeySpec | undefined {
  const name = t.KeySchema?.find((k) => k.KeyType === type)?.AttributeName;
  if (!name) return undefined;
  const attr = t.AttributeDefinitions?.find((a) => a.AttributeName === name);
  return { name, type: attr?.AttributeType ?? "S" };
}

const sameKey = (a: KeySpec | undefined, b: KeySpec | undefined): boolean => a?.name === b?.name && a?.type === b?.type;
const showKey = (k: KeySpec | undefined): string => (k ? `${k.name}:${k.type}` : "none");

/**
 * An on-demand table, waited for until ACTIVE. Running it again for a table that
 * already has these keys changes nothing; other keys are refused, as DynamoDB
 * cannot change a table's keys. No chatctl:stack tag: no stack owns it.
 */
export async function createTable(clients: AwsClients, opts: CreateTableOptions): Promise<CreatedTable> {
  assertSafeId("table", opts.tableName);
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(opts.tableName)) {
    throw new UserError(`table name '${opts.tableName}' must be 3-255 characters of letters, digits, _ - and .`);
  }
  if (opts.sortKey && opts.sortKey.name === opts.partitionKey.name) throw new UserError("the sort key must differ from the partition key");
  const sleep = opts.sleep ?? realSleep;
  const keys: KeySchemaElement[] = [{ AttributeName: opts.partitionKey.name, KeyType: "HASH" }];
  const attrs: AttributeDefinition[] = [{ AttributeName: opts.partitionKey.name, AttributeType: opts.partitionKey.type }];
  if (opts.sortKey) {
    keys.push({ AttributeName: opts.sortKey.name, KeyType: "RANGE" });
    attrs.push({ AttributeName: opts.sortKey.name, AttributeType: opts.sortKey.type });
  }
  let outcome: CreatedTable["outcome"] = "created";
  try {
    await clients.dynamodb().send(new CreateTableCommand({ TableName: opts.tableName, KeySchema: keys, AttributeDefinitions: attrs, BillingMode: "PAY_PER_REQUEST" }));
  } catch (err) {
    if (errorName(err) !== "ResourceInUseException") throw err;
    const existing = await describeTable(clients, opts.tableName);
    if (!existing) throw err;
    const pk = keyOf(existing, "HASH");
    const sk = keyOf(existing, "RANGE");
    if (!sameKey(pk, opts.partitionKey) || !sameKey(sk, opts.sortKey)) {
      throw new UserError(
        `table ${opts.tableName} already exists with partition key ${showKey(pk)} and sort key ${showKey(sk)}; DynamoDB cannot change a table's keys (asked: ${showKey(opts.partitionKey)}, ${showKey(opts.sortKey)})`,
      );
    }
    outcome = "unchanged";
  }
  const table = await waitUntilActive(clients, opts.tableName, sleep, opts.timeoutMs ?? 10 * 60_000);
  if (opts.ttlAttribute) await ensureTtl(clients, opts.tableName, opts.ttlAttribute);
  return {
    tableName: opts.tableName,
    tableArn: table.TableArn ?? "",
    outcome,
    status: table.TableStatus ?? "",
    partitionKey: opts.partitionKey,
    ...(opts.sortKey ? { sortKey: opts.sortKey } : {}),
    ...(opts.ttlAttribute ? { ttlAttribute: opts.ttlAttribute } : {}),
  };
}

async function waitUntilActive(clients: AwsClients, tableName: string, sleep: Sleep, timeoutMs: number): Promise<TableDescription> {
  let waited = 0;
  for (let delay = 500; ; delay = Math.min(delay * 2, 5000)) {
    const t = await describeTable(clients, tableName);
    if (t?.TableStatus === "ACTIVE") return t;
    if (waited >= timeoutMs) throw new UserError(`table ${tableName} is still ${t?.TableStatus ?? "missing"} after ${Math.round(timeoutMs / 1000)} s`);
    await sleep(delay);
    waited += delay;
  }
}

async function ensureTtl(clients: AwsClients, tableName: string, attribute: string): Promise<void> {
  const current = (await clients.dynamodb().send(new DescribeTimeToLiveCommand({ TableName: tableName }))).TimeToLiveDescription;
  if (current?.AttributeName === attribute && (current.TimeToLiveStatus === "ENABLED" || current.TimeToLiveStatus === "ENABLING")) return;
  if (current?.AttributeName && current.AttributeName !== attribute && current.TimeToLiveStatus === "ENABLED") {
    throw new UserError(`table ${tableName} already expires items by '${current.AttributeName}'; DynamoDB allows one TTL attribute`);
  }
  await clients.dynamodb().send(new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: attribute, Enabled: true } }));
}

export interface ScanResult {
  readonly table: string;
  readonly partitionKey: string;
  readonly sortKey: string | undefined;
  readonly items: PlainItem[];
  /** True when --limit stopped the scan before the table's end. */
  readonly truncated: boolean;
}

/** Every item (all pages), or the first `limit`; a stack name stands for its one table. */
export async function scanTable(clients: AwsClients, tableOrStack: string, limit?: number): Promise<ScanResult> {
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new UserError(`--limit must be a positive whole number, not ${limit}`);
  const table = await findTable(clients, tableOrStack);
  const items: PlainItem[] = [];
  let start: Record<string, AttributeValue> | undefined;
  let truncated = false;
  do {
    const remaining = limit === undefined ? undefined : limit - items.length;
    const page = await clients.dynamodb().send(
      new ScanCommand({ TableName: table.tableName, ...(start ? { ExclusiveStartKey: start } : {}), ...(remaining !== undefined ? { Limit: remaining } : {}) }),
    );
    for (const item of page.Items ?? []) items.push(plainItem(item));
    start = page.LastEvaluatedKey;
    if (limit !== undefined && items.length >= limit) {
      truncated = start !== undefined;
      break;
    }
  } while (start);
  return { table: table.tableName, partitionKey: table.partitionKey, sortKey: table.sortKey, items, truncated };
}
