import { AwsError, type ServiceModel, type WireAdapter, type WireRequest, type WireResponse } from "../service.js";
import { parseJsonObject, restJson, restJsonError, restRouter, type RestRoute } from "./rest.js";

// API Gateway v1's rest-json protocol for the account settings. Its members are
// camelCase on the wire and in the SDK alike, so the body goes to the model as it is.
const ROUTES: readonly RestRoute[] = [
  { method: "GET", path: "/account", operation: "GetAccount" },
  { method: "PATCH", path: "/account", operation: "UpdateAccount" },
];

export function apigatewayWire(model: ServiceModel): WireAdapter {
  const route = restRouter(ROUTES);
  return {
    signingName: "apigateway",
    async handle(req: WireRequest): Promise<WireResponse> {
      const match = route(req.method, req.rawPath);
      if (!match) {
        return restJsonError(404, "NotFoundException", { message: `${req.method} ${req.rawPath} is not an API Gateway operation the chatctl local cloud serves` });
      }
      const body = parseJsonObject(req.body);
      if (!body) return restJsonError(400, "BadRequestException", { message: "The request body is not a JSON object" });
      try {
        return restJson(200, await model.dispatch(match.route.operation, body));
      } catch (err) {
        if (err instanceof AwsError) return restJsonError(err.statusCode, err.name, { message: err.message });
        throw err;
      }
    },
  };
}

/**
 * API Gateway v1 and v2 share the signing name `apigateway`, so one scope holds
 * both: v2's operations all live under /v2/, v1's elsewhere.
 */
export function apigatewayByPath(v1: WireAdapter, v2: WireAdapter): WireAdapter {
  return {
    signingName: "apigateway",
    handle: (req) => (req.rawPath === "/v2" || req.rawPath.startsWith("/v2/") ? v2.handle(req) : v1.handle(req)),
  };
}
