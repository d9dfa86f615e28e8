import { DescribeTableCommand, ScanCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { positiveIntEnv } from "./env.js";
import { idsOf } from "./fanout.js";

/**
 * Broadcasts past one Lambda. One invocation posts ~5,000 messages/s at best, so a
 * broadcast to 100,000 connections would run past API Gateway's 29 s integration
 * timeout and hold every id in one sandbox's memory. Above a threshold the sender
 * splits the table with DynamoDB's parallel Scan (Segment / TotalSegments:
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Scan.html#Scan.ParallelScan)
 * and invokes the broadcast function once per segment, asynchronously
 * (InvocationType Event: Lambda queues the event and answers 202 at once,
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html).
 */

/** What the sender hands each broadcast invocation. */
export interface SegmentJob {
  readonly kind: "chatctl.broadcast-segment";
  readonly table: string;
  /** Where the @connections API is: the stage the message came through. */
  readonly domainName: string;
  readonly stage: string;
  /** The message as every client receives it. */
  readonly data: string;
  readonly segment: number;
  readonly totalSegments: number;
  /** The message's request id, for the logs. */
  readonly requestId?: string;
}

export interface ParallelSettings {
  /** Above this many connections the fan-out is split (CHAT_PARALLEL_THRESHOLD, default 10,000). */
  readonly threshold: number;
  /** Connections per segment aimed at (CHAT_SEGMENT_SIZE, default 10,000: about 2 s of posting each). */
  readonly segmentSize: number;
  /** Most segments (CHAT_MAX_SEGMENTS, default 100: with 10,000 posts/s for the account, more only queue). */
  readonly maxSegments: number;
}

export function parallelSettings(env: NodeJS.ProcessEnv = process.env): ParallelSettings {
  return {
    threshold: positiveIntEnv("CHAT_PARALLEL_THRESHOLD", 10_000, env),
    segmentSize: positiveIntEnv("CHAT_SEGMENT_SIZE", 10_000, env),
    maxSegments: Math.min(1_000_000, positiveIntEnv("CHAT_MAX_SEGMENTS", 100, env)),
  };
}

export type FirstLook = { readonly split: false; readonly ids: string[] } | { readonly split: true; readonly segments: number };

/**
 * Reads up to `threshold` ids. If that is the whole table, the caller posts to them
 * itself (no second read); otherwise it says how many segments to split into, from
 * DescribeTable's ItemCount (refreshed about every six hours, so never below what
 * was just read).
 */
export async function firstLook(db: DynamoDBClient, table: string, settings: ParallelSettings): Promise<FirstLook> {
  const page = await db.send(new ScanCommand({ TableName: table, ProjectionExpression: "connectionId", Limit: settings.threshold }));
  const ids = idsOf(page.Items);
  if (!page.LastEvaluatedKey) return { split: false, ids };
  const described = await db.send(new DescribeTableCommand({ TableName: table }));
  const estimate = Math.max(ids.length + 1, described.Table?.ItemCount ?? 0);
  const segments = Math.min(settings.maxSegments, Math.max(2, Math.ceil(estimate / settings.segmentSize)));
  return { split: true, segments };
}

let cached: { key: string; client: LambdaClient } | undefined;

function lambda(env: NodeJS.ProcessEnv = process.env): LambdaClient {
  const key = [env.AWS_REGION, env.AWS_ENDPOINT_URL_LAMBDA, env.AWS_ENDPOINT_URL, env.AWS_ACCESS_KEY_ID, env.AWS_SESSION_TOKEN].join("\n");
  if (!cached || cached.key !== key) {
    cached?.client.destroy();
    // Throttling (TooManyRequestsException, 429) is retried with backoff by the SDK's standard strategy.
    cached = { key, client: new LambdaClient({ maxAttempts: 6 }) };
  }
  return cached.client;
}

export interface SplitReport {
  readonly segments: number;
  /** Segments whose invocation Lambda did not accept (after retries); their connections got nothing. */
  readonly notStarted: number;
  readonly errors: Record<string, number>;
}

/** Invokes `functionName` once per segment, asynchronously, at most 16 Invoke calls in flight. */
export async function startSegments(functionName: string, job: Omit<SegmentJob, "segment" | "totalSegments">, segments: number): Promise<SplitReport> {
  const client = lambda();
  const errors: Record<string, number> = {};
  let notStarted = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < segments) {
      const segment = next++;
      const event: SegmentJob = { ...job, segment, totalSegments: segments };
      try {
        const out = await client.send(new InvokeCommand({ FunctionName: functionName, InvocationType: "Event", Payload: Buffer.from(JSON.stringify(event)) }));
        if (out.StatusCode !== 202) throw Object.assign(new Error(`Invoke answered ${out.StatusCode}`), { name: "UnexpectedStatus" });
      } catch (err) {
        notStarted++;
        const name = err instanceof Error ? err.name : "Error";
        errors[name] = (errors[name] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, segments) }, worker));
  return { segments, notStarted, errors };
}

export function isSegmentJob(value: unknown): value is SegmentJob {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    v.kind === "chatctl.broadcast-segment" &&
    typeof v.table === "string" &&
    typeof v.domainName === "string" &&
    typeof v.stage === "string" &&
    typeof v.data === "string" &&
    Number.isInteger(v.segment) &&
    Number.isInteger(v.totalSegments) &&
    (v.segment as number) >= 0 &&
    (v.segment as number) < (v.totalSegments as number)
  );
}
