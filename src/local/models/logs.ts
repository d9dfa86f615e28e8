import { tagsProblem } from "../../aws/tag-rules.js";
import { AwsError, ServiceModel, type OpHandler, type OpInput, type OpOutput } from "../service.js";

/**
 * CloudWatch Logs: log groups with retention and tags, log streams, and their
 * events, as chatctl and the local Lambda runner use them. Member names are
 * camelCase, as the Logs API (and its SDK v3 command shapes) spell them.
 *
 * Not modelled: retention expiry (instead each stream keeps its newest
 * MAX_EVENTS_PER_STREAM events, so a long `chatctl dev` session stays bounded), KMS keys, log group
 * classes other than STANDARD, metric/subscription filters, Insights queries,
 * live tail, the 24-hour batch window and the 14-day / 2-hour age limits of
 * PutLogEvents (nothing is rejected as too old or too new), sequence tokens
 * (accepted and ignored, as AWS does today), storedBytes of streams, and
 * filter patterns beyond terms: a pattern is one or more terms, bare words or
 * "quoted phrases", that must all appear in the message (case-sensitive);
 * `?term` alternatives and JSON / space-delimited patterns are refused with
 * InvalidParameterException.
 */

/** The newest events a stream keeps (the oldest go first). */
export const MAX_EVENTS_PER_STREAM = 10_000;
const TRIM_SLACK = MAX_EVENTS_PER_STREAM / 4;

export interface LogsModelOptions {
  readonly region: string;
  readonly accountId: string;
  /** Upper bound on items per page of the Describe, Filter and Get calls; small values exercise pagination in tests. */
  readonly pageSize?: number;
}

export interface LogEventInput {
  readonly timestamp: number;
  readonly message: string;
}

interface StoredEvent {
  readonly timestamp: number;
  readonly message: string;
  readonly ingestionTime: number;
  readonly seq: number; // global arrival order: a stable tie-break and the eventId
}

interface LogStream {
  readonly name: string;
  readonly creationTime: number;
  events: StoredEvent[]; // kept sorted by timestamp, then arrival
  lastIngestionTime: number | undefined;
}

interface LogGroup {
  readonly name: string;
  readonly creationTime: number;
  retentionInDays: number | undefined;
  readonly tags: Map<string, string>;
  readonly streams: Map<string, LogStream>;
}

/** The values PutRetentionPolicy accepts. */
export const RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

