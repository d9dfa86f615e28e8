import type { ApiView } from "./directory.js";
import { selectRouteKey } from "./events.js";

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
