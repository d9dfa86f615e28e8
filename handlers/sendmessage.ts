import { dynamo } from "./lib/dynamo.js";
import { positiveIntEnv, tableName } from "./lib/env.js";
import { bodyText, jsonResult, type ProxyResult, type WebSocketEvent } from "./lib/event.js";
import { broadcast } from "./lib/fanout.js";
import { errorFields, logEvent, since } from "./lib/log.js";
import { firstLook, parallelSettings, startSegments } from "./lib/parallel.js";
import { MAX_MESSAGE_BYTES, payload } from "./lib/poster.js";
import { fanoutConcurrency, posterFor, replyToSender } from "./lib/reply.js";
import { joinRoom, roomIndexName, roomMemberIds, roomProblem } from "./lib/rooms.js";

// {"action":"sendmessage","message":"hi"}               to every connection
// {"action":"sendmessage","room":"r","message":"hi"}    to the members of room r
// {"action":"join","room":"r"}                          the sender joins room r (and leaves any other)

export interface ChatMessage {
  readonly type: "message";
  readonly from: string;
  readonly message: string;
  readonly sentAt: number;
  readonly room?: string;
}

type Request =
  | { readonly ok: true; readonly action: "join"; readonly room: string }
  | { readonly ok: true; readonly action: "sendmessage"; readonly outgoing: string; readonly room: string | undefined };
type Rejected = { readonly ok: false; readonly code: string; readonly message: string };

const USAGE = 'send {"action":"sendmessage","message":"..."} (with "room":"r" for a room\'s members only) or {"action":"join","room":"r"}';

export function validate(text: string, from: string, sentAt: number, action = "sendmessage"): Request | Rejected {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, code: "InvalidJson", message: `the message is not JSON; ${USAGE}` };
  }
  const fields = typeof parsed === "object" && parsed !== null ? (parsed as { message?: unknown; room?: unknown }) : {};
  const room = fields.room;
  if (room !== undefined || action === "join") {
    const problem = roomProblem(room);
    if (problem) return { ok: false, code: "InvalidRoom", message: `${problem}; ${USAGE}` };
  }
  if (action === "join") return { ok: true, action: "join", room: room as string };
  const message = fields.message;
  if (typeof message !== "string") {
    return { ok: false, code: "InvalidMessage", message: `"message" must be a string; ${USAGE}` };
  }
  const chat: ChatMessage = { type: "message", from, message, sentAt, ...(typeof room === "string" ? { room } : {}) };
  const outgoing = JSON.stringify(chat);
  const size = Buffer.byteLength(outgoing, "utf8");
  if (size > MAX_MESSAGE_BYTES) {
    return { ok: false, code: "MessageTooLarge", message: `the message is ${size} bytes once sent; API Gateway's limit is ${MAX_MESSAGE_BYTES}` };
  }
  return { ok: true, action: "sendmessage", outgoing, room: typeof room === "string" ? room : undefined };
}

export async function handler(event: WebSocketEvent): Promise<ProxyResult> {
  const started = performance.now();
  const ctx = event.requestContext;
  const route = ctx.routeKey || "sendmessage";
  const base = { route, connectionId: ctx.connectionId };
  try {
    const poster = posterFor(event);
    const checked = validate(bodyText(event), ctx.connectionId, Date.now(), route === "join" ? "join" : "sendmessage");
    if (!checked.ok) {
      const answer = { type: "error", code: checked.code, message: checked.message };
      const replied = await replyToSender(event, answer, poster);
      logEvent({ level: "warn", ...base, rejected: checked.code, replied: replied.outcome === "delivered" ? 1 : 0, durationMs: since(started) });
      return jsonResult(400, answer);
    }
    const db = dynamo();
    const table = tableName("connections");
    if (checked.action === "join") {
      const joined = await joinRoom(db, table, ctx.connectionId, checked.room);
      const answer = joined ? { type: "joined", room: checked.room } : { type: "error", code: "GoneConnection", message: "this connection is no longer known" };
      const replied = await replyToSender(event, answer, poster);
      logEvent({ level: joined ? "info" : "warn", ...base, room: checked.room, joined: joined ? 1 : 0, replied: replied.outcome === "delivered" ? 1 : 0, durationMs: since(started) });
      return jsonResult(joined ? 200 : 410, answer);
    }
    // Unset: DynamoDB's own 1 MB pages. Small pages are for exercising pagination.
    const pageSize = positiveIntEnv("CHAT_SCAN_PAGE_SIZE", 0) || undefined;
    let recipients: AsyncIterable<string[]> | Iterable<string[]> | undefined;
    if (checked.room !== undefined) {
      recipients = roomMemberIds(db, table, roomIndexName(), checked.room, pageSize);
    } else {
      const fanoutFunction = process.env.FUNCTION_BROADCAST;
      if (fanoutFunction) {
        const look = await firstLook(db, table, parallelSettings());
        if (look.split) {
          const split = await startSegments(
            fanoutFunction,
            { kind: "chatctl.broadcast-segment", table, domainName: ctx.domainName, stage: ctx.stage, data: checked.outgoing, ...(ctx.requestId ? { requestId: ctx.requestId } : {}) },
            look.segments,
          );
          // The segments report in their own logs; the sender learns only that they started.
          const receipt = { type: "sent", parallel: true, segments: split.segments, notStarted: split.notStarted };
          const replied = await replyToSender(event, receipt, poster);
          logEvent({ level: split.notStarted > 0 ? "warn" : "info", ...base, ...split, replied: replied.outcome === "delivered" ? 1 : 0, durationMs: since(started) });
          return jsonResult(split.notStarted > 0 ? 500 : 200, receipt);
        }
        recipients = [look.ids];
      }
    }
    const report = await broadcast({
      db,
      table,
      poster,
      payload: payload(checked.outgoing),
      concurrency: fanoutConcurrency(),
      ...(pageSize ? { pageSize } : {}),
      ...(recipients ? { recipients: toAsync(recipients) } : {}),
    });
    const receipt = {
      type: "sent",
      ...(checked.room !== undefined ? { room: checked.room } : {}),
      delivered: report.delivered,
      recipients: report.recipients,
      gone: report.gone,
      failed: report.failed,
    };
    // The sender was one of the recipients; if it is gone itself, there is no one to tell.
    const replied = await replyToSender(event, receipt, poster);
    logEvent({
      level: report.failed > 0 || report.notDeleted > 0 ? "warn" : "info",
      ...base,
      ...(checked.room !== undefined ? { room: checked.room } : {}),
      ...report,
      replied: replied.outcome === "delivered" ? 1 : 0,
      durationMs: since(started),
    });
    return jsonResult(200, receipt);
  } catch (err) {
    logEvent({ level: "error", ...base, ...errorFields(err), durationMs: since(started) });
    throw err;
  }
}

async function* toAsync(pages: AsyncIterable<string[]> | Iterable<string[]>): AsyncGenerator<string[]> {
  yield* pages;
}
