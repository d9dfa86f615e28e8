import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTagsOfResourceCommand,
  PutItemCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  type CreateTableCommandInput,
} from "@aws-sdk/client-dynamodb";
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from "vitest";
import { startDynamo, type DynamoBackend } from "../../src/local/dynamodb.js";
import { startFrontDoor, type FrontDoor } from "../../src/local/front-door.js";
import { AwsError } from "../../src/local/service.js";
import { errorOf } from "../support/ctx.js";

const region = "ap-northeast-1";
const accountId = "123456789012";
const table = (name: string, extra: Partial<CreateTableCommandInput> = {}): CreateTableCommandInput => ({
  TableName: name,
  BillingMode: "PAY_PER_REQUEST",
  KeySchema: [{ AttributeName: "connectionId", KeyType: "HASH" }],
  AttributeDefinitions: [{ AttributeName: "connectionId", AttributeType: "S" }],
  ...extra,
});

describe("DynamoDB backend (real DynamoDBClient -> front door -> dynalite)", () => {
  let backend: DynamoBackend;
  let door: FrontDoor;
  let ddb: DynamoDBClient;

  beforeEach(async () => {
    backend = await startDynamo({ accountId });
    door = await startFrontDoor([backend.wire]);
    ddb = new DynamoDBClient({ region, endpoint: door.url, credentials: { accessKeyId: "x", secretAccessKey: "y" }, maxAttempts: 1 });
  });
  afterEach(async () => {
    ddb.destroy();
    await door.close();
    await backend.close();
  });

  it("creates a table that is ACTIVE at once, with our region and account in its ARN, and its tags", async () => {
    const created = await ddb.send(new CreateTableCommand(table("my-chat-connections", { Tags: [{ Key: "chatctl:stack", Value: "my-chat" }] })));
    const arn = `arn:aws:dynamodb:${region}:${accountId}:table/my-chat-connections`;
    expect(created.TableDescription?.TableArn).toBe(arn);
    await waitUntilTableExists({ client: ddb, maxWaitTime: 5, minDelay: 1 }, { TableName: "my-chat-connections" });
    const { Table } = await ddb.send(new DescribeTableCommand({ TableName: "my-chat-connections" }));
    expect(Table).toMatchObject({ TableStatus: "ACTIVE", TableArn: arn, DeletionProtectionEnabled: false, BillingModeSummary: { BillingMode: "PAY_PER_REQUEST" } });
    expect((await ddb.send(new ListTagsOfResourceCommand({ ResourceArn: arn }))).Tags).toEqual([{ Key: "chatctl:stack", Value: "my-chat" }]);

    await ddb.send(new PutItemCommand({ TableName: "my-chat-connections", Item: { connectionId: { S: "abc" } } }));
    expect((await ddb.send(new GetItemCommand({ TableName: "my-chat-connections", Key: { connectionId: { S: "abc" } } }))).Item).toEqual({ connectionId: { S: "abc" } });
  });

  it("tags and untags by ARN", async () => {
    await ddb.send(new CreateTableCommand(table("tagged")));
    const arn = `arn:aws:dynamodb:${region}:${accountId}:table/tagged`;
    await ddb.send(new TagResourceCommand({ ResourceArn: arn, Tags: [{ Key: "a", Value: "1" }, { Key: "b", Value: "2" }] }));
    await ddb.send(new UntagResourceCommand({ ResourceArn: arn, TagKeys: ["a"] }));
    expect((await ddb.send(new ListTagsOfResourceCommand({ ResourceArn: arn }))).Tags).toEqual([{ Key: "b", Value: "2" }]);
    expect((await errorOf(ddb.send(new ListTagsOfResourceCommand({ ResourceArn: `arn:aws:dynamodb:${region}:${accountId}:table/nope` })))).name).toBe(
      "ResourceNotFoundException",
    );
  });

  it("keeps the TTL setting per table, refusing what AWS refuses", async () => {
    await ddb.send(new CreateTableCommand(table("ttl-table")));
    expect((await ddb.send(new DescribeTimeToLiveCommand({ TableName: "ttl-table" }))).TimeToLiveDescription).toEqual({ TimeToLiveStatus: "DISABLED" });
    const enabled = await ddb.send(new UpdateTimeToLiveCommand({ TableName: "ttl-table", TimeToLiveSpecification: { Enabled: true, AttributeName: "expiresAt" } }));
    expect(enabled.TimeToLiveSpecification).toEqual({ Enabled: true, AttributeName: "expiresAt" });
    expect((await ddb.send(new DescribeTimeToLiveCommand({ TableName: "ttl-table" }))).TimeToLiveDescription).toEqual({
      TimeToLiveStatus: "ENABLED",
      AttributeName: "expiresAt",
    });
    const again = await errorOf(ddb.send(new UpdateTimeToLiveCommand({ TableName: "ttl-table", TimeToLiveSpecification: { Enabled: true, AttributeName: "expiresAt" } })));
    expect(again.name).toBe("ValidationException");
    const other = await errorOf(ddb.send(new UpdateTimeToLiveCommand({ TableName: "ttl-table", TimeToLiveSpecification: { Enabled: true, AttributeName: "ttl" } })));
    expect(other.message).toContain("different AttributeName");
    await ddb.send(new UpdateTimeToLiveCommand({ TableName: "ttl-table", TimeToLiveSpecification: { Enabled: false, AttributeName: "expiresAt" } }));
    expect((await ddb.send(new DescribeTimeToLiveCommand({ TableName: "ttl-table" }))).TimeToLiveDescription?.TimeToLiveStatus).toBe("DISABLED");
    expect((await errorOf(ddb.send(new DescribeTimeToLiveCommand({ TableName: "nope" })))).name).toBe("ResourceNotFoundException");
    expect((await errorOf(ddb.send(new UpdateTimeToLiveCommand({ TableName: "nope", TimeToLiveSpecification: { Enabled: true, AttributeName: "x" } })))).name).toBe(
      "ResourceNotFoundException",
    );
  });

  it("refuses to delete a protected table until protection is turned off", async () => {
    await ddb.send(new CreateTableCommand(table("protected", { DeletionProtectionEnabled: true })));
    expect((await ddb.send(new DescribeTableCommand({ TableName: "protected" }))).Table?.DeletionProtectionEnabled).toBe(true);
    const refused = await errorOf(ddb.send(new DeleteTableCommand({ TableName: "protected" })));
    expect(refused.name).toBe("ResourceInUseException");
    expect(refused.message).toContain("protected against deletion");

    const updated = await ddb.send(new UpdateTableCommand({ TableName: "protected", DeletionProtectionEnabled: false }));
    expect(updated.TableDescription?.DeletionProtectionEnabled).toBe(false);
    await ddb.send(new DeleteTableCommand({ TableName: "protected" }));
    expect((await errorOf(ddb.send(new UpdateTableCommand({ TableName: "protected", DeletionProtectionEnabled: true })))).name).toBe("ResourceNotFoundException");
  });

  it("updates billing mode and protection in one call, and forgets a deleted table's settings", async () => {
    await ddb.send(new CreateTableCommand(table("billing")));
    await waitUntilTableExists({ client: ddb, maxWaitTime: 5, minDelay: 1 }, { TableName: "billing" });
    await ddb.send(new UpdateTimeToLiveCommand({ TableName: "billing", TimeToLiveSpecification: { Enabled: true, AttributeName: "expiresAt" } }));
    const out = await ddb.send(
      new UpdateTableCommand({ TableName: "billing", BillingMode: "PROVISIONED", ProvisionedThroughput: { ReadCapacityUnits: 2, WriteCapacityUnits: 3 }, DeletionProtectionEnabled: true }),
    );
    expect(out.TableDescription).toMatchObject({ DeletionProtectionEnabled: true, ProvisionedThroughput: { ReadCapacityUnits: 2, WriteCapacityUnits: 3 } });
    await ddb.send(new UpdateTableCommand({ TableName: "billing", DeletionProtectionEnabled: false }));
    await ddb.send(new DeleteTableCommand({ TableName: "billing" }));
    await expect.poll(async () => (await errorOf(ddb.send(new DescribeTableCommand({ TableName: "billing" })))).name).toBe("ResourceNotFoundException");

    await ddb.send(new CreateTableCommand(table("billing")));
    expect((await ddb.send(new DescribeTimeToLiveCommand({ TableName: "billing" }))).TimeToLiveDescription?.TimeToLiveStatus).toBe("DISABLED");
  });
});

