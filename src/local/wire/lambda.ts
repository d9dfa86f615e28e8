/**
 * Lambda's REST-JSON protocol (as @aws-sdk/client-lambda speaks it) in front of
 * the Lambda model: the operation comes from method + path, members from path
 * labels, query, headers and a PascalCase JSON body; blobs travel as base64 in
 * JSON except Invoke's payload, which is the raw body in both directions.
 */
import { randomUUID } from "node:crypto";
import { errorMessage } from "../../errors.js";
import { AwsError, type OpInput, type OpOutput, type ServiceModel, type WireAdapter, type WireRequest, type WireResponse } from "../service.js";

interface Route {
  readonly method: string;
  readonly pattern: RegExp; // matched against the raw path; groups are path labels, in order
  readonly operation: string;
  readonly labels: readonly string[];
  readonly status: number;
}

const FN = "/2015-03-31/functions";
const route = (method: string, pattern: RegExp, operation: string, labels: readonly string[], status = 200): Route => ({
  method,
  pattern,
  operation,
  labels,
  status,
});

const ROUTES: readonly Route[] = [
  route("POST", /^\/2015-03-31\/functions\/?$/, "CreateFunction", [], 201),
  route("GET", /^\/2015-03-31\/functions\/?$/, "ListFunctions", []),
  route("GET", /^\/2015-03-31\/functions\/([^/]+)\/?$/, "GetFunction", ["FunctionName"]),
  route("DELETE", /^\/2015-03-31\/functions\/([^/]+)\/?$/, "DeleteFunction", ["FunctionName"], 204),
  route("GET", /^\/2015-03-31\/functions\/([^/]+)\/configuration\/?$/, "GetFunctionConfiguration", ["FunctionName"]),
  route("PUT", /^\/2015-03-31\/functions\/([^/]+)\/configuration\/?$/, "UpdateFunctionConfiguration", ["FunctionName"]),
  route("PUT", /^\/2015-03-31\/functions\/([^/]+)\/code\/?$/, "UpdateFunctionCode", ["FunctionName"]),
  route("POST", /^\/2015-03-31\/functions\/([^/]+)\/policy\/?$/, "AddPermission", ["FunctionName"], 201),
  route("GET", /^\/2015-03-31\/functions\/([^/]+)\/policy\/?$/, "GetPolicy", ["FunctionName"]),
  route("DELETE", /^\/2015-03-31\/functions\/([^/]+)\/policy\/([^/]+)\/?$/, "RemovePermission", ["FunctionName", "StatementId"], 204),
  route("POST", /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/, "Invoke", ["FunctionName"]),
  route("GET", /^\/2017-03-31\/tags\/([^/]+)\/?$/, "ListTags", ["Resource"]),
  route("POST", /^\/2017-03-31\/tags\/([^/]+)\/?$/, "TagResource", ["Resource"], 204),
  route("DELETE", /^\/2017-03-31\/tags\/([^/]+)\/?$/, "UntagResource", ["Resource"], 204),
];

/** Query members per operation: wire name -> member name (numbers are converted). */
const QUERY: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  GetFunction: { Qualifier: "Qualifier" },
  GetFunctionConfiguration: { Qualifier: "Qualifier" },
  DeleteFunction: { Qualifier: "Qualifier" },
  ListFunctions: { MasterRegion: "MasterRegion", FunctionVersion: "FunctionVersion", Marker: "Marker", MaxItems: "MaxItems" },
  AddPermission: { Qualifier: "Qualifier" },
  GetPolicy: { Qualifier: "Qualifier" },
  RemovePermission: { Qualifier: "Qualifier", RevisionId: "RevisionId" },
  Invoke: { Qualifier: "Qualifier" },
};
const NUMERIC_QUERY = new Set(["MaxItems"]);

const INVOKE_HEADERS: Readonly<Record<string, string>> = {
  "x-amz-invocation-type": "InvocationType",
  "x-amz-log-type": "LogType",
  "x-amz-client-context": "ClientContext",
  "x-amz-durable-execution-name": "DurableExecutionName",
  "x-amz-tenant-id": "TenantId",
};

/** Error codes whose body member is "Message" rather than "message" in Lambda's model. */
const CAPITAL_MESSAGE = new Set(["ResourceNotFoundException", "ServiceException", "ResourceNotReadyException", "UnsupportedMediaTypeException"]);

function json(status: number, body: unknown, headers: Record<string, string> = {}): WireResponse {
  return {
    status,
    headers: { "content-type": "application/json", "x-amzn-requestid": randomUUID(), ...headers },
    body: body === undefined ? "" : JSON.stringify(body),
  };
}

