import { AwsError, type OpInput, type ServiceModel, type WireAdapter, type WireRequest, type WireResponse } from "../service.js";
import { parseJsonObject, restJson, restJsonError, restRouter, type RestRoute } from "./rest.js";

// API Gateway v2's rest-json protocol, as @aws-sdk/client-apigatewayv2 speaks it:
// the operation is named by method + path, ids travel as path labels, list
// options as query strings, everything else as a JSON body whose member names
// are the model's names with a lower-case first letter (every jsonName trait of
// the service follows that rule). Dates go out as ISO 8601 strings.

interface ApigwRoute extends RestRoute {
  readonly status: number; // success status of the operation (201 for creates, 204 for deletes)
  readonly query?: Readonly<Record<string, { readonly member: string; readonly list?: boolean }>>;
}

const PAGING = { maxResults: { member: "MaxResults" }, nextToken: { member: "NextToken" } } as const;

/** Every operation the model serves, with the method, URI and status of the SDK's operation schema. */
export const APIGATEWAYV2_ROUTES: readonly ApigwRoute[] = [
  { method: "POST", path: "/v2/apis", operation: "CreateApi", status: 201 },
  { method: "GET", path: "/v2/apis", operation: "GetApis", status: 200, query: PAGING },
  { method: "GET", path: "/v2/apis/{ApiId}", operation: "GetApi", status: 200 },
  { method: "PATCH", path: "/v2/apis/{ApiId}", operation: "UpdateApi", status: 200 },
  { method: "DELETE", path: "/v2/apis/{ApiId}", operation: "DeleteApi", status: 204 },

  { method: "POST", path: "/v2/apis/{ApiId}/integrations", operation: "CreateIntegration", status: 201 },
  { method: "GET", path: "/v2/apis/{ApiId}/integrations", operation: "GetIntegrations", status: 200, query: PAGING },
  { method: "GET", path: "/v2/apis/{ApiId}/integrations/{IntegrationId}", operation: "GetIntegration", status: 200 },
  { method: "PATCH", path: "/v2/apis/{ApiId}/integrations/{IntegrationId}", operation: "UpdateIntegration", status: 200 },
  { method: "DELETE", path: "/v2/apis/{ApiId}/integrations/{IntegrationId}", operation: "DeleteIntegration", status: 204 },

  { method: "POST", path: "/v2/apis/{ApiId}/authorizers", operation: "CreateAuthorizer", status: 201 },
  { method: "GET", path: "/v2/apis/{ApiId}/authorizers", operation: "GetAuthorizers", status: 200, query: PAGING },
  { method: "GET", path: "/v2/apis/{ApiId}/authorizers/{AuthorizerId}", operation: "GetAuthorizer", status: 200 },
  { method: "PATCH", path: "/v2/apis/{ApiId}/authorizers/{AuthorizerId}", operation: "UpdateAuthorizer", status: 200 },
  { method: "DELETE", path: "/v2/apis/{ApiId}/authorizers/{AuthorizerId}", operation: "DeleteAuthorizer", status: 204 },

  { method: "POST", path: "/v2/apis/{ApiId}/routes", operation: "CreateRoute", status: 201 },
  { method: "GET", path: "/v2/apis/{ApiId}/routes", operation: "GetRoutes", status: 200, query: PAGING },
  { method: "GET", path: "/v2/apis/{ApiId}/routes/{RouteId}", operation: "GetRoute", status: 200 },
  { method: "PATCH", path: "/v2/apis/{ApiId}/routes/{RouteId}", operation: "UpdateRoute", status: 200 },
  { method: "DELETE", path: "/v2/apis/{ApiId}/routes/{RouteId}", operation: "DeleteRoute", status: 204 },

  { method: "POST", path: "/v2/apis/{ApiId}/stages", operation: "CreateStage", status: 201 },
  { method: "GET", path: "/v2/apis/{ApiId}/stages", operation: "GetStages", status: 200, query: PAGING },
  { method: "GET", path: "/v2/apis/{ApiId}/stages/{StageName}", operation: "GetStage", status: 200 },
  { method: "PATCH", path: "/v2/apis/{ApiId}/stages/{StageName}", operation: "UpdateStage", status: 200 },
  { method: "DELETE", path: "/v2/apis/{ApiId}/stages/{StageName}", operation: "DeleteStage", status: 204 },
  { method: "DELETE", path: "/v2/apis/{ApiId}/stages/{StageName}/accesslogsettings", operation: "DeleteAccessLogSettings", status: 204 },

  { method: "POST", path: "/v2/apis/{ApiId}/deployments", operation: "CreateDeployment", status: 201 },
  { method: "GET", path: "/v2/apis/{ApiId}/deployments", operation: "GetDeployments", status: 200, query: PAGING },
  { method: "GET", path: "/v2/apis/{ApiId}/deployments/{DeploymentId}", operation: "GetDeployment", status: 200 },
  { method: "DELETE", path: "/v2/apis/{ApiId}/deployments/{DeploymentId}", operation: "DeleteDeployment", status: 204 },

  { method: "POST", path: "/v2/tags/{ResourceArn}", operation: "TagResource", status: 201 },
  { method: "GET", path: "/v2/tags/{ResourceArn}", operation: "GetTags", status: 200 },
  { method: "DELETE", path: "/v2/tags/{ResourceArn}", operation: "UntagResource", status: 204, query: { tagKeys: { member: "TagKeys", list: true } } },
];

