import { CreateTableCommand, DescribeTableCommand, PutItemCommand, QueryCommand, UpdateTableCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createClients } from "../../src/aws/clients.js";
import { startDynamo, type DynamoBackend } from "../../src/local/dynamodb.js";
import { startFrontDoor, type FrontDoor } from "../../src/local/front-door.js";
import { AwsError } from "../../src/local/service.js";
import { dynamodbTable } from "../../src/resources/dynamodb-table.js";
import type { Ctx, ResolvedResource } from "../../src/resources/kind.js";
import type { IndexProps, TableProps } from "../../src/resources/props.js";

const region = "ap-northeast-1";
const accountId = "123456789012";
let tableCount = 0;

const byRoom: IndexProps = { name: "byRoom", partitionKey: { name: "room", type: "S" }, sortKey: { name: "connectionId", type: "S" }, projection: "KEYS_ONLY" };
const byUser: IndexProps = { name: "byUser", partitionKey: { name: "user", type: "S" }, projection: "INCLUDE", include: ["room"] };

function desired(overrides: Partial<TableProps> = {}): ResolvedResource<TableProps> {
  const props: TableProps = {
    tableName: `my-chat-connections-${tableCount}`,
    partitionKey: { name: "connectionId", type: "S" },
    billingMode: "PAY_PER_REQUEST",
    ttlAttribute: "expiresAt",
    deletionProtection: false,
    tags: { app: "chat", "chatctl:stack": "my-chat", "chatctl:id": "table.connections" },
    ...overrides,
  };
  return { id: "table.connections", kind: "dynamodb.table", name: props.tableName, props };
}

