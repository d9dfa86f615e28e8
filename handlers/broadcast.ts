import { dynamo } from "./lib/dynamo.js";
import { positiveIntEnv } from "./lib/env.js";
import { broadcast, scanConnectionIds } from "./lib/fanout.js";
import { errorFields, logEvent, since } from "./lib/log.js";
import { isSegmentJob, type SegmentJob } from "./lib/parallel.js";
import { payload } from "./lib/poster.js";
import { fanoutConcurrency, posterForStage } from "./lib/reply.js";

/**
 * One segment of a broadcast the sender split (see lib/parallel.ts): scans its
 * segment of the table and posts the message to each connection there. Invoked
 * asynchronously, so it never throws: Lambda retries a failed asynchronous
 * invocation twice, and a retry would post the segment's messages again.
 * Posts answered 429 (LimitExceededException: the account's @connections rate)
 * or 5xx are retried with jittered exponential backoff, up to CHAT_POST_MAX_ATTEMPTS
 * (default 8) attempts: many segments at once can meet that limit.
 */
export async function handler(event: unknown): Promise<Record<string, unknown>> {
  const started = performance.now();
  if (!isSegmentJob(event)) {
    logEvent({ level: "error", route: "broadcast", rejected: "NotASegment", durationMs: since(started) });
    return { error: "not a broadcast segment" };
  }
  const job: SegmentJob = event;
  const base = { route: "broadcast", segment: job.segment, totalSegments: job.totalSegments, ...(job.requestId ? { requestId: job.requestId } : {}) };
  try {
    const db = dynamo();
    const pageSize = positiveIntEnv("CHAT_SCAN_PAGE_SIZE", 0);
    const report = await broadcast({
      db,
      table: job.table,
      poster: posterForStage(job, process.env, positiveIntEnv("CHAT_POST_MAX_ATTEMPTS", 8)),
      payload: payload(job.data),
      concurrency: fanoutConcurrency(),
      recipients: scanConnectionIds(db, job.table, pageSize || undefined, { segment: job.segment, total: job.totalSegments }),
    });
    logEvent({ level: report.failed > 0 || report.notDeleted > 0 ? "warn" : "info", ...base, ...report, durationMs: since(started) });
    return { ...report };
  } catch (err) {
    logEvent({ level: "error", ...base, ...errorFields(err), durationMs: since(started) });
    return { error: err instanceof Error ? err.message : String(err) };
  }
}
