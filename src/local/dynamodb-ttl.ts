import type { Call, Json } from "./dynamodb-transactions.js";

/**
 * Time to Live for the local DynamoDB: dynalite keeps the setting nowhere and
 * deletes nothing, so a periodic sweep removes the items of TTL-enabled tables
 * whose TTL attribute is a Number of epoch seconds earlier than now.
 *
 * As https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/howitworks-ttl.html
 * and the UpdateTimeToLive reference describe it: only Number attributes count
 * (other types are ignored), values more than five years in the past are ignored,
 * deletion is in the background (AWS takes up to days; here within one sweep
 * interval), and an expired item not yet deleted still shows in reads.
 * Each delete is conditional on the item still being expired, so an item a
 * handler refreshed between scan and delete survives.
 */

const FIVE_YEARS_S = 5 * 365 * 24 * 60 * 60;

export interface TtlSweep {
  /** One pass over every TTL-enabled table; resolves with the number of items removed. */
  sweep(): Promise<number>;
  stop(): void;
}

export function startTtlSweep(opts: {
  readonly call: Call;
  /** The TTL-enabled tables, and their attribute, at the time of the sweep. */
  readonly tables: () => ReadonlyArray<readonly [string, string]>;
  readonly intervalMs: number;
  readonly nowMs?: () => number;
}): TtlSweep {
  const now = opts.nowMs ?? Date.now;
  let running: Promise<number> | undefined;

  async function sweepTable(tableName: string, attribute: string, nowS: number): Promise<number> {
    const described = await opts.call("DescribeTable", { TableName: tableName });
    if (described.status !== 200) return 0;
    const keyNames = ((JSON.parse(described.body) as { Table?: { KeySchema?: Array<{ AttributeName: string }> } }).Table?.KeySchema ?? []).map((k) => k.AttributeName);
    const condition: Json = {
      ConditionExpression: "#ttl < :now AND #ttl > :floor",
      ExpressionAttributeNames: { "#ttl": attribute },
      ExpressionAttributeValues: { ":now": { N: String(nowS) }, ":floor": { N: String(nowS - FIVE_YEARS_S) } },
    };
    let removed = 0;
    let start: Json | undefined;
    do {
      const page = await opts.call("Scan", {
        TableName: tableName,
        FilterExpression: condition.ConditionExpression,
        ExpressionAttributeNames: condition.ExpressionAttributeNames,
        ExpressionAttributeValues: condition.ExpressionAttributeValues,
        ...(start ? { ExclusiveStartKey: start } : {}),
      });
      if (page.status !== 200) return removed;
      const out = JSON.parse(page.body) as { Items?: Json[]; LastEvaluatedKey?: Json };
      for (const item of out.Items ?? []) {
        const key = Object.fromEntries(keyNames.map((n) => [n, item[n]]));
        const res = await opts.call("DeleteItem", { TableName: tableName, Key: key, ...condition });
        if (res.status === 200) removed++;
      }
      start = out.LastEvaluatedKey;
    } while (start);
    return removed;
  }

  async function sweep(): Promise<number> {
    const nowS = Math.floor(now() / 1000);
    let removed = 0;
    for (const [table, attribute] of opts.tables()) removed += await sweepTable(table, attribute, nowS);
    return removed;
  }

  const timer = setInterval(() => {
    running ??= sweep().finally(() => (running = undefined));
  }, opts.intervalMs);
  timer.unref();

  return {
    sweep: () => (running ??= sweep().finally(() => (running = undefined))),
    stop: () => clearInterval(timer),
  };
}
