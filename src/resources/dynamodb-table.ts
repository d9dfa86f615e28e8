import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ListTablesCommand,
  ListTagsOfResourceCommand,
  ScanCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  type GlobalSecondaryIndexDescription,
  type KeySchemaElement,
  type TableDescription,
  type Tag,
} from "@aws-sdk/client-dynamodb";
import { TAG_ID, TAG_STACK, ownershipFromTags, type Actual, type Change, type Ctx, type ResolvedResource, type ResourceKind } from "./kind.js";
import { createOrAdopt, diffTags, refuseOthers, tagEdits, tagList } from "./common.js";
import { errorName } from "../aws/errors.js";
import { allPages } from "../aws/pages.js";
import type { IndexProps, KeyAttributeProps, TableProps, Tags } from "./props.js";

export interface TableAttrs {
  readonly tableName: string;
  readonly status: string; // ACTIVE, CREATING, UPDATING, DELETING...
  readonly partitionKey: KeyAttributeProps;
  readonly sortKey: KeyAttributeProps | undefined;
  readonly billingMode: "PAY_PER_REQUEST" | "PROVISIONED";
  readonly readCapacity: number | undefined; // only for PROVISIONED
  readonly writeCapacity: number | undefined;
  readonly ttlAttribute: string | undefined; // the attribute TTL is enabled (or being enabled) on
  readonly deletionProtection: boolean;
  readonly indexes: readonly IndexProps[]; // global secondary indexes, sorted by name
  readonly tags: Tags;
}

/** How long to wait for a table to settle (ACTIVE, or gone) before giving up. */
export const TABLE_WAIT_MS = 10 * 60 * 1000;

