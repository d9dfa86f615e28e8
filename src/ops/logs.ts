import { FilterLogEventsCommand, type FilteredLogEvent } from "@aws-sdk/client-cloudwatch-logs";
import type { AwsClients } from "../aws/clients.js";
import { UserError, errorMessage } from "../errors.js";
import { assertSafeId, realSleep, type Sleep } from "./common.js";
import { errorName, isNotFound } from "../aws/errors.js";
import { allPages } from "../aws/pages.js";

export interface LogEvent {
  readonly timestamp: number; // ms since epoch
  readonly time: string; // ISO 8601
  readonly logStream: string;
  readonly message: string;
  readonly eventId: string;
}

const ACCESS_LOGS = "/aws/apigateway/";

/** A function's log group; a stage's access log group (/aws/apigateway/...) is read as named. */
export const functionLogGroup = (functionName: string): string => (functionName.startsWith(ACCESS_LOGS) ? functionName : `/aws/lambda/${functionName}`);

function assertLogName(name: string): void {
  if (!name.startsWith(ACCESS_LOGS)) return assertSafeId("function name", name);
  for (const segment of name.slice(ACCESS_LOGS.length).split("/")) assertSafeId("log group name segment", segment);
}

export interface ReadLogsOptions {
  readonly functionName: string;
  readonly startTime: number; // ms since epoch, inclusive
  readonly filterPattern?: string;
}

function noLogGroup(clients: AwsClients, functionName: string): UserError {
  return new UserError(
    `no logs for ${functionName}: log group ${functionLogGroup(functionName)} does not exist in ${clients.config.region} (the function has not run yet, or there is no such function)`,
  );
}

function badPattern(err: unknown, pattern: string | undefined): UserError | undefined {
  if (pattern !== undefined && errorName(err) === "InvalidParameterException") {
    return new UserError(`CloudWatch Logs rejected the filter pattern '${pattern}': ${errorMessage(err)}`);
  }
  return undefined;
}

/** Every event since startTime (all pages), oldest first. */
export async function readLogs(clients: AwsClients, opts: ReadLogsOptions): Promise<LogEvent[]> {
  assertLogName(opts.functionName);
  let filtered: FilteredLogEvent[];
  try {
    filtered = await allPages(
      (nextToken) =>
        clients.logs().send(
          new FilterLogEventsCommand({
            logGroupName: functionLogGroup(opts.functionName),
            startTime: opts.startTime,
            ...(opts.filterPattern ? { filterPattern: opts.filterPattern } : {}),
            nextToken,
          }),
        ),
      (page) => page.events,
      (page) => page.nextToken,
    );
  } catch (err) {
    if (isNotFound(err)) throw noLogGroup(clients, opts.functionName);
    throw badPattern(err, opts.filterPattern) ?? err;
  }
  return filtered.map(toLogEvent).sort((a, b) => a.timestamp - b.timestamp);
}

function toLogEvent(e: FilteredLogEvent): LogEvent {
  const timestamp = e.timestamp ?? 0;
  return {
    timestamp,
    time: new Date(timestamp).toISOString(),
    logStream: e.logStreamName ?? "",
    message: (e.message ?? "").replace(/\r?\n$/, ""),
    eventId: e.eventId ?? `${timestamp}:${e.logStreamName ?? ""}:${e.message ?? ""}`,
  };
}

export interface FollowLogsOptions extends ReadLogsOptions {
  readonly signal: AbortSignal;
  readonly onEvents: (events: LogEvent[]) => void;
  /** Told once when the log group does not exist yet: following waits for it. */
  readonly onWaiting?: (message: string) => void;
  readonly intervalMs?: number;
  readonly sleep?: Sleep;
}

/**
 * Events arrive in CloudWatch a little after their timestamp, so each poll looks
 * back this far and forgets only ids older than it: late events are still
 * printed, and none twice.
 */
const LOOKBACK_MS = 10_000;

/** Polls every 2 s, handing over only events not seen before, until the signal aborts. */
export async function followLogs(clients: AwsClients, opts: FollowLogsOptions): Promise<void> {
  const sleep = opts.sleep ?? realSleep;
  const interval = opts.intervalMs ?? 2000;
  const seen = new Map<string, number>(); // eventId -> timestamp
  let from = opts.startTime;
  let toldWaiting = false;
  while (!opts.signal.aborted) {
    let events: LogEvent[] = [];
    try {
      events = await readLogs(clients, { ...opts, startTime: from });
    } catch (err) {
      if (!(err instanceof UserError && /does not exist/.test(err.message))) throw err;
      if (!toldWaiting) opts.onWaiting?.(`waiting for ${functionLogGroup(opts.functionName)} to appear (the function has not logged yet)...`);
      toldWaiting = true;
    }
    const fresh = events.filter((e) => !seen.has(e.eventId));
    for (const e of fresh) seen.set(e.eventId, e.timestamp);
    if (fresh.length > 0 && !opts.signal.aborted) opts.onEvents(fresh);
    const newest = Math.max(from, ...events.map((e) => e.timestamp));
    from = Math.max(opts.startTime, newest - LOOKBACK_MS);
    for (const [id, ts] of seen) if (ts < from) seen.delete(id);
    if (opts.signal.aborted) break;
    await abortableSleep(sleep, interval, opts.signal);
  }
}

async function abortableSleep(sleep: Sleep, ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  let onAbort: (() => void) | undefined;
  try {
    await Promise.race([sleep(ms), new Promise<void>((resolve) => signal.addEventListener("abort", (onAbort = () => resolve()), { once: true }))]);
  } finally {
    if (onAbort) signal.removeEventListener("abort", onAbort);
  }
}