describe("dynamodb.table (real DynamoDBClient against the dynalite backend)", () => {
  let backend: DynamoBackend;
  let door: FrontDoor;
  let ctx: Ctx;
  let ddb: DynamoDBClient;

  beforeAll(async () => {
    backend = await startDynamo({ accountId });
    door = await startFrontDoor([backend.wire]);
    ctx = {
      region,
      accountId,
      partition: "aws",
      stack: "my-chat",
      clients: createClients({ region, credentials: { accessKeyId: "x", secretAccessKey: "y" }, endpoint: door.url, maxAttempts: 1 }),
    };
    ddb = ctx.clients.dynamodb();
  });
  afterAll(async () => {
    ddb.destroy();
    await door.close();
    await backend.close();
  });
  // Each test works on its own table: one backend serves them all.
  beforeEach(() => {
    tableCount++;
    updates.length = 0;
  });
  // UpdateTable requests as the backend received them, while a test records them.
  const updates: Array<Record<string, unknown>> = [];

  it("reads nothing when the table is absent", async () => {
    expect(await dynamodbTable.read(ctx, desired())).toBeUndefined();
  });

  it("creates an ACTIVE table with TTL and tags; reading it back shows no difference and no data", async () => {
    const d = desired();
    const tableArn = `arn:aws:dynamodb:${region}:${accountId}:table/${d.props.tableName}`;
    expect(dynamodbTable.knownOutputs(ctx, d).tableArn).toBe(tableArn);
    const created = await dynamodbTable.create(ctx, d);
    expect(created).toMatchObject({ physicalId: tableArn, outputs: { tableArn }, attributes: { status: "ACTIVE", ttlAttribute: "expiresAt" }, holdsData: false });

    const actual = await dynamodbTable.read(ctx, d);
    expect(actual?.ownership).toEqual({ by: "tags", stack: "my-chat", id: "table.connections" });
    expect(dynamodbTable.diff(d, actual!)).toEqual([]);
  });

  it("says a table with items holds data", async () => {
    const d = desired();
    await dynamodbTable.create(ctx, d);
    await ddb.send(new PutItemCommand({ TableName: d.props.tableName, Item: { connectionId: { S: "abc" } } }));
    expect((await dynamodbTable.read(ctx, d))?.holdsData).toBe(true);
  });

  it("replaces the table when a key changes, and says the data goes with it", async () => {
    const d = desired({ sortKey: { name: "sentAt", type: "N" } });
    const actual = await dynamodbTable.create(ctx, d);
    const partition = dynamodbTable.diff(desired({ sortKey: { name: "sentAt", type: "N" }, partitionKey: { name: "roomId", type: "S" } }), actual);
    expect(partition).toEqual([
      { path: "partitionKey", before: "connectionId (S)", after: "roomId (S)", forcesReplacement: true, reason: "partition key changed", destroysData: true },
    ]);
    const sort = dynamodbTable.diff(desired({ sortKey: { name: "sentAt", type: "S" } }), actual);
    expect(sort).toEqual([{ path: "sortKey", before: "sentAt (N)", after: "sentAt (S)", forcesReplacement: true, reason: "sort key changed", destroysData: true }]);
    const dropped = dynamodbTable.diff(desired(), actual);
    expect(dropped[0]).toMatchObject({ path: "sortKey", after: undefined, forcesReplacement: true, destroysData: true });
  });

  it("updates billing, protection, TTL and tags in place", async () => {
    const d = desired();
    const created = await dynamodbTable.create(ctx, d);
    const next = desired({
      billingMode: "PROVISIONED",
      readCapacity: 2,
      writeCapacity: 3,
      deletionProtection: true,
      ttlAttribute: "ttl",
      tags: { "chatctl:stack": "my-chat", "chatctl:id": "table.connections", tier: "gold" },
    });
    const changes = dynamodbTable.diff(next, created);
    expect(changes.map((c) => c.path)).toEqual(["billingMode", "readCapacity", "writeCapacity", "ttlAttribute", "deletionProtection", "tags.app", "tags.tier"]);
    const updated = await dynamodbTable.update(ctx, next, created, changes);
    expect(updated.attributes).toMatchObject({ billingMode: "PROVISIONED", readCapacity: 2, writeCapacity: 3, deletionProtection: true, ttlAttribute: "ttl", status: "ACTIVE" });
    expect(dynamodbTable.diff(next, (await dynamodbTable.read(ctx, next))!)).toEqual([]);

    const noTtl = desired({ ...next.props, ttlAttribute: undefined });
    const off = dynamodbTable.diff(noTtl, updated);
    expect(off).toEqual([{ path: "ttlAttribute", before: "ttl", after: undefined }]);
    const disabled = await dynamodbTable.update(ctx, noTtl, updated, off);
    expect(disabled.attributes.ttlAttribute).toBeUndefined();
  });

  it("deletes as told, even a table with items; deleting again succeeds", async () => {
    const d = desired();
    await dynamodbTable.create(ctx, d);
    await ddb.send(new PutItemCommand({ TableName: d.props.tableName, Item: { connectionId: { S: "abc" } } }));
    const actual = (await dynamodbTable.read(ctx, d))!;
    await dynamodbTable.delete(ctx, actual);
    expect(await dynamodbTable.read(ctx, d)).toBeUndefined();
    await expect(dynamodbTable.delete(ctx, actual)).resolves.toBeUndefined();
  });

  it("a protected table is not deleted: the error says why", async () => {
    const d = desired({ deletionProtection: true });
    const actual = await dynamodbTable.create(ctx, d);
    await expect(dynamodbTable.delete(ctx, actual)).rejects.toMatchObject({ name: "ResourceInUseException" });
  });

  it("converges when the table already exists from an interrupted run", async () => {
    const d = desired();
    await ddb.send(
      new CreateTableCommand({
        TableName: d.props.tableName,
        BillingMode: "PAY_PER_REQUEST",
        KeySchema: [{ AttributeName: "connectionId", KeyType: "HASH" }],
        AttributeDefinitions: [{ AttributeName: "connectionId", AttributeType: "S" }],
        Tags: [{ Key: "chatctl:stack", Value: "my-chat" }],
      }),
    );
    const created = await dynamodbTable.create(ctx, d);
    expect(created.attributes.ttlAttribute).toBe("expiresAt");
    expect(dynamodbTable.diff(d, created)).toEqual([]);
  });

  it("reports a table of the same name that is not ours, and will not take it over", async () => {
    const d = desired();
    await ddb.send(
      new CreateTableCommand({
        TableName: d.props.tableName,
        BillingMode: "PAY_PER_REQUEST",
        KeySchema: [{ AttributeName: "connectionId", KeyType: "HASH" }],
        AttributeDefinitions: [{ AttributeName: "connectionId", AttributeType: "S" }],
        Tags: [{ Key: "chatctl:stack", Value: "other-stack" }],
      }),
    );
    expect((await dynamodbTable.read(ctx, d))?.ownership).toEqual({ by: "tags", stack: "other-stack", id: undefined });
    await expect(dynamodbTable.create(ctx, d)).rejects.toThrow(/other-stack/);

    const untagged = desired({ tableName: `untagged-${tableCount}` });
    await ddb.send(
      new CreateTableCommand({
        TableName: untagged.props.tableName,
        BillingMode: "PAY_PER_REQUEST",
        KeySchema: [{ AttributeName: "connectionId", KeyType: "HASH" }],
        AttributeDefinitions: [{ AttributeName: "connectionId", AttributeType: "S" }],
      }),
    );
    expect((await dynamodbTable.read(ctx, untagged))?.ownership).toEqual({ by: "tags", stack: undefined, id: undefined });
  });

  it("lets a throttling error through with its name", async () => {
    backend.beforeCall = (_service, operation) => {
      if (operation === "DescribeTable") throw new AwsError("ThrottlingException", "Rate exceeded", 400);
    };
    try {
      await expect(dynamodbTable.read(ctx, desired())).rejects.toMatchObject({ name: "ThrottlingException" });
    } finally {
      backend.beforeCall = undefined;
    }
  });

  it("lists the tables this stack owns", async () => {
    const mine = desired();
    await dynamodbTable.create(ctx, mine);
    const found = await dynamodbTable.list(ctx);
    expect(found.map((t) => t.attributes.tableName)).toContain(mine.props.tableName);
    expect(found.every((t) => t.attributes.tags["chatctl:stack"] === "my-chat")).toBe(true);
    expect((await ddb.send(new DescribeTableCommand({ TableName: mine.props.tableName }))).Table?.TableStatus).toBe("ACTIVE");
  });

  const roomMembers = async (table: string, room: string): Promise<string[]> => {
    const out = await ddb.send(
      new QueryCommand({ TableName: table, IndexName: "byRoom", KeyConditionExpression: "room = :r", ExpressionAttributeValues: { ":r": { S: room } } }),
    );
    return (out.Items ?? []).map((i) => i.connectionId?.S ?? "").sort();
  };

  it("creates the table with its index; the index answers queries and the next plan is empty", async () => {
    const d = desired({ indexes: [byRoom] });
    const created = await dynamodbTable.create(ctx, d);
    expect(created.attributes.indexes).toEqual([byRoom]);
    expect(dynamodbTable.diff(d, created)).toEqual([]);
    for (const [id, room] of [["a", "r1"], ["b", "r2"], ["c", "r1"]] as const) {
      await ddb.send(new PutItemCommand({ TableName: d.props.tableName, Item: { connectionId: { S: id }, room: { S: room } } }));
    }
    await ddb.send(new PutItemCommand({ TableName: d.props.tableName, Item: { connectionId: { S: "lobby" } } }));
    expect(await roomMembers(d.props.tableName, "r1")).toEqual(["a", "c"]);
  });

  it("adds, changes and removes indexes one UpdateTable at a time, keeping the items", async () => {
    const first = desired({ indexes: [byRoom] });
    await dynamodbTable.create(ctx, first);
    await ddb.send(new PutItemCommand({ TableName: first.props.tableName, Item: { connectionId: { S: "a" }, room: { S: "r1" }, user: { S: "u1" } } }));

    // byRoom changes projection (delete + create), byUser is new.
    const changedRoom: IndexProps = { ...byRoom, projection: "ALL" };
    const second = desired({ indexes: [changedRoom, byUser] });
    const before = (await dynamodbTable.read(ctx, second))!;
    const changes = dynamodbTable.diff(second, before);
    expect(changes.map((c) => [c.path, c.before, c.after])).toEqual([
      ["indexes.byRoom", "room (S), connectionId (S); KEYS_ONLY", "room (S), connectionId (S); ALL"],
      ["indexes.byUser", undefined, "user (S); INCLUDE room"],
    ]);
    backend.beforeCall = async (_service, operation, input) => {
      if (operation === "UpdateTable") updates.push(input);
    };
    const after = await dynamodbTable.update(ctx, second, before, changes).finally(() => (backend.beforeCall = undefined));
    expect(after.attributes.indexes).toEqual([changedRoom, byUser]);
    expect(dynamodbTable.diff(second, after)).toEqual([]);
    expect(updates.map((u) => (u.GlobalSecondaryIndexUpdates as unknown[]).length)).toEqual([1, 1, 1]);
    expect(await roomMembers(second.props.tableName, "r1")).toEqual(["a"]);

    const third = desired();
    const removing = dynamodbTable.diff(third, after);
    expect(removing.map((c) => [c.path, c.after])).toEqual([
      ["indexes.byRoom", undefined],
      ["indexes.byUser", undefined],
    ]);
    const last = await dynamodbTable.update(ctx, third, after, removing);
    expect(last.attributes.indexes).toEqual([]);
    expect(last.holdsData).toBe(true);
  });

  it("the local DynamoDB refuses two index changes in one UpdateTable, as AWS does", async () => {
    const d = desired({ indexes: [byRoom] });
    await dynamodbTable.create(ctx, d);
    const both = new UpdateTableCommand({
      TableName: d.props.tableName,
      AttributeDefinitions: [{ AttributeName: "user", AttributeType: "S" }],
      GlobalSecondaryIndexUpdates: [
        { Delete: { IndexName: "byRoom" } },
        { Create: { IndexName: "byUser", KeySchema: [{ AttributeName: "user", KeyType: "HASH" }], Projection: { ProjectionType: "KEYS_ONLY" } } },
      ],
    });
    await expect(ddb.send(both)).rejects.toMatchObject({ name: "LimitExceededException" });
  });
});