// Maps whose keys are user data (tag keys, stage variable names, route keys):
// their keys never change case. Values of the second kind are structures.
const VERBATIM_MAPS = new Set(["Tags", "StageVariables", "RequestTemplates", "RequestModels", "ResponseParameters", "ResponseTemplates", "ResponseModels"]);
const MAPS_OF_STRUCTURES = new Set(["RouteSettings", "RequestParameters"]);

const toPascal = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
const toCamel = (s: string): string => s.charAt(0).toLowerCase() + s.slice(1);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** Renames structure members (recursively) with `rename`; `memberOf` gives the model's name of a wire name. */
function convert(v: unknown, rename: (s: string) => string, modelName: (s: string) => string): unknown {
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map((x) => convert(x, rename, modelName));
  if (!isRecord(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(v)) {
    const member = modelName(key);
    if (VERBATIM_MAPS.has(member) && isRecord(value)) {
      out[rename(key)] = structuredClone(value);
    } else if (MAPS_OF_STRUCTURES.has(member) && isRecord(value)) {
      const map: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(value)) map[k] = convert(x, rename, modelName);
      out[rename(key)] = map;
    } else {
      out[rename(key)] = convert(value, rename, modelName);
    }
  }
  return out;
}

/** Wire (camelCase) -> SDK command input (PascalCase). */
export function fromWire(body: Record<string, unknown>): Record<string, unknown> {
  return convert(body, toPascal, toPascal) as Record<string, unknown>;
}

/** SDK command output (PascalCase, Dates) -> wire (camelCase, ISO strings). */
export function toWire(output: Record<string, unknown>): Record<string, unknown> {
  return convert(output, toCamel, (s) => s) as Record<string, unknown>;
}

export function apigatewayv2Wire(model: ServiceModel): WireAdapter {
  const route = restRouter(APIGATEWAYV2_ROUTES);
  return {
    signingName: "apigateway",
    async handle(req: WireRequest): Promise<WireResponse> {
      const match = route(req.method, req.rawPath);
      if (!match) {
        return restJsonError(404, "UnknownOperationException", {
          message: `${req.method} ${req.rawPath} is not an API Gateway v2 operation the chatctl local cloud serves`,
        });
      }
      const body = parseJsonObject(req.body);
      if (!body) return restJsonError(400, "BadRequestException", { message: "The request body is not a JSON object" });
      const input: OpInput = { ...fromWire(body), ...match.labels };
      for (const [name, spec] of Object.entries(match.route.query ?? {})) {
        const values = req.query.getAll(name);
        if (values.length === 0) continue;
        input[spec.member] = spec.list ? values : values[0];
      }
      try {
        const output = await model.dispatch(match.route.operation, input);
        return restJson(match.route.status, match.route.status === 204 ? undefined : toWire(output));
      } catch (err) {
        if (err instanceof AwsError) return restJsonError(err.statusCode, err.name, { message: err.message });
        throw err;
      }
    },
  };
}