const GROUP_NAME = /^[.\-_/#A-Za-z0-9]{1,512}$/;
const STREAM_NAME = /^[^:*]{1,512}$/;
const MAX_TAGS = 50;

export class LogsModel extends ServiceModel {
  readonly service = "logs";
  readonly region: string;
  readonly accountId: string;
  private readonly pageSize: number;
  private readonly groups = new Map<string, LogGroup>();
  private seq = 0;

  constructor(opts: LogsModelOptions) {
    super();
    this.region = opts.region;
    this.accountId = opts.accountId;
    this.pageSize = opts.pageSize ?? 10_000;
  }

  /** The log group's ARN as ListTagsForResource and DescribeLogGroups' logGroupArn spell it. */
  logGroupArn(logGroupName: string): string {
    return `arn:aws:logs:${this.region}:${this.accountId}:log-group:${logGroupName}`;
  }

  /**
   * Adds events as the Lambda service does for a function's console output:
   * the group and stream are created when missing, and no call is recorded.
   */
  append(logGroupName: string, logStreamName: string, events: readonly LogEventInput[]): void {
    let group = this.groups.get(logGroupName);
    if (!group) {
      group = newGroup(logGroupName, new Map());
      this.groups.set(logGroupName, group);
    }
    let stream = group.streams.get(logStreamName);
    if (!stream) {
      stream = { name: logStreamName, creationTime: Date.now(), events: [], lastIngestionTime: undefined };
      group.streams.set(logStreamName, stream);
    }
    this.store(stream, events);
  }

  protected readonly operations: Readonly<Record<string, OpHandler>> = {
    CreateLogGroup: (i) => {
      const name = reqString(i, "logGroupName");
      if (!GROUP_NAME.test(name)) throw invalid(`Invalid log group name: ${name}`);
      if (this.groups.has(name)) throw new AwsError("ResourceAlreadyExistsException", "The specified log group already exists", 400);
      const tags = i.tags === undefined ? new Map<string, string>() : tagMap(i.tags);
      if (tags.size > MAX_TAGS) throw invalid(`A log group can have at most ${MAX_TAGS} tags`);
      const problem = tagsProblem(tags);
      if (problem !== undefined) throw invalid(problem);
      this.groups.set(name, newGroup(name, tags));
      return {};
    },
    DeleteLogGroup: (i) => {
      const group = this.group(i);
      this.groups.delete(group.name);
      return {};
    },
    DescribeLogGroups: (i) => {
      const prefix = optString(i, "logGroupNamePrefix") ?? "";
      const matching = [...this.groups.values()].filter((g) => g.name.startsWith(prefix)).sort((a, b) => compare(a.name, b.name));
      const page = this.page(matching, i, 50);
      return { logGroups: page.items.map((g) => this.groupOut(g)), ...page.more };
    },
    PutRetentionPolicy: (i) => {
      const group = this.group(i);
      const days = optNumber(i, "retentionInDays");
      if (days === undefined || !RETENTION_DAYS.includes(days)) {
        throw invalid(`1 validation error detected: Value '${String(days)}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [${RETENTION_DAYS.join(", ")}]`);
      }
      group.retentionInDays = days;
      return {};
    },
    DeleteRetentionPolicy: (i) => {
      this.group(i).retentionInDays = undefined;
      return {};
    },
    TagResource: (i) => {
      const group = this.groupByArn(i);
      this.tag(group, tagMap(i.tags));
      return {};
    },
    UntagResource: (i) => {
      const group = this.groupByArn(i);
      for (const key of stringList(i.tagKeys, "tagKeys")) group.tags.delete(key);
      return {};
    },
    ListTagsForResource: (i) => ({ tags: Object.fromEntries(this.groupByArn(i).tags) }),
    TagLogGroup: (i) => {
      this.tag(this.group(i), tagMap(i.tags));
      return {};
    },
    UntagLogGroup: (i) => {
      const group = this.group(i);
      for (const key of stringList(i.tags, "tags")) group.tags.delete(key);
      return {};
    },
    ListTagsLogGroup: (i) => ({ tags: Object.fromEntries(this.group(i).tags) }),
    CreateLogStream: (i) => {
      const group = this.group(i);
      const name = reqString(i, "logStreamName");
      if (!STREAM_NAME.test(name)) throw invalid(`Invalid log stream name: ${name}`);
      if (group.streams.has(name)) throw new AwsError("ResourceAlreadyExistsException", "The specified log stream already exists", 400);
      group.streams.set(name, { name, creationTime: Date.now(), events: [], lastIngestionTime: undefined });
      return {};
    },
    DeleteLogStream: (i) => {
      const group = this.group(i);
      const stream = this.stream(group, i);
      group.streams.delete(stream.name);
      return {};
    },
    DescribeLogStreams: (i) => this.describeLogStreams(i),
    PutLogEvents: (i) => {
      const stream = this.stream(this.group(i), i);
      const events = eventList(i.logEvents);
      for (let k = 1; k < events.length; k++) {
        if ((events[k]?.timestamp ?? 0) < (events[k - 1]?.timestamp ?? 0)) {
          throw invalid("Log events in a single PutLogEvents request must be in chronological order.");
        }
      }
      this.store(stream, events);
      return {};
    },
    GetLogEvents: (i) => this.getLogEvents(i),
    FilterLogEvents: (i) => this.filterLogEvents(i),
  };

  private store(stream: LogStream, events: readonly LogEventInput[]): void {
    if (events.length === 0) return;
    const now = Date.now();
    // Events nearly always arrive in time order: sort only when one did not.
    let inOrder = true;
    let latest = stream.events[stream.events.length - 1]?.timestamp ?? Number.NEGATIVE_INFINITY;
    for (const e of events) {
      if (e.timestamp < latest) inOrder = false;
      latest = Math.max(latest, e.timestamp);
      stream.events.push({ timestamp: e.timestamp, message: e.message, ingestionTime: now, seq: this.seq++ });
    }
    if (!inOrder) stream.events.sort(byTime);
    // Cut in slices, not on every call: removing the oldest few of 10,000 each time is a
    // 10,000-element move per invocation (~40 us) once a busy function's stream is full.
    if (stream.events.length > MAX_EVENTS_PER_STREAM + TRIM_SLACK) this.kept(stream);
    stream.lastIngestionTime = now;
  }

  /** A stream's events as readers see them: its newest MAX_EVENTS_PER_STREAM. */
  private kept(stream: LogStream): StoredEvent[] {
    if (stream.events.length > MAX_EVENTS_PER_STREAM) stream.events.splice(0, stream.events.length - MAX_EVENTS_PER_STREAM);
    return stream.events;
  }

  private tag(group: LogGroup, tags: Map<string, string>): void {
    const keys = new Set([...group.tags.keys(), ...tags.keys()]);
    if (keys.size > MAX_TAGS) throw invalid(`A log group can have at most ${MAX_TAGS} tags`);
    const problem = tagsProblem(tags);
    if (problem !== undefined) throw invalid(problem);
    for (const [k, v] of tags) group.tags.set(k, v);
  }

  private describeLogStreams(i: OpInput): OpOutput {
    const group = this.group(i);
    const prefix = optString(i, "logStreamNamePrefix") ?? "";
    const orderBy = optString(i, "orderBy") ?? "LogStreamName";
    if (orderBy !== "LogStreamName" && orderBy !== "LastEventTime") throw invalid(`Invalid orderBy: ${orderBy}`);
    if (orderBy === "LastEventTime" && prefix !== "") throw invalid("Cannot order by LastEventTime with a logStreamNamePrefix.");
    const streams = [...group.streams.values()].filter((s) => s.name.startsWith(prefix));
    const lastTime = (s: LogStream) => s.events.at(-1)?.timestamp ?? 0;
    streams.sort(orderBy === "LogStreamName" ? (a, b) => compare(a.name, b.name) : (a, b) => lastTime(a) - lastTime(b) || compare(a.name, b.name));
    if (i.descending === true) streams.reverse();
    const page = this.page(streams, i, 50);
    return {
      logStreams: page.items.map((s) => ({
        logStreamName: s.name,
        creationTime: s.creationTime,
        ...(s.events.length > 0 ? { firstEventTimestamp: this.kept(s)[0]?.timestamp, lastEventTimestamp: lastTime(s) } : {}),
        ...(s.lastIngestionTime !== undefined ? { lastIngestionTime: s.lastIngestionTime } : {}),
        arn: `${this.logGroupArn(group.name)}:log-stream:${s.name}`,
        storedBytes: 0,
      })),
      ...page.more,
    };
  }

  /**
   * A window over one stream. Tokens are positions: "f/<n>" reads forward from
   * n, "b/<n>" reads backward ending before n. At either end the token handed
   * back is the one passed in, which is how callers know to stop.
   */
  private getLogEvents(i: OpInput): OpOutput {
    const stream = this.stream(this.group(i), i);
    const events = this.kept(stream).filter(inWindow(optNumber(i, "startTime"), optNumber(i, "endTime")));
    const limit = this.limit(i, 10_000);
    const token = optString(i, "nextToken");
    let from: number;
    let to: number;
    const parsed = token === undefined ? undefined : /^([fb])\/(\d+)$/.exec(token);
    if (token !== undefined && !parsed) throw invalid("The specified nextToken is invalid.");
    const direction = parsed?.[1] ?? (i.startFromHead === true ? "f" : "b");
    const position = parsed ? Math.min(Number(parsed[2]), events.length) : direction === "f" ? 0 : events.length;
    if (direction === "f") {
      from = position;
      to = Math.min(events.length, from + limit);
    } else {
      to = position;
      from = Math.max(0, to - limit);
    }
    return {
      events: events.slice(from, to).map((e) => ({ timestamp: e.timestamp, message: e.message, ingestionTime: e.ingestionTime })),
      nextForwardToken: `f/${to}`,
      nextBackwardToken: `b/${from}`,
    };
  }

  private filterLogEvents(i: OpInput): OpOutput {
    const group = this.group(i);
    const names = i.logStreamNames === undefined ? undefined : stringList(i.logStreamNames, "logStreamNames");
    const prefix = optString(i, "logStreamNamePrefix");
    if (names && prefix !== undefined) throw invalid("logStreamNames and logStreamNamePrefix are mutually exclusive");
    const streams = [...group.streams.values()].filter((s) => (names ? names.includes(s.name) : s.name.startsWith(prefix ?? "")));
    const matches = filterPattern(optString(i, "filterPattern"));
    const window = inWindow(optNumber(i, "startTime"), optNumber(i, "endTime"));
    const all = streams
      .flatMap((s) => this.kept(s).filter((e) => window(e) && matches(e.message)).map((e) => ({ stream: s.name, e })))
      .sort((a, b) => byTime(a.e, b.e));
    const page = this.page(all, i, 10_000, "nextToken");
    return {
      events: page.items.map(({ stream, e }) => ({
        logStreamName: stream,
        timestamp: e.timestamp,
        message: e.message,
        ingestionTime: e.ingestionTime,
        eventId: String(e.seq).padStart(20, "0"),
      })),
      searchedLogStreams: streams.map((s) => ({ logStreamName: s.name, searchedCompletely: true })),
      ...page.more,
    };
  }

  private limit(i: OpInput, max: number): number {
    const asked = optNumber(i, "limit") ?? max;
    if (!Number.isInteger(asked) || asked < 1 || asked > max) throw invalid(`limit must be between 1 and ${max}`);
    return Math.min(asked, this.pageSize);
  }

  private page<T>(all: readonly T[], i: OpInput, max: number, tokenField = "nextToken"): { items: T[]; more: { nextToken?: string } } {
    const token = optString(i, tokenField);
    const start = token === undefined ? 0 : decodeToken(token);
    const items = all.slice(start, start + this.limit(i, max));
    const next = start + items.length;
    return { items, more: next < all.length ? { nextToken: encodeToken(next) } : {} };
  }

  private groupOut(g: LogGroup): OpOutput {
    const arn = this.logGroupArn(g.name);
    let storedBytes = 0;
    for (const s of g.streams.values()) for (const e of this.kept(s)) storedBytes += Buffer.byteLength(e.message);
    return {
      logGroupName: g.name,
      creationTime: g.creationTime,
      ...(g.retentionInDays !== undefined ? { retentionInDays: g.retentionInDays } : {}),
      metricFilterCount: 0,
      arn: `${arn}:*`,
      storedBytes,
      logGroupClass: "STANDARD",
      logGroupArn: arn,
    };
  }

  private group(i: OpInput): LogGroup {
    const name = optString(i, "logGroupName") ?? groupNameOf(optString(i, "logGroupIdentifier"));
    if (name === undefined) throw invalid("logGroupName is required");
    const group = this.groups.get(name);
    if (!group) throw notFound("The specified log group does not exist.");
    return group;
  }

  private groupByArn(i: OpInput): LogGroup {
    const arn = reqString(i, "resourceArn");
    const prefix = `arn:aws:logs:${this.region}:${this.accountId}:log-group:`;
    if (!arn.startsWith(prefix)) throw invalid(`Invalid resource arn: ${arn}`);
    const name = arn.slice(prefix.length).replace(/:\*$/, "");
    const group = this.groups.get(name);
    if (!group) throw notFound("The specified log group does not exist.");
    return group;
  }

  private stream(group: LogGroup, i: OpInput): LogStream {
    const stream = group.streams.get(reqString(i, "logStreamName"));
    if (!stream) throw notFound("The specified log stream does not exist.");
    return stream;
  }
}

function newGroup(name: string, tags: Map<string, string>): LogGroup {
  return { name, creationTime: Date.now(), retentionInDays: undefined, tags, streams: new Map() };
}

/** Log group identifiers may be a name or an ARN. */
function groupNameOf(identifier: string | undefined): string | undefined {
  if (identifier === undefined) return undefined;
  const m = /^arn:[^:]+:logs:[^:]*:[^:]*:log-group:(.+?)(?::\*)?$/.exec(identifier);
  return m?.[1] ?? identifier;
}

function byTime(a: StoredEvent, b: StoredEvent): number {
  return a.timestamp - b.timestamp || a.seq - b.seq;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function inWindow(startTime: number | undefined, endTime: number | undefined): (e: StoredEvent) => boolean {
  // AWS treats startTime as inclusive and endTime as exclusive.
  return (e) => (startTime === undefined || e.timestamp >= startTime) && (endTime === undefined || e.timestamp < endTime);
}

function filterPattern(pattern: string | undefined): (message: string) => boolean {
  const trimmed = pattern?.trim() ?? "";
  if (trimmed === "") return () => true;
  if (/^[{[?]/.test(trimmed)) {
    throw invalid(`filterPattern '${trimmed}' is not supported by the chatctl local cloud: only terms and "quoted phrases" are`);
  }
  const terms: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(trimmed); m; m = re.exec(trimmed)) {
    terms.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : (m[2] ?? ""));
  }
  return (message) => terms.every((t) => message.includes(t));
}

function encodeToken(position: number): string {
  return Buffer.from(`chatctl:${position}`).toString("base64");
}

function decodeToken(token: string): number {
  const m = /^chatctl:(\d+)$/.exec(Buffer.from(token, "base64").toString("utf8"));
  if (!m?.[1]) throw invalid("The specified nextToken is invalid.");
  return Number(m[1]);
}

function notFound(message: string): AwsError {
  return new AwsError("ResourceNotFoundException", message, 400);
}

function invalid(message: string): AwsError {
  return new AwsError("InvalidParameterException", message, 400);
}

function reqString(i: OpInput, field: string): string {
  const v = i[field];
  if (typeof v !== "string" || v === "") throw invalid(`1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`);
  return v;
}

function optString(i: OpInput, field: string): string | undefined {
  const v = i[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw invalid(`${field} must be a string`);
  return v;
}

function optNumber(i: OpInput, field: string): number | undefined {
  const v = i[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v)) throw invalid(`${field} must be a number`);
  return v;
}

function stringList(v: unknown, field: string): string[] {
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === "string")) throw invalid(`${field} must be a list of strings`);
  return v;
}

function tagMap(v: unknown): Map<string, string> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw invalid("tags must be a map of strings");
  const out = new Map<string, string>();
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== "string") throw invalid("tag values must be strings");
    out.set(k, val);
  }
  return out;
}

function eventList(v: unknown): LogEventInput[] {
  if (!Array.isArray(v) || v.length === 0) throw invalid("logEvents must hold at least one event");
  return v.map((e: unknown) => {
    const ev = (typeof e === "object" && e !== null ? e : {}) as Record<string, unknown>;
    if (typeof ev.timestamp !== "number" || typeof ev.message !== "string") throw invalid("every log event needs a timestamp and a message");
    return { timestamp: ev.timestamp, message: ev.message };
  });
}