export const dynamodbTable = {
  kind: "dynamodb.table",

  knownOutputs(ctx: Ctx, d: ResolvedResource<TableProps>): Record<string, string> {
    return { tableArn: tableArn(ctx, d.props.tableName), tableName: d.props.tableName };
  },

  async read(ctx: Ctx, d: ResolvedResource<TableProps>): Promise<Actual<TableAttrs> | undefined> {
    return readTable(ctx.clients.dynamodb(), d.props.tableName);
  },

  diff(d: ResolvedResource<TableProps>, a: Actual<TableAttrs>): Change[] {
    const p = d.props;
    const was = a.attributes;
    const changes: Change[] = [];
    if (!sameKey(p.partitionKey, was.partitionKey)) {
      changes.push({ path: "partitionKey", before: keyText(was.partitionKey), after: keyText(p.partitionKey), forcesReplacement: true, reason: "partition key changed", destroysData: true });
    }
    if (!sameKey(p.sortKey, was.sortKey)) {
      changes.push({ path: "sortKey", before: keyText(was.sortKey), after: keyText(p.sortKey), forcesReplacement: true, reason: "sort key changed", destroysData: true });
    }
    if (p.billingMode !== was.billingMode) changes.push({ path: "billingMode", before: was.billingMode, after: p.billingMode });
    if (p.billingMode === "PROVISIONED") {
      if (p.readCapacity !== was.readCapacity) changes.push({ path: "readCapacity", before: was.readCapacity, after: p.readCapacity });
      if (p.writeCapacity !== was.writeCapacity) changes.push({ path: "writeCapacity", before: was.writeCapacity, after: p.writeCapacity });
    }
    if (p.ttlAttribute !== was.ttlAttribute) changes.push({ path: "ttlAttribute", before: was.ttlAttribute, after: p.ttlAttribute });
    if (p.deletionProtection !== was.deletionProtection) changes.push({ path: "deletionProtection", before: was.deletionProtection, after: p.deletionProtection });
    changes.push(...diffIndexes(p.indexes ?? [], was.indexes));
    changes.push(...diffTags(p.tags, was.tags));
    return changes;
  },

  async create(ctx: Ctx, d: ResolvedResource<TableProps>): Promise<Actual<TableAttrs>> {
    const ddb = ctx.clients.dynamodb();
    const p = d.props;
    const indexes = p.indexes ?? [];
    return createOrAdopt<TableProps, TableAttrs, unknown>(dynamodbTable, ctx, d, {
      create: () =>
        ddb.send(
          new CreateTableCommand({
            TableName: p.tableName,
            AttributeDefinitions: attributeDefinitions(p, indexes),
            KeySchema: keySchema(p.partitionKey, p.sortKey),
            BillingMode: p.billingMode,
            ...(p.billingMode === "PROVISIONED" ? { ProvisionedThroughput: provisioned(p) } : {}),
            ...(indexes.length > 0 ? { GlobalSecondaryIndexes: indexes.map((i) => indexDefinition(p, i)) } : {}),
            DeletionProtectionEnabled: p.deletionProtection,
            ...(Object.keys(p.tags).length > 0 ? { Tags: tagList(p.tags) } : {}),
          }),
        ),
      created: async () => {
        // Only the status matters here: the full read comes once TTL is set. (The roles wait
        // for this table, so every call saved here is saved on apply's critical path.)
        await waitActive(ddb, p.tableName);
        if (p.ttlAttribute !== undefined) {
          await ddb.send(new UpdateTimeToLiveCommand({ TableName: p.tableName, TimeToLiveSpecification: { Enabled: true, AttributeName: p.ttlAttribute } }));
        }
        return mustRead(ddb, p.tableName);
      },
      isTaken: (err) => errorName(err) === "ResourceInUseException",
      // An earlier, interrupted run made it, or it is being deleted (then it is made anew).
      find: () => waitSettled(ddb, p.tableName),
      whenGone: "create-again",
      adopt: refuseOthers(`table ${p.tableName}`, ctx),
      converge: (existing) => dynamodbTable.update(ctx, d, existing, dynamodbTable.diff(d, existing)),
    });
  },

  async update(ctx: Ctx, d: ResolvedResource<TableProps>, a: Actual<TableAttrs>, changes: readonly Change[]): Promise<Actual<TableAttrs>> {
    const ddb = ctx.clients.dynamodb();
    const p = d.props;
    const paths = new Set(changes.map((c) => c.path));
    if (paths.has("billingMode") || paths.has("readCapacity") || paths.has("writeCapacity")) {
      await ddb.send(
        new UpdateTableCommand({
          TableName: p.tableName,
          BillingMode: p.billingMode,
          ...(p.billingMode === "PROVISIONED" ? { ProvisionedThroughput: provisioned(p) } : {}),
          // A provisioned table's indexes need their own capacity; kept equal to the table's.
          ...(p.billingMode === "PROVISIONED" && a.attributes.indexes.length > 0
            ? { GlobalSecondaryIndexUpdates: a.attributes.indexes.map((i) => ({ Update: { IndexName: i.name, ProvisionedThroughput: provisioned(p) } })) }
            : {}),
        }),
      );
      await waitSettled(ddb, p.tableName);
    }
    if (paths.has("deletionProtection")) {
      await ddb.send(new UpdateTableCommand({ TableName: p.tableName, DeletionProtectionEnabled: p.deletionProtection }));
      await waitSettled(ddb, p.tableName);
    }
    if (changes.some((c) => c.path.startsWith("indexes."))) await reconcileIndexes(ddb, p);
    if (paths.has("ttlAttribute")) {
      // TTL moves to another attribute only by way of disabled. AWS allows one TTL
      // change per table per hour, so a rename fails on the second call there; the
      // error says so, and the next apply (an hour on) enables the new attribute.
      // A retried update starts again from the plan's view: a step that already
      // happened ("already disabled/enabled") counts as done.
      const was = a.attributes.ttlAttribute;
      if (was !== undefined) {
        await ttlStep(ddb, p.tableName, false, was);
      }
      if (p.ttlAttribute !== undefined) {
        await ttlStep(ddb, p.tableName, true, p.ttlAttribute);
      }
    }
    const { set, remove } = tagEdits(p.tags, changes);
    if (remove.length > 0) await ddb.send(new UntagResourceCommand({ ResourceArn: a.physicalId, TagKeys: remove }));
    if (Object.keys(set).length > 0) await ddb.send(new TagResourceCommand({ ResourceArn: a.physicalId, Tags: tagList(set) }));
    return mustRead(ddb, p.tableName);
  },

  /**
   * Deletes as the plan says. A table the plan saw empty is looked at once more
   * first: items written since the plan (another writer, a slow "yes") are not
   * lost without --delete-data. DynamoDB has no conditional DeleteTable, so the
   * window left is the few milliseconds between that look and the delete.
   */
  async health(ctx: Ctx, a: Actual<TableAttrs>): Promise<string | undefined> {
    const t = await describe(ctx.clients.dynamodb(), a.attributes.tableName);
    // ItemCount is refreshed by DynamoDB about every six hours, hence "~".
    return t === undefined ? undefined : `${t.TableStatus ?? "?"}, ~${t.ItemCount ?? 0} items`;
  },

  async delete(ctx: Ctx, a: Actual<TableAttrs>): Promise<void> {
    const ddb = ctx.clients.dynamodb();
    if (a.holdsData !== true) {
      try {
        const scan = await ddb.send(new ScanCommand({ TableName: a.attributes.tableName, Limit: 1 }));
        if ((scan.Count ?? scan.Items?.length ?? 0) > 0) {
          throw new Error(
            `table ${a.attributes.tableName} was empty when the plan was made but holds items now; it was not deleted (plan again, with --delete-data to delete them)`,
          );
        }
      } catch (err) {
        if (errorName(err) === "ResourceNotFoundException") return;
        throw err;
      }
    }
    try {
      await ddb.send(new DeleteTableCommand({ TableName: a.attributes.tableName }));
    } catch (err) {
      if (errorName(err) !== "ResourceNotFoundException") throw err;
      return;
    }
    // A replacement creates the same name next; AWS refuses that until the old table is gone.
    await waitSettled(ddb, a.attributes.tableName);
  },

  async list(ctx: Ctx): Promise<Array<Actual<TableAttrs> & { logicalId: string }>> {
    const ddb = ctx.clients.dynamodb();
    const names = await allPages(
      (start) => ddb.send(new ListTablesCommand({ ExclusiveStartTableName: start })),
      (out) => out.TableNames,
      (out) => out.LastEvaluatedTableName,
    );
    const found: Array<Actual<TableAttrs> & { logicalId: string }> = [];
    for (const name of names.filter((n) => n.startsWith(`${ctx.stack}-`))) {
      const actual = await readTable(ddb, name);
      const id = actual?.attributes.tags[TAG_ID];
      if (actual && id !== undefined && actual.attributes.tags[TAG_STACK] === ctx.stack) found.push({ ...actual, logicalId: id });
    }
    return found;
  },
} satisfies ResourceKind<TableProps, TableAttrs>;

