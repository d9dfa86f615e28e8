import {
  CreateTableCommand,
  DynamoDBClient,
  ExecuteStatementCommand,
  GetItemCommand,
  PutItemCommand,
  TransactGetItemsCommand,
  TransactWriteItemsCommand,
  TransactionCanceledException,
  UpdateTimeToLiveCommand,
  ScanCommand,
} from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDynamo, type DynamoBackend } from "../../src/local/dynamodb.js";
import { startFrontDoor, type FrontDoor } from "../../src/local/front-door.js";
import { errorOf } from "../support/ctx.js";

const region = "ap-northeast-1";

describe("DynamoDB transactions, TTL and unimplemented operations over the local backend", () => {
  let backend: DynamoBackend;
  let door: FrontDoor;
  let ddb: DynamoDBClient;
  const logged: string[] = [];

  beforeAll(async () => {
    backend = await startDynamo({ logger: (l) => logged.push(l) });
    door = await startFrontDoor([backend.wire]);
    ddb = new DynamoDBClient({ region, endpoint: door.url, credentials: { accessKeyId: "x", secretAccessKey: "y" }, maxAttempts: 1 });
    for (const name of ["rooms", "members"]) {
      await ddb.send(
        new CreateTableCommand({
          TableName: name,
          BillingMode: "PAY_PER_REQUEST",
          KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
          AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
        }),
      );
    }
  });
  afterAll(async () => {
    ddb.destroy();
    await door.close();
    await backend.close();
  });

  const get = async (table: string, pk: string) => (await ddb.send(new GetItemCommand({ TableName: table, Key: { pk: { S: pk } } }))).Item;

  it("writes every action of a transaction whose conditions hold, and nothing when one fails, with a reason per action", async () => {
    await ddb.send(new PutItemCommand({ TableName: "rooms", Item: { pk: { S: "lobby" }, members: { N: "0" } } }));
    const join = (who: string) =>
      new TransactWriteItemsCommand({
        TransactItems: [
          { Put: { TableName: "members", Item: { pk: { S: who } }, ConditionExpression: "attribute_not_exists(pk)" } },
          { Update: { TableName: "rooms", Key: { pk: { S: "lobby" } }, UpdateExpression: "ADD members :one", ExpressionAttributeValues: { ":one": { N: "1" } } } },
        ],
      });
    await ddb.send(join("ann"));
    expect(await get("members", "ann")).toEqual({ pk: { S: "ann" } });
    expect((await get("rooms", "lobby"))?.members).toEqual({ N: "1" });

    const err = await errorOf(ddb.send(join("ann")));
    expect(err).toBeInstanceOf(TransactionCanceledException);
    expect((err as TransactionCanceledException).CancellationReasons).toEqual([{ Code: "ConditionalCheckFailed", Message: "The conditional request failed" }, { Code: "None" }]);
    expect((err as Error).message).toContain("[ConditionalCheckFailed, None]");
    // The counter did not move: the update that passed was undone.
    expect((await get("rooms", "lobby"))?.members).toEqual({ N: "1" });
  });

  it("of ten concurrent transactions claiming one name, exactly one wins and the counter counts one", async () => {
    const claim = (n: number) =>
      ddb.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: "members", Item: { pk: { S: "nick#zed" }, by: { N: String(n) } }, ConditionExpression: "attribute_not_exists(pk)" } },
            { Update: { TableName: "rooms", Key: { pk: { S: "claims" } }, UpdateExpression: "ADD n :one", ExpressionAttributeValues: { ":one": { N: "1" } } } },
          ],
        }),
      );
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, n) => claim(n)));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect((await get("rooms", "claims"))?.n).toEqual({ N: "1" });
  });

  it("a failed ConditionCheck cancels the writes before it and hands back the item with ALL_OLD; a passing one leaves no item behind", async () => {
    await ddb.send(new PutItemCommand({ TableName: "rooms", Item: { pk: { S: "closed" }, open: { BOOL: false } } }));
    const err = await errorOf(
      ddb.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: "members", Item: { pk: { S: "bob" } } } },
            { ConditionCheck: { TableName: "rooms", Key: { pk: { S: "closed" } }, ConditionExpression: "#o = :t", ExpressionAttributeNames: { "#o": "open" }, ExpressionAttributeValues: { ":t": { BOOL: true } }, ReturnValuesOnConditionCheckFailure: "ALL_OLD" } },
          ],
        }),
      ),
    );
    expect((err as TransactionCanceledException).CancellationReasons?.[1]).toEqual({ Code: "ConditionalCheckFailed", Message: "The conditional request failed", Item: { pk: { S: "closed" }, open: { BOOL: false } } });
    expect(await get("members", "bob")).toBeUndefined();

    await ddb.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          { Put: { TableName: "members", Item: { pk: { S: "bob" } } } },
          { ConditionCheck: { TableName: "rooms", Key: { pk: { S: "nowhere" } }, ConditionExpression: "attribute_not_exists(pk)" } },
        ],
      }),
    );
    expect(await get("members", "bob")).toBeDefined();
    expect(await get("rooms", "nowhere")).toBeUndefined();
  });

  it("refuses two actions on one item, and repeats a ClientRequestToken's success without writing again", async () => {
    const twice = await errorOf(
      ddb.send(
        new TransactWriteItemsCommand({
          TransactItems: [{ Put: { TableName: "members", Item: { pk: { S: "cy" } } } }, { Delete: { TableName: "members", Key: { pk: { S: "cy" } } } }],
        }),
      ),
    );
    expect(twice).toMatchObject({ name: "ValidationException", message: "Transaction request cannot include multiple operations on one item" });

    const bump = (token: string, by = "1") =>
      new TransactWriteItemsCommand({
        ClientRequestToken: token,
        TransactItems: [{ Update: { TableName: "rooms", Key: { pk: { S: "count" } }, UpdateExpression: "ADD n :by", ExpressionAttributeValues: { ":by": { N: by } } } }],
      });
    await ddb.send(bump("token-1"));
    await ddb.send(bump("token-1"));
    expect((await get("rooms", "count"))?.n).toEqual({ N: "1" });
    expect(await errorOf(ddb.send(bump("token-1", "2")))).toMatchObject({ name: "IdempotentParameterMismatchException" });
  });

  it("reads items in one TransactGetItems, an absent one as an empty response", async () => {
    await ddb.send(new PutItemCommand({ TableName: "members", Item: { pk: { S: "dee" }, nick: { S: "d" }, x: { N: "1" } } }));
    const out = await ddb.send(
      new TransactGetItemsCommand({
        TransactItems: [
          { Get: { TableName: "members", Key: { pk: { S: "dee" } }, ProjectionExpression: "nick" } },
          { Get: { TableName: "members", Key: { pk: { S: "nobody" } } } },
        ],
      }),
    );
    expect(out.Responses).toEqual([{ Item: { nick: { S: "d" } } }, {}]);
  });

  it("sweeps items whose Number TTL attribute is in the past, and keeps the rest", async () => {
    await ddb.send(new UpdateTimeToLiveCommand({ TableName: "members", TimeToLiveSpecification: { Enabled: true, AttributeName: "expiresAt" } }));
    const nowS = Math.floor(Date.now() / 1000);
    await ddb.send(new PutItemCommand({ TableName: "members", Item: { pk: { S: "gone" }, expiresAt: { N: String(nowS - 10) } } }));
    await ddb.send(new PutItemCommand({ TableName: "members", Item: { pk: { S: "later" }, expiresAt: { N: String(nowS + 3600) } } }));
    await ddb.send(new PutItemCommand({ TableName: "members", Item: { pk: { S: "text" }, expiresAt: { S: String(nowS - 10) } } }));
    expect(await backend.sweepExpired()).toBe(1);
    const left = (await ddb.send(new ScanCommand({ TableName: "members" }))).Items?.map((i) => i.pk?.S);
    expect(left).not.toContain("gone");
    expect(left).toEqual(expect.arrayContaining(["later", "text"]));
  });

  it("answers PartiQL with UnknownOperationException and names it once in the log", async () => {
    const err = await errorOf(ddb.send(new ExecuteStatementCommand({ Statement: "SELECT * FROM members" })));
    expect(err).toMatchObject({ name: "UnknownOperationException" });
    await errorOf(ddb.send(new ExecuteStatementCommand({ Statement: "SELECT * FROM members" })));
    expect(logged.filter((l) => l.includes("ExecuteStatement"))).toEqual(["ExecuteStatement (PartiQL) is not implemented by the local cloud; it answered UnknownOperationException"]);
  });
});
