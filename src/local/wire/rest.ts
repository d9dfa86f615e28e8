import { randomUUID } from "node:crypto";
import type { WireResponse } from "../service.js";

// Routing and framing shared by REST-style AWS protocols (rest-json: API Gateway,
// Lambda, ...). Nothing here knows a particular service: an adapter declares its
// operations as method + URI template, as the service's Smithy model does.

export interface RestRoute {
  readonly method: string; // "GET", "POST", ...
  /** URI template as in the service model: "/v2/apis/{ApiId}/routes/{RouteId}"; "{Key+}" is greedy. */
  readonly path: string;
  readonly operation: string;
}

export interface RestMatch<R extends RestRoute> {
  readonly route: R;
  /** Path labels by their template name, each percent-decoded. */
  readonly labels: Readonly<Record<string, string>>;
}

type Segment = { readonly literal: string } | { readonly label: string; readonly greedy: boolean };

interface Compiled<R extends RestRoute> {
  readonly route: R;
  readonly segments: readonly Segment[];
}

function compile(path: string): Segment[] {
  return splitRaw(path).map((s) => {
    const m = /^\{([^}+]+)(\+?)\}$/.exec(s);
    return m ? { label: m[1] ?? "", greedy: m[2] === "+" } : { literal: s };
  });
}

function splitRaw(rawPath: string): string[] {
  const trimmed = rawPath.replace(/^\/+/, "").replace(/\/+$/, "");
  return trimmed === "" ? [] : trimmed.split("/");
}

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function matchSegments(segments: readonly Segment[], raw: readonly string[]): Record<string, string> | undefined {
  const labels: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i];
    if (seg === undefined) return undefined;
    if ("literal" in seg) {
      if (raw[i] !== seg.literal) return undefined;
      continue;
    }
    if (seg.greedy) {
      // Greedy labels take the rest of the path, slashes included.
      const rest = raw.slice(i);
      if (rest.length === 0) return undefined;
      const parts = rest.map(decode);
      if (parts.some((p) => p === undefined)) return undefined;
      labels[seg.label] = parts.join("/");
      return labels;
    }
    const value = raw[i] === undefined ? undefined : decode(raw[i] ?? "");
    if (value === undefined || value === "") return undefined;
    labels[seg.label] = value;
  }
  return raw.length === segments.length ? labels : undefined;
}

/**
 * Finds the operation a request is for. Path segments are split before they are
 * decoded, so a label holding an ARN ("arn%3Aaws%3A...%2Fapis%2Fabc") stays one label.
 */
export function restRouter<R extends RestRoute>(routes: readonly R[]): (method: string, rawPath: string) => RestMatch<R> | undefined {
  const compiled: Compiled<R>[] = routes.map((route) => ({ route, segments: compile(route.path) }));
  return (method, rawPath) => {
    const raw = splitRaw(rawPath);
    for (const c of compiled) {
      if (c.route.method !== method.toUpperCase()) continue;
      const labels = matchSegments(c.segments, raw);
      if (labels) return { route: c.route, labels };
    }
    return undefined;
  };
}

/** A JSON body, or an empty object for an empty one; undefined when it is not a JSON object. */
export function parseJsonObject(body: Buffer): Record<string, unknown> | undefined {
  if (body.length === 0) return {};
  try {
    const parsed: unknown = JSON.parse(body.toString("utf8"));
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A JSON response; 204 and undefined bodies go out empty, as AWS sends them. */
export function restJson(status: number, body: unknown, extraHeaders: Record<string, string> = {}): WireResponse {
  const empty = status === 204 || body === undefined;
  return {
    status,
    headers: {
      ...(empty ? {} : { "content-type": "application/json" }),
      "x-amzn-requestid": randomUUID(),
      ...extraHeaders,
    },
    body: empty ? "" : JSON.stringify(body),
  };
}

/**
 * An error as rest-json services send it: the SDK takes the exception class from
 * the x-amzn-errortype header and the members (message, ...) from the body.
 */
export function restJsonError(status: number, errorType: string, body: Record<string, unknown>): WireResponse {
  return restJson(status, body, { "x-amzn-errortype": errorType });
}
