import { positiveIntEnv } from "./env.js";
import type { WebSocketEvent } from "./event.js";
import { credentialsFromEnv, regionFromEnv } from "./aws-common.js";
import { ConnectionPoster, managementEndpoint, payload, type EndpointSource, type PostResult } from "./poster.js";

export const DEFAULT_CONCURRENCY = 64;

/** Most posts in flight for one invocation (CHAT_FANOUT_CONCURRENCY, default 64). */
export function fanoutConcurrency(env: NodeJS.ProcessEnv = process.env): number {
  return positiveIntEnv("CHAT_FANOUT_CONCURRENCY", DEFAULT_CONCURRENCY, env);
}

/** A poster for the stage this event came through (or the endpoint the environment names). */
export function posterFor(event: WebSocketEvent, env: NodeJS.ProcessEnv = process.env): ConnectionPoster {
  return posterForStage(event.requestContext, env);
}

/** A poster for a stage named by its domain and stage; `maxAttempts` per post (throttling and 5xx are retried). */
export function posterForStage(stage: EndpointSource, env: NodeJS.ProcessEnv = process.env, maxAttempts?: number): ConnectionPoster {
  return new ConnectionPoster({
    endpoint: managementEndpoint(stage, env),
    region: regionFromEnv(env),
    credentials: credentialsFromEnv(env),
    maxSockets: fanoutConcurrency(env),
    ...(maxAttempts !== undefined ? { maxAttempts } : {}),
  });
}

/** Sends one JSON message back to the connection the event came from. */
export function replyToSender(event: WebSocketEvent, message: unknown, poster: ConnectionPoster = posterFor(event)): Promise<PostResult> {
  return poster.post(event.requestContext.connectionId, payload(JSON.stringify(message)));
}
