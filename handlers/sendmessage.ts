import { dynamo } from "./lib/dynamo.js";
import { positiveIntEnv, tableName } from "./lib/env.js";
import { bodyText, jsonResult, type ProxyResult, type WebSocketEvent } from "./lib/event.js";
import { broadcast } from "./lib/fanout.js";
import { errorFields, logEvent, since } from "./lib/log.js";
import { MAX_MESSAGE_BYTES, payload } from "./lib/poster.js";
import { fanoutConcurrency, posterFor, replyToSender } from "./lib/reply.js";

export interface ChatMessage {
  readonly type: "message";
  readonly from: string;
  readonly message: string;
  readonly sentAt: number;
}

type Validated = { readonly ok: true; readonly outgoing: string } | { readonly ok: false; readonly code: string; readonly message: string };

export function validate(text: string, from: string, sentAt: number): Validated {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, code: "InvalidJson", message: 'the message is not JSON; send {"action":"sendmessage","message":"..."}' };
  }
  const message = typeof parsed === "object" && parsed !== null ? (parsed as { message?: unknown }).message : undefined;
  if (typeof message !== "string") {
    return { ok: false, code: "InvalidMessage", message: '"message" must be a string; send {"action":"sendmessage","message":"..."}' };
  }
  const outgoing = JSON.stringify({ type: "message", from, message, sentAt } satisfies ChatMessage);
  const size = Buffer.byteLength(outgoing, "utf8");
  if (size > MAX_MESSAGE_BYTES) {
    return { ok: false, code: "MessageTooLarge", message: `the message is ${size} bytes once sent; API Gateway's limit is ${MAX_MESSAGE_BYTES}` };
  }
  return { ok: true, outgoing };
}

export async function handler(event: WebSocketEvent): Promise<ProxyResult> {
  const started = performance.now();
  const ctx = event.requestContext;
  const base = { route: ctx.routeKey || "sendmessage", connectionId: ctx.connectionId };
  try {
    const poster = posterFor(event);
    const checked = validate(bodyText(event), ctx.connectionId, Date.now());
    if (!checked.ok) {
      const answer = { type: "error", code: checked.code, message: checked.message };
      const replied = await replyToSender(event, answer, poster);
      logEvent({ level: "warn", ...base, rejected: checked.code, replied: replied.outcome === "delivered" ? 1 : 0, durationMs: since(started) });
      return jsonResult(400, answer);
    }
    // Unset: DynamoDB's own 1 MB pages. Small pages are for exercising pagination.
    const pageSize = positiveIntEnv("CHAT_SCAN_PAGE_SIZE", 0);
    const report = await broadcast({
      db: dynamo(),
      table: tableName("connections"),
      poster,
      payload: payload(checked.outgoing),
      concurrency: fanoutConcurrency(),
      ...(pageSize ? { pageSize } : {}),
    });
    const receipt = { type: "sent", delivered: report.delivered, recipients: report.recipients, gone: report.gone, failed: report.failed };
    // The sender was one of the recipients; if it is gone itself, there is no one to tell.
    const replied = await replyToSender(event, receipt, poster);
    logEvent({
      level: report.failed > 0 || report.notDeleted > 0 ? "warn" : "info",
      ...base,
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