describe("DynamoDB backend faults", () => {
  it("answers item operations and table operations on the wire with the checksum of the body it sends", async () => {
    const backend = await startDynamo({ accountId });
    onTestFinished(() => backend.close());
    const call = async (operation: string, body: string) => {
      const out = await backend.wire.handle({
        method: "POST",
        path: "/",
        rawPath: "/",
        query: new URLSearchParams(),
        headers: {
          "content-type": "application/x-amz-json-1.0",
          "x-amz-target": `DynamoDB_20120810.${operation}`,
          authorization: `AWS4-HMAC-SHA256 Credential=x/20260101/${region}/dynamodb/aws4_request, SignedHeaders=host, Signature=0`,
          "x-amz-date": "20260101T000000Z",
        },
        body: Buffer.from(body, "utf8"),
      });
      const text = out.body.toString();
      expect(out.headers["x-amz-crc32"]).toBe(String(crc32(text) >>> 0));
      return { status: out.status, json: JSON.parse(text) as { Table?: { TableStatus?: string } } & Record<string, unknown> };
    };
    expect((await call("CreateTable", JSON.stringify(table("wired")))).status).toBe(200);
    // dynalite makes a table ACTIVE on a timer, even at 0 ms.
    while ((await call("DescribeTable", JSON.stringify({ TableName: "wired" }))).json.Table?.TableStatus !== "ACTIVE") await new Promise((r) => setTimeout(r, 1));
    const item = { connectionId: { S: "c1" }, connectedAt: { N: "1" } };
    expect(await call("PutItem", JSON.stringify({ TableName: "wired", Item: item }))).toEqual({ status: 200, json: {} });
    expect(await call("GetItem", JSON.stringify({ TableName: "wired", Key: { connectionId: { S: "c1" } } }))).toEqual({ status: 200, json: { Item: item } });
    expect(await call("DeleteItem", JSON.stringify({ TableName: "wired", Key: { connectionId: { S: "c1" } }, ReturnValues: "ALL_OLD" }))).toEqual({ status: 200, json: { Attributes: item } });
    expect((await call("DescribeTable", JSON.stringify({ TableName: "wired" }))).json).toMatchObject({ Table: { TableArn: `arn:aws:dynamodb:${region}:${accountId}:table/wired` } });
    expect(await call("PutItem", "{not json")).toEqual({ status: 400, json: { __type: "com.amazon.coral.service#SerializationException" } });
    expect(await call("PutItem", JSON.stringify({ TableName: "missing", Item: item }))).toMatchObject({ status: 400, json: { __type: "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException" } });
  });

  it("records calls and answers an injected error as DynamoDB would", async () => {
    const backend = await startDynamo({});
    const door = await startFrontDoor([backend.wire]);
    const ddb = new DynamoDBClient({ region, endpoint: door.url, credentials: { accessKeyId: "x", secretAccessKey: "y" }, maxAttempts: 1 });
    try {
      backend.beforeCall = (_service, operation) => {
        if (operation === "DescribeTable") throw new AwsError("ThrottlingException", "Rate exceeded", 400);
      };
      const err = await errorOf(ddb.send(new DescribeTableCommand({ TableName: "any-table" })));
      expect(err.name).toBe("ThrottlingException");
      expect(backend.calls.map((c) => `${c.service}.${c.operation}`)).toEqual(["dynamodb.DescribeTable"]);
    } finally {
      ddb.destroy();
      await door.close();
      await backend.close();
    }
  });
});