async function describe(ddb: DynamoDBClient, tableName: string): Promise<TableDescription | undefined> {
  try {
    return (await ddb.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (err) {
    if (errorName(err) === "ResourceNotFoundException") return undefined;
    throw err;
  }
}

async function readTable(ddb: DynamoDBClient, tableName: string): Promise<Actual<TableAttrs> | undefined> {
  const table = await describe(ddb, tableName);
  if (!table?.TableArn) return undefined;
  const arn = table.TableArn;
  let ttlAttribute: string | undefined;
  try {
    const ttl = (await ddb.send(new DescribeTimeToLiveCommand({ TableName: tableName }))).TimeToLiveDescription;
    if (ttl?.TimeToLiveStatus === "ENABLED" || ttl?.TimeToLiveStatus === "ENABLING") ttlAttribute = ttl.AttributeName;
  } catch (err) {
    if (errorName(err) === "ResourceNotFoundException") return undefined;
    throw err;
  }
  const tags: Tags = {};
  const tagList = await allPages(
    (NextToken) => ddb.send(new ListTagsOfResourceCommand({ ResourceArn: arn, NextToken })),
    (out) => out.Tags,
    (out) => out.NextToken,
  );
  for (const t of tagList) if (t.Key !== undefined) tags[t.Key] = t.Value ?? "";
  // DescribeTable's ItemCount is refreshed about every six hours; one scanned item is proof.
  const scan = await ddb.send(new ScanCommand({ TableName: tableName, Limit: 1 }));
  const holdsData = (scan.Count ?? scan.Items?.length ?? 0) > 0;
  const keyOf = (keyType: "HASH" | "RANGE"): KeyAttributeProps | undefined => {
    const name = table.KeySchema?.find((k) => k.KeyType === keyType)?.AttributeName;
    if (name === undefined) return undefined;
    const type = table.AttributeDefinitions?.find((ad) => ad.AttributeName === name)?.AttributeType ?? "S";
    return { name, type };
  };
  const billingMode = table.BillingModeSummary?.BillingMode === "PAY_PER_REQUEST" ? "PAY_PER_REQUEST" : "PROVISIONED";
  return {
    physicalId: arn,
    attributes: {
      tableName,
      status: table.TableStatus ?? "ACTIVE",
      partitionKey: keyOf("HASH") ?? { name: "", type: "S" },
      sortKey: keyOf("RANGE"),
      billingMode,
      readCapacity: billingMode === "PROVISIONED" ? table.ProvisionedThroughput?.ReadCapacityUnits : undefined,
      writeCapacity: billingMode === "PROVISIONED" ? table.ProvisionedThroughput?.WriteCapacityUnits : undefined,
      ttlAttribute,
      deletionProtection: table.DeletionProtectionEnabled === true,
      indexes: (table.GlobalSecondaryIndexes ?? []).filter((i) => i.IndexStatus !== "DELETING").map((i) => indexFromDescription(i, table)).sort(byName),
      tags,
    },
    outputs: { tableArn: arn, tableName },
    ownership: ownershipFromTags(tags),
    holdsData,
    ...(table.DeletionProtectionEnabled === true
      ? { deletionBlocked: "deletion protection is on (set deletionProtection: false and apply first)" }
      : {}),
  };
}

async function ttlStep(ddb: DynamoDBClient, tableName: string, enabled: boolean, attributeName: string): Promise<void> {
  try {
    await ddb.send(new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { Enabled: enabled, AttributeName: attributeName } }));
  } catch (err) {
    const done = enabled ? /already enabled/i : /already disabled/i;
    if (errorName(err) === "ValidationException" && err instanceof Error && done.test(err.message)) return;
    throw err;
  }
}

