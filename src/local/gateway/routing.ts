import type { ApiView, GatewayDirectory } from "./directory.js";
import { connectEvent, disconnectEvent, gatewayId, messageEvent, selectRouteKey, type ConnectionFacts, type HandshakeFacts } from "./events.js";
import type { Integrate } from "./integration.js";
import { PREVIEW_BYTES, queryOf, type GatewayObserver } from "./observer.js";
import { headerOf, statusCodeOf } from "./upgrade.js";
import type { AccessLogger, ThrottleCheck } from "./stage-limits.js";

/**
 * The route an incoming message takes: the key the API's route selection
 * expression picks when the API has that route, else $default when it has one,
 * else none (API Gateway answers a "Forbidden" error frame).
 */
export function routeOf(api: ApiView | undefined, body: Buffer): { readonly routeKey: string; readonly functionName: string } | undefined {
  if (!api) return undefined;
  const selected = selectRouteKey(api.routeSelectionExpression, body.toString("utf8"));
  const routeKey = selected !== undefined && api.routes.has(selected) ? selected : api.routes.has("$default") ? "$default" : undefined;
  const functionName = routeKey ? api.routes.get(routeKey) : undefined;
  return routeKey && functionName ? { routeKey, functionName } : undefined;
}

/** $connect's verdict: accept (2xx, maybe with a subprotocol) or refuse with this status and body. */
export type ConnectVerdict = { readonly accept: true; readonly protocol: string | undefined } | { readonly accept: false; readonly status: number; readonly body: string };

export interface Routes {
  /** Runs $connect when the API has it (every connection is accepted otherwise). */
  connect(api: ApiView, facts: ConnectionFacts, handshake: HandshakeFacts, requestId?: string): Promise<ConnectVerdict>;
  /** Runs the message's route; resolves with the error frame's message API Gateway sends back, if any. */
  message(facts: ConnectionFacts, body: Buffer, requestId: string): Promise<string | undefined>;
  /** Runs $disconnect when the API (still) has it. */
  disconnect(facts: ConnectionFacts, handshake: HandshakeFacts, code: number, reason: string): Promise<void>;
}

/**
 * The three kinds of route of a WebSocket API, looked up in the directory on
 * every event (route changes apply to open connections) and run through the
 * integration, each with the event API Gateway builds for it.
 */
/**
 * What the stage adds to every route: its throttling and its access log, and
 * who watches (the dev console). All off by default.
 */
export interface StageHooks {
  readonly throttle?: ThrottleCheck;
  readonly access?: AccessLogger;
  readonly observer?: GatewayObserver;
}

