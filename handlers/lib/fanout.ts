import { BatchWriteItemCommand, ScanCommand, type AttributeValue, type DynamoDBClient, type WriteRequest } from "@aws-sdk/client-dynamodb";
import type { ConnectionPoster, Payload, PostResult } from "./poster.js";

export interface BroadcastOptions {
  readonly db: DynamoDBClient;
  readonly table: string;
  readonly poster: ConnectionPoster;
  readonly payload: Payload;
  /** Most PostToConnection requests in flight at once. */
  readonly concurrency: number;
  /** Scan page size; unset means DynamoDB's 1 MB pages. */
  readonly pageSize?: number;
  /** Where the ids come from; the whole table's scan when absent. */
  readonly recipients?: AsyncIterable<string[]>;
}

export interface BroadcastReport {
  recipients: number;
  delivered: number;
  gone: number;
  failed: number;
  pages: number;
  /** Gone connections whose delete failed; the table's TTL removes them eventually. */
  notDeleted: number;
  /** Failed posts by AWS error name (or network error code). */
  errors: Record<string, number>;
}

/** The connection ids of a Scan or Query page. */
export function idsOf(items: ReadonlyArray<Record<string, AttributeValue>> | undefined): string[] {
  const ids: string[] = [];
  for (const item of items ?? []) {
    const id = item.connectionId?.S;
    if (id) ids.push(id);
  }
  return ids;
}

/** One part of a parallel Scan: DynamoDB splits the table into `total` disjoint segments. */
export interface ScanSegment {
  readonly segment: number;
  readonly total: number;
}

/**
 * Every connection id in the table (or in one segment of it), page by page; never
 * assumes one page holds them all.
 */
export async function* scanConnectionIds(db: DynamoDBClient, table: string, pageSize?: number, part?: ScanSegment): AsyncGenerator<string[]> {
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await db.send(
      new ScanCommand({
        TableName: table,
        ProjectionExpression: "connectionId",
        ...(pageSize ? { Limit: pageSize } : {}),
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        ...(part ? { Segment: part.segment, TotalSegments: part.total } : {}),
      }),
    );
    yield idsOf(page.Items);
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}

const BATCH_WRITE_MAX = 25;

/** Deletes connections by id; DynamoDB may leave items unprocessed under load, so those are retried. */
export async function deleteConnections(db: DynamoDBClient, table: string, ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += BATCH_WRITE_MAX) {
    let requests: WriteRequest[] = ids.slice(i, i + BATCH_WRITE_MAX).map((id) => ({ DeleteRequest: { Key: { connectionId: { S: id } } } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      if (attempt >= 6) throw new Error(`could not delete ${requests.length} gone connections: DynamoDB kept them unprocessed`);
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.random() * 50 * 2 ** attempt));
      const out = await db.send(new BatchWriteItemCommand({ RequestItems: { [table]: requests } }));
      requests = out.UnprocessedItems?.[table] ?? [];
    }
  }
}

/**
 * Posts one payload to every connection in the table with at most `concurrency`
 * posts in flight, and deletes those that answer 410 Gone. Reading the next page
 * overlaps with posting the current one.
 */
export async function broadcast(opts: BroadcastOptions): Promise<BroadcastReport> {
  const report: BroadcastReport = { recipients: 0, delivered: 0, gone: 0, failed: 0, pages: 0, notDeleted: 0, errors: {} };
  const goneIds: string[] = [];
  const deletions: Promise<void>[] = [];
  let inFlight = 0;
  // Only one waiter at a time: the loop below, first while sending, then while draining.
  let wake: (() => void) | undefined;
  const deleteLater = (ids: string[]): void => {
    deletions.push(
      deleteConnections(opts.db, opts.table, ids).catch(() => {
        report.notDeleted += ids.length;
      }),
    );
  };

  const settle = (id: string, result: PostResult): void => {
    inFlight--;
    if (result.outcome === "delivered") report.delivered++;
    else if (result.outcome === "gone") {
      report.gone++;
      goneIds.push(id);
      if (goneIds.length >= BATCH_WRITE_MAX) deleteLater(goneIds.splice(0));
    } else {
      report.failed++;
      report.errors[result.errorName] = (report.errors[result.errorName] ?? 0) + 1;
    }
    const w = wake;
    wake = undefined;
    w?.();
  };

  for await (const ids of opts.recipients ?? scanConnectionIds(opts.db, opts.table, opts.pageSize)) {
    report.pages++;
    for (const id of ids) {
      while (inFlight >= opts.concurrency) await new Promise<void>((r) => (wake = r));
      inFlight++;
      report.recipients++;
      void opts.poster.post(id, opts.payload).then((result) => settle(id, result));
    }
  }
  while (inFlight > 0) await new Promise<void>((r) => (wake = r));
  if (goneIds.length > 0) deleteLater(goneIds.splice(0));
  await Promise.all(deletions);
  return report;
}
