import type { ApiView } from "./directory.js";
import { requestTime, type ConnectionFacts } from "./events.js";

// The stage's throttling and access logs, as API Gateway applies them to a WebSocket API.

/**
 * API Gateway's token bucket (https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-protect.html):
 * `burstLimit` tokens at most, refilled at `rateLimit` per second; each request takes one.
 * A stage's default route settings apply to each route on its own, so buckets are kept
 * per API, stage and route key.
 */
export class RouteThrottle {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  take(key: string, limits: { readonly rateLimit: number; readonly burstLimit: number }, now: number): boolean {
    const bucket = this.buckets.get(key) ?? { tokens: limits.burstLimit, at: now };
    bucket.tokens = Math.min(limits.burstLimit, bucket.tokens + ((now - bucket.at) / 1000) * limits.rateLimit);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}

/** The $context variables an access log line can name, for one request. */
export type AccessLogValues = Readonly<Record<string, string | number | undefined>>;

const VARIABLE = /\$context\.([A-Za-z0-9_.]+[A-Za-z0-9_])/g;

/**
 * One access log line: the stage's format with each $context variable replaced by its
 * value, "-" when the request has none, as API Gateway writes it
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-logging.html).
 * Values are JSON-escaped so a JSON format stays JSON.
 */
export function accessLogLine(format: string, values: AccessLogValues): string {
  return format.replace(VARIABLE, (_whole, name: string) => {
    const v = values[name];
    if (v === undefined || v === "") return "-";
    return JSON.stringify(String(v)).slice(1, -1);
  });
}

/** "arn:aws:logs:{region}:{account}:log-group:{name}[:*]" -> name. */
export function logGroupOfArn(arn: string): string | undefined {
  const m = /^arn:[^:]+:logs:[^:]+:\d{12}:log-group:([^:]+)(?::\*)?$/.exec(arn);
  return m?.[1];
}

/** Writes one access log line of a request, when its stage logs access. */
export type AccessLogger = (api: ApiView | undefined, facts: ConnectionFacts, values: AccessLogValues) => void;

/** The gateway's access logger: the connection's own variables, then the request's. */
export function accessLogger(write: ((destinationArn: string, line: string, at: number) => void) | undefined, now: () => number, log: (line: string) => void): AccessLogger {
  return (api, facts, values) => {
    if (!api?.accessLog || !write) return;
    const at = now();
    const line = accessLogLine(api.accessLog.format, {
      requestTime: requestTime(at),
      requestTimeEpoch: at,
      connectionId: facts.connectionId,
      apiId: facts.apiId,
      stage: facts.stage,
      domainName: facts.domainName,
      "identity.sourceIp": facts.sourceIp,
      "identity.userAgent": facts.userAgent,
      "authorizer.principalId": typeof facts.authorizer?.principalId === "string" ? facts.authorizer.principalId : undefined,
      ...values,
    });
    try {
      write(api.accessLog.destinationArn, line, at);
    } catch (err) {
      log(`access log: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
}

/** Whether the stage's route throttling lets one more request of `routeKey` through now. */
export type ThrottleCheck = (api: ApiView, routeKey: string) => boolean;

export function stageThrottle(now: () => number): ThrottleCheck {
  const buckets = new RouteThrottle();
  return (api, routeKey) => !api.throttling || buckets.take(`${api.apiId}/${api.stage}/${routeKey}`, api.throttling, now());
}
