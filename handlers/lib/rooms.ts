import { ConditionalCheckFailedException, QueryCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { idsOf } from "./fanout.js";

/**
 * Rooms: a connection's item carries the room it joined, and a global secondary
 * index keyed on that attribute lists a room's members. Items without a room are
 * not in the index (a sparse index), so the lobby costs the index nothing.
 */

/** The index the spec defines for rooms (CHAT_ROOM_INDEX overrides). */
export function roomIndexName(env: NodeJS.ProcessEnv = process.env): string {
  return env.CHAT_ROOM_INDEX || "byRoom";
}

/** DynamoDB refuses empty strings as index keys; long names only cost index storage. */
export const MAX_ROOM_CHARS = 256;

/** undefined when `value` can name a room, else what is wrong with it. */
export function roomProblem(value: unknown): string | undefined {
  if (typeof value !== "string") return '"room" must be a string';
  if (value === "") return '"room" must not be empty';
  if (value.length > MAX_ROOM_CHARS) return `"room" must be at most ${MAX_ROOM_CHARS} characters`;
  return undefined;
}

/** Puts the connection in `room` (leaving any other). False when the connection's item is gone. */
export async function joinRoom(db: DynamoDBClient, table: string, connectionId: string, room: string): Promise<boolean> {
  try {
    await db.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { connectionId: { S: connectionId } },
        UpdateExpression: "SET #room = :room",
        // No item means the connection went away meanwhile: do not create one for it.
        ConditionExpression: "attribute_exists(connectionId)",
        ExpressionAttributeNames: { "#room": "room" },
        ExpressionAttributeValues: { ":room": { S: room } },
      }),
    );
    return true;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException || (err as { name?: string }).name === "ConditionalCheckFailedException") return false;
    throw err;
  }
}

/** The ids of a room's members through the index, page by page. */
export async function* roomMemberIds(db: DynamoDBClient, table: string, index: string, room: string, pageSize?: number): AsyncGenerator<string[]> {
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await db.send(
      new QueryCommand({
        TableName: table,
        IndexName: index,
        KeyConditionExpression: "#room = :room",
        ExpressionAttributeNames: { "#room": "room" },
        ExpressionAttributeValues: { ":room": { S: room } },
        ProjectionExpression: "connectionId",
        ...(pageSize ? { Limit: pageSize } : {}),
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    yield idsOf(page.Items);
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}
