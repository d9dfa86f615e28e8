import { PutItemCommand, TagResourceCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AwsClients } from "../../src/aws/clients.js";
import { createTable, parseKey, scanTable } from "../../src/ops/dynamodb.js";
import { findTable } from "../../src/ops/lookup.js";
import { TAG_STACK } from "../../src/resources/kind.js";
import { clientsOn, makeModels, noSleep, region, startLocalDynamo, type LocalDynamo } from "./world.js";

let dynamo: LocalDynamo;
let clients: AwsClients;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  clients = await clientsOn(makeModels(), dynamo.url);
});
afterAll(async () => {
  await dynamo.close();
});

async function put(table: string, item: Record<string, AttributeValue>): Promise<void> {
  await clients.dynamodb().send(new PutItemCommand({ TableName: table, Item: item }));
}

describe("dynamodb-create", () => {
  it("creates an on-demand table, waits until ACTIVE, and turns on TTL; again changes nothing", async () => {
    const created = await createTable(clients, { tableName: "conns", partitionKey: parseKey("connectionId", "pk"), ttlAttribute: "expiresAt", sleep: noSleep });
    expect(created).toMatchObject({ tableName: "conns", outcome: "created", status: "ACTIVE", ttlAttribute: "expiresAt" });
    const again = await createTable(clients, { tableName: "conns", partitionKey: parseKey("connectionId", "pk"), ttlAttribute: "expiresAt", sleep: noSleep });
    expect(again.outcome).toBe("unchanged");
    const found = await findTable(clients, "conns");
    expect(found).toMatchObject({ partitionKey: "connectionId", sortKey: undefined, status: "ACTIVE" });
  });

  it("refuses other keys for an existing table, naming both", async () => {
    await createTable(clients, { tableName: "rooms", partitionKey: parseKey("roomId", "pk"), sortKey: parseKey("sentAt:N", "sk"), sleep: noSleep });
    await expect(createTable(clients, { tableName: "rooms", partitionKey: parseKey("roomId", "pk"), sleep: noSleep })).rejects.toThrow(
      "table rooms already exists with partition key roomId:S and sort key sentAt:N; DynamoDB cannot change a table's keys (asked: roomId:S, none)",
    );
  });

  it("checks names and key syntax before any call", async () => {
    expect(() => parseKey("a:X", "partition key")).toThrow("partition key 'a:X' is not a key attribute");
    await expect(createTable(clients, { tableName: "a/b", partitionKey: parseKey("id", "pk") })).rejects.toThrow("cannot be part of an id");
    await expect(createTable(clients, { tableName: "ab", partitionKey: parseKey("id", "pk") })).rejects.toThrow("must be 3-255 characters");
  });
});

describe("dynamodb-scan", () => {
  beforeAll(async () => {
    await createTable(clients, { tableName: "items", partitionKey: parseKey("id", "pk"), sleep: noSleep });
    for (let i = 0; i < 25; i++) {
      await put("items", {
        id: { S: `item-${String(i).padStart(2, "0")}` },
        n: { N: String(i) },
        big: { N: "123456789012345678901234567890" },
        tags: { SS: ["a", "b"] },
        nested: { M: { ok: { BOOL: true }, list: { L: [{ N: "1.5" }, { NULL: true }] } } },
        raw: { B: new Uint8Array([1, 2, 3]) },
      });
    }
  });

  it("reads every page and gives plain JSON items", async () => {
    const all = await scanTable(clients, "items");
    expect(all.items).toHaveLength(25);
    expect(all.truncated).toBe(false);
    const one = all.items.find((i) => i.id === "item-03");
    expect(one).toEqual({
      id: "item-03",
      n: 3,
      big: "123456789012345678901234567890",
      tags: ["a", "b"],
      nested: { list: [1.5, null], ok: true },
      raw: Buffer.from([1, 2, 3]).toString("base64"),
    });
  });

  it("stops at --limit across pages", async () => {
    const some = await scanTable(clients, "items", 7);
    expect(some.items).toHaveLength(7);
    expect(some.truncated).toBe(true);
    await expect(scanTable(clients, "items", 0)).rejects.toThrow("--limit must be a positive whole number");
  });

  it("names the tables there when the table is missing", async () => {
    await expect(scanTable(clients, "nope")).rejects.toThrow(`no table or stack 'nope' in ${region}; tables there: `);
  });
});

describe("a stack name stands for its one table", () => {
  it("finds the table tagged with the stack, and refuses to pick between two", async () => {
    const tag = async (name: string, stack: string) => {
      const t = await createTable(clients, { tableName: name, partitionKey: parseKey("connectionId", "pk"), sleep: noSleep });
      await clients.dynamodb().send(new TagResourceCommand({ ResourceArn: t.tableArn, Tags: [{ Key: TAG_STACK, Value: stack }] }));
    };
    await tag("solo-connections", "solo");
    await createTable(clients, { tableName: "solo-untagged", partitionKey: parseKey("id", "pk"), sleep: noSleep });
    expect((await findTable(clients, "solo")).tableName).toBe("solo-connections");
    await tag("duo-a", "duo");
    await tag("duo-b", "duo");
    await expect(findTable(clients, "duo")).rejects.toThrow("stack duo has 2 tables (duo-a and duo-b); name the table");
  });
});
