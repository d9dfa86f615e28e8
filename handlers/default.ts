import { bodyText, jsonResult, type ProxyResult, type WebSocketEvent } from "./lib/event.js";
import { errorFields, logEvent, since } from "./lib/log.js";
import { replyToSender } from "./lib/reply.js";

/** The routes a client can name in "action" (CHAT_ACTIONS, comma-separated, overrides). */
export function availableActions(env: NodeJS.ProcessEnv = process.env): string[] {
  const configured = env.CHAT_ACTIONS?.split(",").map((a) => a.trim()).filter((a) => a !== "");
  return configured && configured.length > 0 ? configured : ["sendmessage"];
}

function requestedAction(text: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null) {
      const action = (parsed as { action?: unknown }).action;
      if (typeof action === "string") return action;
    }
  } catch {
    // not JSON: there is no action to name
  }
  return undefined;
}

export async function handler(event: WebSocketEvent): Promise<ProxyResult> {
  const started = performance.now();
  const ctx = event.requestContext;
  const base = { route: ctx.routeKey || "$default", connectionId: ctx.connectionId };
  const actions = availableActions();
  const action = requestedAction(bodyText(event));
  const answer = {
    type: "error",
    message:
      action === undefined
        ? `unknown action: send JSON like {"action":"${actions[0] ?? "sendmessage"}",...}`
        : `unknown action ${JSON.stringify(action)}`,
    actions,
  };
  try {
    const result = await replyToSender(event, answer);
    logEvent({
      level: result.outcome === "failed" ? "warn" : "info",
      ...base,
      action: action ?? null,
      replied: result.outcome === "delivered" ? 1 : 0,
      ...(result.outcome === "failed" ? { errorName: result.errorName, errorMessage: result.message } : {}),
      durationMs: since(started),
    });
    return jsonResult(200, answer);
  } catch (err) {
    logEvent({ level: "error", ...base, ...errorFields(err), durationMs: since(started) });
    throw err;
  }
}
