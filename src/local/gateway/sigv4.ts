import { createHash, createHmac, timingSafeEqual } from "node:crypto";

// IAM authorization of a WebSocket connection (AuthorizationType AWS_IAM on $connect):
// the upgrade request must carry a valid Signature Version 4 for the service
// execute-api, in the Authorization header or as a presigned URL's query string
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html,
// https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-control-access-iam.html).
// Locally the only credentials are the local cloud's own; a request that is not
// signed, signed with another key, altered, or too old is refused (403).

export interface SignedRequest {
  readonly method: string;
  /** The path as it arrived, still percent-encoded. */
  readonly rawPath: string;
  readonly query: URLSearchParams;
  /** Header values by lower-case name, repeated ones joined with ",". */
  readonly headers: Readonly<Record<string, string>>;
}

export type SigV4Result = { readonly ok: true; readonly accessKeyId: string } | { readonly ok: false; readonly why: string };

const ALGORITHM = "AWS4-HMAC-SHA256";
const EMPTY_SHA256 = createHash("sha256").update("").digest("hex");
/** AWS refuses signatures more than 15 minutes away from its clock. */
const MAX_SKEW_MS = 15 * 60 * 1000;

/** RFC 3986 encoding, as SigV4 canonicalizes names and values. */
function encode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}

function parseAmzDate(s: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, se] = m.map(Number) as number[];
  return Date.UTC(y ?? 0, (mo ?? 1) - 1, d ?? 1, h ?? 0, mi ?? 0, se ?? 0);
}

interface Parts {
  readonly credential: string;
  readonly signedHeaders: string;
  readonly signature: string;
  readonly amzDate: string;
  readonly presigned: boolean;
  readonly expiresSeconds: number | undefined;
}

function partsOf(req: SignedRequest): Parts | string {
  const auth = req.headers["authorization"];
  if (auth !== undefined) {
    if (!auth.startsWith(`${ALGORITHM} `)) return "the Authorization header is not AWS4-HMAC-SHA256";
    const fields = Object.fromEntries(
      auth
        .slice(ALGORITHM.length + 1)
        .split(",")
        .map((f) => f.trim().split("=") as [string, string]),
    );
    const amzDate = req.headers["x-amz-date"];
    if (!fields.Credential || !fields.SignedHeaders || !fields.Signature || !amzDate) return "the signature lacks Credential, SignedHeaders, Signature or X-Amz-Date";
    return { credential: fields.Credential, signedHeaders: fields.SignedHeaders, signature: fields.Signature, amzDate, presigned: false, expiresSeconds: undefined };
  }
  if (req.query.get("X-Amz-Algorithm") === ALGORITHM) {
    const credential = req.query.get("X-Amz-Credential");
    const signedHeaders = req.query.get("X-Amz-SignedHeaders");
    const signature = req.query.get("X-Amz-Signature");
    const amzDate = req.query.get("X-Amz-Date");
    if (!credential || !signedHeaders || !signature || !amzDate) return "the presigned URL lacks a signing parameter";
    const expires = req.query.get("X-Amz-Expires");
    return { credential, signedHeaders, signature, amzDate, presigned: true, expiresSeconds: expires === null ? undefined : Number(expires) };
  }
  return "the request is not signed";
}

/**
 * Checks a SigV4 signature for execute-api in `region` against the secret of its access
 * key. `now` is the gateway's clock.
 */
export function verifySigV4(req: SignedRequest, region: string, secretFor: (accessKeyId: string) => string | undefined, now: number): SigV4Result {
  const parts = partsOf(req);
  if (typeof parts === "string") return { ok: false, why: parts };
  const [accessKeyId = "", date = "", scopeRegion = "", service = "", terminator = ""] = parts.credential.split("/");
  const secret = secretFor(accessKeyId);
  if (secret === undefined) return { ok: false, why: `unknown access key ${accessKeyId}` };
  if (service !== "execute-api" || terminator !== "aws4_request" || scopeRegion !== region) return { ok: false, why: `credential scope ${date}/${scopeRegion}/${service} is not this API's` };
  const signedAt = parseAmzDate(parts.amzDate);
  if (signedAt === undefined || !parts.amzDate.startsWith(date)) return { ok: false, why: "X-Amz-Date is malformed" };
  if (parts.presigned) {
    const expires = parts.expiresSeconds ?? 900;
    if (!Number.isInteger(expires) || expires < 1 || expires > 604_800 || now > signedAt + expires * 1000) return { ok: false, why: "the presigned URL has expired" };
    if (signedAt - now > MAX_SKEW_MS) return { ok: false, why: "the signature is from the future" };
  } else if (Math.abs(now - signedAt) > MAX_SKEW_MS) {
    return { ok: false, why: "the signature is expired (more than 15 minutes old)" };
  }

  const signedNames = parts.signedHeaders.split(";");
  if (!signedNames.includes("host")) return { ok: false, why: "the host header is not signed" };
  const canonicalHeaders = signedNames.map((name) => `${name}:${(req.headers[name] ?? "").trim().replace(/\s+/g, " ")}\n`).join("");
  const query = [...req.query.entries()]
    .filter(([k]) => !(parts.presigned && k === "X-Amz-Signature"))
    .map(([k, v]) => [encode(k), encode(v)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  // Non-S3 services encode each path segment once more than it arrived.
  const path = req.rawPath.split("/").map((segment) => encode(segment)).join("/") || "/";
  const scope = `${date}/${scopeRegion}/${service}/aws4_request`;
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), scopeRegion), service), "aws4_request");
  const given = Buffer.from(parts.signature, "hex");
  const declared = req.headers["x-amz-content-sha256"];
  // An empty body's hash, or UNSIGNED-PAYLOAD as signers write into presigned URLs.
  const payloads = declared !== undefined ? [declared] : [EMPTY_SHA256, "UNSIGNED-PAYLOAD"];
  for (const payload of payloads) {
    const canonical = [req.method.toUpperCase(), path, query, canonicalHeaders, parts.signedHeaders, payload].join("\n");
    const toSign = [ALGORITHM, parts.amzDate, scope, createHash("sha256").update(canonical).digest("hex")].join("\n");
    const expected = hmac(key, toSign);
    if (given.length === expected.length && timingSafeEqual(given, expected)) return { ok: true, accessKeyId };
  }
  return { ok: false, why: "the signature does not match" };
}
