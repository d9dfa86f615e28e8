import { AwsError, type OpInput, type ServiceModel, type WireAdapter, type WireRequest, type WireResponse } from "../service.js";

// The @connections API's rest-json protocol: POST (the body is the message), GET
// and DELETE on /@connections/{ConnectionId} under the stage's endpoint. The SDK
// puts the API id in the host name and the stage in the base path; locally the
// host is the cloud's, so the path may name them: [/{apiId}][/{stage}]/@connections/{id}.

const CONNECTIONS = "@connections";
const OPERATIONS: Readonly<Record<string, string>> = { POST: "PostToConnection", GET: "GetConnection", DELETE: "DeleteConnection" };
const MAX_REQUEST_BYTES = 8 * 1024 * 1024; // beyond any sane POST; larger bodies are cut off rather than buffered
const EMPTY_OK: WireResponse = { status: 200, headers: {}, body: "" };
const NO_CONTENT: WireResponse = { status: 204, headers: {}, body: "" };

function json(status: number, body: unknown, errorType?: string): WireResponse {
  return {
    status,
    headers: { "content-type": "application/json", ...(errorType ? { "x-amzn-errortype": errorType } : {}) },
    body: JSON.stringify(body),
  };
}

const EXECUTE_API_HOST = /^([a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?(?::\d+)?$/i;

const FORBIDDEN = (): WireResponse => json(403, { message: "Forbidden" }, "ForbiddenException");

/** `[apiId/][stage/]@connections/{id}` -> the id and the endpoint's API and stage, or undefined. */
export function parseConnectionsPath(path: string): { id: string; apiId?: string; stage?: string } | undefined {
  let segments: string[];
  try {
    segments = path
      .split("/")
      .filter((s) => s.length > 0)
      .map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
  const at = segments.indexOf(CONNECTIONS);
  if (at < 0 || at > 2 || at !== segments.length - 2) return undefined;
  const id = segments[at + 1];
  if (!id) return undefined;
  if (at === 0) return { id };
  if (at === 1) return { id, stage: segments[0] ?? "" };
  return { id, apiId: segments[0] ?? "", stage: segments[1] ?? "" };
}

/** True for a URL (path and query) that names a connection: the front door sends such unsigned calls here. */
export function isConnectionsUrl(url: string | undefined): boolean {
  const path = (url ?? "/").split("?")[0] ?? "/";
  return path.includes(CONNECTIONS) && parseConnectionsPath(path) !== undefined;
}

/** The @connections API in front of the ConnectionsModel; its SigV4 scope is "execute-api". */
export function connectionsWire(model: ServiceModel): WireAdapter {
  return {
    signingName: "execute-api",
    maxRequestBytes: MAX_REQUEST_BYTES,
    async handle(req: WireRequest): Promise<WireResponse> {
      const target = parseConnectionsPath(req.path);
      const operation = OPERATIONS[req.method];
      if (!target || !operation) return FORBIDDEN();
      const input: OpInput = { ConnectionId: target.id };
      if (target.stage !== undefined) input.Stage = target.stage;
      // Through the real host name (`{apiId}.execute-api...`) the SDK names the API in the host, not the path.
      const apiId = target.apiId ?? EXECUTE_API_HOST.exec(String(req.headers.host ?? ""))?.[1];
      if (apiId !== undefined) input.ApiId = apiId;
      if (operation === "PostToConnection") input.Data = req.body;
      try {
        const out = await model.dispatch(operation, input);
        if (operation === "PostToConnection") return EMPTY_OK;
        if (operation === "DeleteConnection") return NO_CONTENT;
        const identity = out.Identity as { SourceIp?: string; UserAgent?: string } | undefined;
        return json(200, {
          connectedAt: (out.ConnectedAt as Date).toISOString(),
          identity: { sourceIp: identity?.SourceIp, userAgent: identity?.UserAgent },
          lastActiveAt: (out.LastActiveAt as Date).toISOString(),
        });
      } catch (err) {
        if (err instanceof AwsError) return json(err.statusCode, err.message ? { message: err.message } : {}, err.name);
        throw err;
      }
    },
  };
}