describe("DynamoDB backend persisted to a folder", () => {
  it("finds its tables, items and settings again after a restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "chatctl-dynamo-"));
    try {
      for (const round of [1, 2]) {
        const backend = await startDynamo({ persistDir: dir, accountId });
        const door = await startFrontDoor([backend.wire]);
        const ddb = new DynamoDBClient({ region, endpoint: door.url, credentials: { accessKeyId: "x", secretAccessKey: "y" }, maxAttempts: 1 });
        try {
          if (round === 1) {
            await ddb.send(new CreateTableCommand(table("kept", { DeletionProtectionEnabled: true })));
            await waitUntilTableExists({ client: ddb, maxWaitTime: 5, minDelay: 1 }, { TableName: "kept" });
            await ddb.send(new UpdateTimeToLiveCommand({ TableName: "kept", TimeToLiveSpecification: { Enabled: true, AttributeName: "expiresAt" } }));
            await ddb.send(new PutItemCommand({ TableName: "kept", Item: { connectionId: { S: "c1" } } }));
          } else {
            expect((await ddb.send(new GetItemCommand({ TableName: "kept", Key: { connectionId: { S: "c1" } } }))).Item).toBeDefined();
            expect((await ddb.send(new DescribeTableCommand({ TableName: "kept" }))).Table?.DeletionProtectionEnabled).toBe(true);
            expect((await ddb.send(new DescribeTimeToLiveCommand({ TableName: "kept" }))).TimeToLiveDescription?.AttributeName).toBe("expiresAt");
          }
        } finally {
          ddb.destroy();
          await door.close();
          await backend.close();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