export function createRoutes(directory: GatewayDirectory, integrate: Integrate, now: () => number, log: (line: string) => void, stage: StageHooks = {}): Routes {
  const access: AccessLogger = stage.access ?? ((): void => undefined);
  const throttled = (api: ApiView, routeKey: string): boolean => stage.throttle !== undefined && !stage.throttle(api, routeKey);
  const failure = (message: string) => ({ "error.message": message, integrationErrorMessage: message });
  const observer = stage.observer;
  const observeConnect = (facts: ConnectionFacts, handshake: HandshakeFacts, status: number, fn: string | undefined, startedAt: number): void => {
    observer?.connect({
      connectionId: facts.connectionId,
      apiId: facts.apiId,
      stage: facts.stage,
      at: facts.connectedAt,
      sourceIp: facts.sourceIp,
      userAgent: facts.userAgent,
      query: queryOf(handshake),
      status,
      function: fn,
      durationMs: fn ? performance.now() - startedAt : undefined,
    });
  };
  const observeMessage = (facts: ConnectionFacts, body: Buffer, arrived: number, outcome: string, route?: { routeKey: string; functionName?: string }, startedAt?: number): void =>
    observer?.message({
      connectionId: facts.connectionId,
      at: arrived,
      bytes: body.length,
      preview: body.toString("utf8", 0, PREVIEW_BYTES),
      routeKey: route?.routeKey,
      function: route?.functionName,
      durationMs: startedAt === undefined ? undefined : performance.now() - startedAt,
      outcome,
    });

  async function runConnect(api: ApiView, facts: ConnectionFacts, handshake: HandshakeFacts, requestId: string): Promise<ConnectVerdict> {
    const fn = api.routes.get("$connect");
    const logged = (status: number, extra = {}): void => access(api, facts, { requestId, eventType: "CONNECT", routeKey: "$connect", status, ...extra });
    if (!fn) {
      logged(200);
      return { accept: true, protocol: undefined };
    }
    const outcome = await integrate(fn, connectEvent(facts, handshake, now(), requestId), `$connect ${facts.connectionId}`, {
      apiId: facts.apiId,
      stage: facts.stage,
      routeKey: "$connect",
    });
    if (!outcome.ok) {
      log(`$connect refused with 500 (${outcome.message}): ${fn} failed; connection ${facts.connectionId} not opened`);
      logged(500, failure(outcome.message));
      return { accept: false, status: 500, body: JSON.stringify({ message: outcome.message }) };
    }
    const status = statusCodeOf(outcome.value);
    logged(status);
    if (status < 200 || status > 299) {
      log(`$connect refused with ${status} by ${fn}; connection ${facts.connectionId} not opened`);
      return { accept: false, status, body: "" };
    }
    return { accept: true, protocol: headerOf(outcome.value, "sec-websocket-protocol") };
  }

  return {
    async connect(api, facts, handshake, requestId = gatewayId()) {
      if (!observer) return runConnect(api, facts, handshake, requestId);
      const startedAt = performance.now();
      const verdict = await runConnect(api, facts, handshake, requestId);
      observeConnect(facts, handshake, verdict.accept ? 200 : verdict.status, api.routes.get("$connect"), startedAt);
      return verdict;
    },

    async message(facts, body, requestId) {
      const arrived = observer ? now() : 0;
      let api: ApiView | undefined;
      try {
        api = await directory.resolve({ apiId: facts.apiId, stage: facts.stage });
      } catch (err) {
        log(`message on ${facts.connectionId}: ${err instanceof Error ? err.message : String(err)}`);
        return "Internal server error";
      }
      const route = routeOf(api, body);
      const logged = (routeKey: string, status: number, extra = {}): void => access(api, facts, { requestId, eventType: "MESSAGE", routeKey, status, ...extra });
      if (!route || !api) {
        log(
          api
            ? `message on ${facts.connectionId}: no route matches it and the API has no $default: answered Forbidden`
            : `message on ${facts.connectionId}: stage ${facts.stage} of API ${facts.apiId} is not deployed or was deleted: answered Forbidden`,
        );
        logged("-", 403, { "error.message": "Forbidden" });
        if (observer) observeMessage(facts, body, arrived, "Forbidden");
        return "Forbidden";
      }
      if (throttled(api, route.routeKey)) {
        // Over the stage's route throttling: the route does not run.
        logged(route.routeKey, 429, { "error.message": "LimitExceededException" });
        if (observer) observeMessage(facts, body, arrived, "LimitExceededException", route);
        return "LimitExceededException";
      }
      const event = messageEvent(facts, route.routeKey, body, false, now(), requestId, gatewayId());
      const startedAt = observer ? performance.now() : undefined;
      const outcome = await integrate(route.functionName, event, `${route.routeKey} on ${facts.connectionId}`, {
        apiId: facts.apiId,
        stage: facts.stage,
        routeKey: route.routeKey,
      });
      logged(route.routeKey, outcome.ok ? 200 : 500, outcome.ok ? {} : failure(outcome.message));
      if (outcome.ok) {
        const status = statusCodeOf(outcome.value);
        if (status >= 400) log(`${route.routeKey} on ${facts.connectionId}: ${route.functionName} returned ${status}`);
      }
      if (observer) observeMessage(facts, body, arrived, outcome.ok ? "ok" : outcome.message, route, startedAt);
      // A Lambda-proxy route without a route response sends nothing back; only failures are reported.
      return outcome.ok ? undefined : outcome.message;
    },

    async disconnect(facts, handshake, code, reason) {
      let api: ApiView | undefined;
      try {
        api = await directory.resolve({ apiId: facts.apiId, stage: facts.stage });
      } catch (err) {
        log(`$disconnect ${facts.connectionId}: ${err instanceof Error ? err.message : String(err)}`);
        return;
      }
      const fn = api?.routes.get("$disconnect");
      const requestId = gatewayId();
      const logged = (status: number, extra = {}): void => access(api, facts, { requestId, eventType: "DISCONNECT", routeKey: "$disconnect", status, ...extra });
      if (!fn) return logged(200);
      // The connection's authorizer answer travels along (facts); the authorizer does not run again.
      const outcome = await integrate(fn, disconnectEvent(facts, handshake, code, reason, now(), requestId), `$disconnect ${facts.connectionId}`, {
        apiId: facts.apiId,
        stage: facts.stage,
        routeKey: "$disconnect",
      });
      logged(outcome.ok ? 200 : 500, outcome.ok ? {} : failure(outcome.message));
    },
  };
}
