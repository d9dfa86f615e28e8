import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { WireAdapter, WireRequest, WireResponse } from "./service.js";

// Every SigV4-signed request names its service in the credential scope:
// "Credential=AKID/20260101/us-east-1/lambda/aws4_request". One port can then
// serve every AWS service, as AWS_ENDPOINT_URL expects.
const SCOPE = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/;

export function signingNameOf(authorization: string | undefined): string | undefined {
  return authorization ? SCOPE.exec(authorization)?.[1] : undefined;
}

export const MAX_REQUEST_BYTES = 70 * 1024 * 1024; // Lambda's zip upload limit is 50 MB, base64 grows it by a third

/** A request body over the adapter's limit: refused before it is buffered. */
export class RequestTooLarge extends Error {
  constructor() {
    super("request body too large");
    this.name = "RequestTooLarge";
  }
}

// Events rather than `for await`: every PostToConnection of a broadcast comes
// through here, and an async iterator per request was a measurable part of its cost.
export function readBody(req: IncomingMessage, limit = MAX_REQUEST_BYTES): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume();
        reject(new RequestTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.once("end", () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
    req.once("error", reject);
  });
}

// A path the URL parser would hand back unchanged: no query, nothing it re-encodes
// (and, checked below, no dot segment and no leading "//", which it would resolve).
const PLAIN_PATH = /^\/[A-Za-z0-9\-_~!$&'()*+,;=:@%/.]*$/;

export function toWireRequest(req: IncomingMessage, body: Buffer): WireRequest {
  return wireRequestOf(req.method ?? "GET", req.url ?? "/", req.headers, body);
}

function wireRequestOf(method: string, raw: string, headers: IncomingHttpHeaders, body: Buffer): WireRequest {
  // Most calls (every PostToConnection) have such a path: skip the URL parser for them.
  if (PLAIN_PATH.test(raw) && !raw.includes("/.") && !raw.startsWith("//")) {
    return { method, path: raw, rawPath: raw, query: new URLSearchParams(), headers, body };
  }
  const url = new URL(raw, "http://local");
  return { method, path: url.pathname, rawPath: raw.split("?")[0] ?? "/", query: url.searchParams, headers, body };
}

export function sendWire(res: ServerResponse, out: WireResponse): void {
  res.writeHead(out.status, out.headers);
  res.end(out.body);
}

function jsonError(status: number, type: string, message: string): WireResponse {
  return {
    status,
    headers: { "content-type": "application/json", "x-amzn-errortype": type },
    body: JSON.stringify({ __type: type, message }),
  };
}

/** How one request is answered, whatever read it: an http.Server or the in-process connections. */
export interface WireDispatch {
  /** The adapter the request goes to (by its SigV4 scope), and the largest body it takes. */
  route(headers: IncomingHttpHeaders, url: string): Route;
  /** The answer; undefined means: cut the connection (an injected network failure). */
  answer(route: Route, method: string, url: string, headers: IncomingHttpHeaders, body: Buffer): Promise<WireResponse | undefined>;
  /** The answer to a body over `route.maxBodyBytes`. */
  tooLarge(route: Route): WireResponse;
}

export interface Route {
  readonly service: string | undefined;
  readonly adapter: WireAdapter | undefined;
  readonly maxBodyBytes: number;
}

/**
 * Routes a request to the adapter its SigV4 scope names. `unsigned` may name
 * one for a request without a signature (an @connections call from curl).
 */
export function createWireDispatch(adapters: readonly WireAdapter[], unsigned?: (url: string) => WireAdapter | undefined): WireDispatch {
  const bySigningName = new Map(adapters.map((a) => [a.signingName, a]));
  return {
    route(headers, url) {
      const service = signingNameOf(headers.authorization);
      const adapter = service ? bySigningName.get(service) : headers.authorization ? undefined : unsigned?.(url);
      return { service, adapter, maxBodyBytes: adapter?.maxRequestBytes ?? MAX_REQUEST_BYTES };
    },
    async answer(route, method, url, headers, body) {
      const { adapter, service } = route;
      if (!adapter) {
        return jsonError(
          400,
          "UnknownOperationException",
          service ? `the chatctl local cloud does not serve ${service}` : "request is not SigV4-signed; cannot tell which service it is for",
        );
      }
      try {
        return await adapter.handle(wireRequestOf(method, url, headers, body));
      } catch (err) {
        // An injected fault: cut the connection the way a network failure would.
        if (err instanceof Error && err.name === "DroppedConnection") return undefined;
        return jsonError(500, "InternalFailure", err instanceof Error ? err.message : String(err));
      }
    },
    tooLarge(route) {
      return route.adapter?.maxRequestBytes !== undefined
        ? jsonError(413, "PayloadTooLargeException", "Request too large")
        : jsonError(500, "InternalFailure", new RequestTooLarge().message);
    },
  };
}

/** The http.Server side of a WireDispatch. */
export function createDispatcher(adapters: readonly WireAdapter[], unsigned?: (url: string) => WireAdapter | undefined) {
  return dispatcherOf(createWireDispatch(adapters, unsigned));
}

export function dispatcherOf(wire: WireDispatch) {
  return async function dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const route = wire.route(req.headers, req.url ?? "/");
    let body: Buffer;
    try {
      body = await readBody(req, route.maxBodyBytes);
    } catch (err) {
      sendWire(res, err instanceof RequestTooLarge ? wire.tooLarge(route) : jsonError(500, "InternalFailure", err instanceof Error ? err.message : String(err)));
      return;
    }
    const out = await wire.answer(route, req.method ?? "GET", req.url ?? "/", req.headers, body);
    if (out) sendWire(res, out);
    else req.socket.destroy();
  };
}

export interface FrontDoor {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

/** A plain HTTP server for the given adapters: enough for wire-protocol tests. */
export async function startFrontDoor(adapters: readonly WireAdapter[], host = "127.0.0.1", port = 0): Promise<FrontDoor> {
  const dispatch = createDispatcher(adapters);
  const server = createServer((req, res) => void dispatch(req, res));
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${host}:${addr.port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