async function mustRead(ddb: DynamoDBClient, tableName: string): Promise<Actual<TableAttrs>> {
  const actual = await readTable(ddb, tableName);
  if (!actual) throw new Error(`table ${tableName} disappeared while chatctl was changing it`);
  return actual;
}

/** Waits until the table is ACTIVE (and reads it) or gone (undefined). */
async function waitSettled(ddb: DynamoDBClient, tableName: string): Promise<Actual<TableAttrs> | undefined> {
  return (await waitActive(ddb, tableName)) ? mustRead(ddb, tableName) : undefined;
}

/** Waits until the table (and its indexes) are ACTIVE; false when it is gone. */
async function waitActive(ddb: DynamoDBClient, tableName: string): Promise<boolean> {
  const deadline = Date.now() + TABLE_WAIT_MS;
  let delay = 50;
  for (;;) {
    const table = await describe(ddb, tableName);
    const indexesBusy = table?.GlobalSecondaryIndexes?.some((i) => i.IndexStatus !== "ACTIVE") ?? false;
    if (!table) return false;
    if (table.TableStatus === "ACTIVE" && !indexesBusy) return true;
    if (Date.now() > deadline) throw new Error(`table ${tableName} is still ${table.TableStatus ?? "settling"} after ${TABLE_WAIT_MS / 60_000} minutes`);
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 5000);
  }
}

function tableArn(ctx: Ctx, tableName: string): string {
  return `arn:${ctx.partition}:dynamodb:${ctx.region}:${ctx.accountId}:table/${tableName}`;
}

function provisioned(p: TableProps): { ReadCapacityUnits: number; WriteCapacityUnits: number } {
  return { ReadCapacityUnits: p.readCapacity ?? 1, WriteCapacityUnits: p.writeCapacity ?? 1 };
}

function sameKey(a: KeyAttributeProps | undefined, b: KeyAttributeProps | undefined): boolean {
  return a?.name === b?.name && a?.type === b?.type;
}

function keyText(k: KeyAttributeProps | undefined): string | undefined {
  return k === undefined ? undefined : `${k.name} (${k.type})`;
}


function keySchema(partitionKey: KeyAttributeProps, sortKey: KeyAttributeProps | undefined): KeySchemaElement[] {
  return [
    { AttributeName: partitionKey.name, KeyType: "HASH" },
    ...(sortKey ? [{ AttributeName: sortKey.name, KeyType: "RANGE" as const }] : []),
  ];
}

/** Every key attribute of the table and the given indexes, once each (the spec checks that types agree). */
function attributeDefinitions(p: TableProps, indexes: readonly IndexProps[]): AttributeDefinition[] {
  const seen = new Map<string, KeyAttributeProps>();
  for (const k of [p.partitionKey, p.sortKey, ...indexes.flatMap((i) => [i.partitionKey, i.sortKey])]) {
    if (k && !seen.has(k.name)) seen.set(k.name, k);
  }
  return [...seen.values()].map((k) => ({ AttributeName: k.name, AttributeType: k.type }));
}