export function lambdaErrorResponse(err: unknown): WireResponse {
  const known = err instanceof AwsError ? err : undefined;
  const code = known?.name ?? "ServiceException";
  const status = known?.statusCode ?? 500;
  const message = errorMessage(err);
  const body: Record<string, string> = { Type: status >= 500 ? "Service" : "User" };
  body[CAPITAL_MESSAGE.has(code) ? "Message" : "message"] = message;
  const headers: Record<string, string> = { "x-amzn-errortype": code };
  if (code === "TooManyRequestsException") {
    headers["retry-after"] = "1";
    body["Reason"] = "CallerRateLimitExceeded";
  }
  return json(status, body, headers);
}

function toBase64Blobs(operation: string, body: Record<string, unknown>): Record<string, unknown> {
  // JSON carries blobs as base64; the model takes bytes, as SDK callers pass them.
  const decode = (v: unknown): unknown => (typeof v === "string" ? new Uint8Array(Buffer.from(v, "base64")) : v);
  if (operation === "CreateFunction") {
    const code = body["Code"];
    if (typeof code === "object" && code !== null && "ZipFile" in code) {
      return { ...body, Code: { ...code, ZipFile: decode((code as Record<string, unknown>)["ZipFile"]) } };
    }
  }
  if (operation === "UpdateFunctionCode" && "ZipFile" in body) return { ...body, ZipFile: decode(body["ZipFile"]) };
  return body;
}

function parseJsonBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    throw new AwsError("InvalidRequestContentException", "Could not parse request body into json: malformed JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new AwsError("InvalidRequestContentException", "Could not parse request body into json: expected an object");
  }
  return parsed as Record<string, unknown>;
}

function header(req: WireRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function requestInput(r: Route, labels: readonly string[], req: WireRequest): OpInput {
  const input: OpInput = {};
  r.labels.forEach((label, i) => {
    input[label] = decodeURIComponent(labels[i] ?? "");
  });
  for (const [wire, member] of Object.entries(QUERY[r.operation] ?? {})) {
    const v = req.query.get(wire);
    if (v === null) continue;
    if (NUMERIC_QUERY.has(wire)) {
      const n = Number(v);
      if (!Number.isInteger(n)) throw new AwsError("InvalidParameterValueException", `${wire} must be an integer`);
      input[member] = n;
    } else {
      input[member] = v;
    }
  }
  if (r.operation === "UntagResource") input["TagKeys"] = req.query.getAll("tagKeys");
  if (r.operation === "Invoke") {
    for (const [h, member] of Object.entries(INVOKE_HEADERS)) {
      const v = header(req, h);
      if (v !== undefined) input[member] = v;
    }
    input["Payload"] = new Uint8Array(req.body);
    return input;
  }
  if (req.method === "POST" || req.method === "PUT") Object.assign(input, toBase64Blobs(r.operation, parseJsonBody(req.body)), input);
  return input;
}

function invokeResponse(out: OpOutput): WireResponse {
  const headers: Record<string, string> = { "content-type": "application/json", "x-amzn-requestid": randomUUID() };
  if (typeof out["FunctionError"] === "string") headers["x-amz-function-error"] = out["FunctionError"];
  if (typeof out["LogResult"] === "string") headers["x-amz-log-result"] = out["LogResult"];
  if (typeof out["ExecutedVersion"] === "string") headers["x-amz-executed-version"] = out["ExecutedVersion"];
  const payload = out["Payload"];
  const status = typeof out["StatusCode"] === "number" ? out["StatusCode"] : 200;
  return { status, headers, body: payload instanceof Uint8Array ? Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength) : "" };
}

export function lambdaWire(model: ServiceModel): WireAdapter {
  return {
    signingName: "lambda",
    async handle(req: WireRequest): Promise<WireResponse> {
      try {
        const path = req.rawPath;
        let matched: { route: Route; labels: string[] } | undefined;
        for (const r of ROUTES) {
          if (r.method !== req.method) continue;
          const m = r.pattern.exec(path);
          if (m) {
            matched = { route: r, labels: m.slice(1) };
            break;
          }
        }
        if (!matched) {
          const known = ROUTES.some((r) => r.pattern.test(path));
          return lambdaErrorResponse(
            new AwsError(
              "UnknownOperationException",
              known ? `${req.method} ${path} is not supported by the chatctl local cloud` : `Unknown operation ${req.method} ${path}${path.startsWith(FN) ? "" : " (not a Lambda API path)"}`,
              known ? 405 : 404,
            ),
          );
        }
        const { route: r, labels } = matched;
        const out = await model.dispatch(r.operation, requestInput(r, labels, req));
        if (r.operation === "Invoke") return invokeResponse(out);
        if (r.status === 204) return { status: 204, headers: { "x-amzn-requestid": randomUUID() }, body: "" };
        return json(r.status, out);
      } catch (err) {
        return lambdaErrorResponse(err);
      }
    },
  };
}
