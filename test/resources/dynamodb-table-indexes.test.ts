import { PutItemCommand, QueryCommand, UpdateTableCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createClients } from "../../src/aws/clients.js";
import { startDynamo, type DynamoBackend } from "../../src/local/dynamodb.js";
import { startFrontDoor, type FrontDoor } from "../../src/local/front-door.js";
import { dynamodbTable } from "../../src/resources/dynamodb-table.js";
import type { Ctx, ResolvedResource } from "../../src/resources/kind.js";
import type { IndexProps, TableProps } from "../../src/resources/props.js";

const region = "ap-northeast-1";
const accountId = "123456789012";
let tableCount = 0;

const byRoom: IndexProps = { name: "byRoom", partitionKey: { name: "room", type: "S" }, sortKey: { name: "connectionId", type: "S" }, projection: "KEYS_ONLY" };
const byUser: IndexProps = { name: "byUser", partitionKey: { name: "user", type: "S" }, projection: "INCLUDE", include: ["room"] };

function desired(indexes: IndexProps[] | undefined): ResolvedResource<TableProps> {
  const props: TableProps = {
    tableName: `rooms-${tableCount}`,
    partitionKey: { name: "connectionId", type: "S" },
    billingMode: "PAY_PER_REQUEST",
    deletionProtection: false,
    ...(indexes ? { indexes } : {}),
    tags: { "chatctl:stack": "my-chat", "chatctl:id": "table.connections" },
  };
  return { id: "table.connections", kind: "dynamodb.table", name: props.tableName, props };
}

describe("dynamodb.table global secondary indexes (against the local DynamoDB)", () => {
  let backend: DynamoBackend;
  let door: FrontDoor;
  let ctx: Ctx;
  let ddb: DynamoDBClient;
  const updates: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    backend = await startDynamo({ accountId });
    backend.beforeCall = async (_service, operation, input) => {
      if (operation === "UpdateTable") updates.push(input);
    };
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
  beforeEach(() => {
    tableCount++;
    updates.length = 0;
  });

  const roomMembers = async (table: string, room: string): Promise<string[]> => {
    const out = await ddb.send(
      new QueryCommand({ TableName: table, IndexName: "byRoom", KeyConditionExpression: "room = :r", ExpressionAttributeValues: { ":r": { S: room } } }),
    );
    return (out.Items ?? []).map((i) => i.connectionId?.S ?? "").sort();
  };

  it("creates the table with its index; the index answers queries and the next plan is empty", async () => {
    const d = desired([byRoom]);
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
    const first = desired([byRoom]);
    await dynamodbTable.create(ctx, first);
    await ddb.send(new PutItemCommand({ TableName: first.props.tableName, Item: { connectionId: { S: "a" }, room: { S: "r1" }, user: { S: "u1" } } }));

    // byRoom changes projection (delete + create), byUser is new.
    const changedRoom: IndexProps = { ...byRoom, projection: "ALL" };
    const second = desired([changedRoom, byUser]);
    const before = (await dynamodbTable.read(ctx, second))!;
    const changes = dynamodbTable.diff(second, before);
    expect(changes.map((c) => [c.path, c.before, c.after])).toEqual([
      ["indexes.byRoom", "room (S), connectionId (S); KEYS_ONLY", "room (S), connectionId (S); ALL"],
      ["indexes.byUser", undefined, "user (S); INCLUDE room"],
    ]);
    const after = await dynamodbTable.update(ctx, second, before, changes);
    expect(after.attributes.indexes).toEqual([changedRoom, byUser]);
    expect(dynamodbTable.diff(second, after)).toEqual([]);
    expect(updates.map((u) => (u.GlobalSecondaryIndexUpdates as unknown[]).length)).toEqual([1, 1, 1]);
    expect(await roomMembers(second.props.tableName, "r1")).toEqual(["a"]);

    const third = desired(undefined);
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
    const d = desired([byRoom]);
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