function indexDefinition(p: TableProps, index: IndexProps): GlobalSecondaryIndex {
  return {
    IndexName: index.name,
    KeySchema: keySchema(index.partitionKey, index.sortKey),
    Projection: { ProjectionType: index.projection, ...(index.projection === "INCLUDE" ? { NonKeyAttributes: index.include ?? [] } : {}) },
    ...(p.billingMode === "PROVISIONED" ? { ProvisionedThroughput: provisioned(p) } : {}),
  };
}

function indexFromDescription(i: GlobalSecondaryIndexDescription, table: TableDescription): IndexProps {
  const key = (keyType: "HASH" | "RANGE"): KeyAttributeProps | undefined => {
    const name = i.KeySchema?.find((k) => k.KeyType === keyType)?.AttributeName;
    if (name === undefined) return undefined;
    return { name, type: table.AttributeDefinitions?.find((ad) => ad.AttributeName === name)?.AttributeType ?? "S" };
  };
  const sortKey = key("RANGE");
  const projection = i.Projection?.ProjectionType ?? "ALL";
  return {
    name: i.IndexName ?? "",
    partitionKey: key("HASH") ?? { name: "", type: "S" },
    ...(sortKey ? { sortKey } : {}),
    ...(projection === "INCLUDE" ? { projection, include: [...(i.Projection?.NonKeyAttributes ?? [])].sort() } : { projection }),
  };
}

function byName(a: IndexProps, b: IndexProps): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function indexText(i: IndexProps | undefined): string | undefined {
  if (i === undefined) return undefined;
  const keys = `${keyText(i.partitionKey)}${i.sortKey ? `, ${keyText(i.sortKey)}` : ""}`;
  const projection = i.projection === "INCLUDE" ? `INCLUDE ${(i.include ?? []).join(", ")}` : i.projection;
  return `${keys}; ${projection}`;
}

/** One change per index added, removed or changed; a changed index is rebuilt (DynamoDB cannot alter one). */
function diffIndexes(want: readonly IndexProps[], have: readonly IndexProps[]): Change[] {
  const changes: Change[] = [];
  const names = [...new Set([...want.map((i) => i.name), ...have.map((i) => i.name)])].sort();
  for (const name of names) {
    const before = indexText(have.find((i) => i.name === name));
    const after = indexText(want.find((i) => i.name === name));
    if (before === after) continue;
    changes.push({
      path: `indexes.${name}`,
      before,
      after,
      ...(before !== undefined && after !== undefined ? { reason: "an index's keys and projection are fixed: it is deleted and built again" } : {}),
    });
  }
  return changes;
}

/**
 * Brings the table's indexes to the spec one step at a time: UpdateTable "can
 * create or delete only one global secondary index per UpdateTable operation"
 * (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateTable.html,
 * GlobalSecondaryIndexUpdates), and the next step must wait until the previous
 * index is ACTIVE or gone. Deletions come first (a changed index is deleted, then
 * built again). Each step starts from the table as it is now, so an apply that
 * was interrupted halfway picks up where it stopped.
 */
async function reconcileIndexes(ddb: DynamoDBClient, p: TableProps): Promise<void> {
  const want = p.indexes ?? [];
  for (;;) {
    if (!(await waitActive(ddb, p.tableName))) throw new Error(`table ${p.tableName} disappeared while chatctl was changing its indexes`);
    const table = await describe(ddb, p.tableName);
    if (!table) throw new Error(`table ${p.tableName} disappeared while chatctl was changing its indexes`);
    const have = (table.GlobalSecondaryIndexes ?? []).map((i) => indexFromDescription(i, table));
    const stale = have.find((h) => indexText(h) !== indexText(want.find((w) => w.name === h.name)));
    if (stale) {
      await ddb.send(new UpdateTableCommand({ TableName: p.tableName, GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: stale.name } }] }));
      continue;
    }
    const missing = want.find((w) => !have.some((h) => h.name === w.name));
    if (!missing) return;
    await ddb.send(
      new UpdateTableCommand({
        TableName: p.tableName,
        AttributeDefinitions: attributeDefinitions(p, [missing]),
        GlobalSecondaryIndexUpdates: [{ Create: indexDefinition(p, missing) }],
      }),
    );
  }
}
