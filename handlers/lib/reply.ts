import { positiveIntEnv } from "./env.js";
import type { WebSocketEvent } from "./event.js";
import { ConnectionPoster, credentialsFromEnv, managementEndpoint, payload, regionFromEnv, type PostResult } from "./poster.js";

export const DEFAULT_CONCURRENCY = 64;

/** Most posts in flight for one invocation (CHAT_FANOUT_CONCURRENCY, default 64). */
export function fanoutConcurrency(env: NodeJS.ProcessEnv = process.env): number {
  return positiveIntEnv("CHAT_FANOUT_CONCURRENCY", DEFAULT_CONCURRENCY, env);
}

/** A poster for the stage this event came through (or the endpoint the environment names). */
export function posterFor(event: WebSocketEvent, env: NodeJS.ProcessEnv = process.env): ConnectionPoster {
  return new ConnectionPoster({
    endpoint: managementEndpoint(event.requestContext, env),
    region: regionFromEnv(env),
    credentials: credentialsFromEnv(env),
    maxSockets: fanoutConcurrency(env),
  });
}

/** Sends one JSON message back to the connection the event came from. */
export function replyToSender(event: WebSocketEvent, message: unknown, poster: ConnectionPoster = posterFor(event)): Promise<PostResult> {
  return poster.post(event.requestContext.connectionId, payload(JSON.stringify(message)));
}
