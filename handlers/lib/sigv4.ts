import { createHash, createHmac } from "node:crypto";
import type { AwsCredentialIdentity } from "@smithy/types";
import { escapeUri } from "./aws-common.js";

/**
 * SigV4 for the one request shape the handlers sign (a POST with no query whose
 * payload hash travels as x-amz-content-sha256, and for JSON-protocol services such
 * as DynamoDB an x-amz-target naming the operation), straight on node:crypto. The
 * general signer (@smithy/signature-v4) builds header maps, sorts, walks
 * middleware-shaped objects and derives through promises for every request; here
 * the canonical request is one template string and the day's signing key is
 * cached. test/handlers/sigv4.test.ts proves the output equal to @smithy's.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 */

const ALGORITHM = "AWS4-HMAC-SHA256";

/**
 * The canonical URI as the SDK's signer builds it for services other than S3:
 * empty and "." segments dropped, ".." resolved, then the path encoded a second time.
 */
export function canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(segment);
  }
  const normalized = `${path.startsWith("/") ? "/" : ""}${segments.join("/")}${segments.length > 0 && path.endsWith("/") ? "/" : ""}`;
  return escapeUri(normalized).replace(/%2F/g, "/");
}

// Header values as the signer canonicalises them: line breaks and runs of blanks to one space, trimmed.
function canonicalValue(value: string): string {
  return value.replace(/[\r\n]/g, " ").replace(/[ \t]+/g, " ").replace(/^ | $/g, "");
}

/** `YYYYMMDDTHHMMSSZ` of a time, the x-amz-date format. */
export function amzDate(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z").replace(/[-:]/g, "");
}

export interface PostSigner {
  /**
   * The x-amz-date and Authorization of a POST to `path` with these header values
   * (the signed set is fixed: content-length, content-type, host, x-amz-content-sha256,
   * x-amz-date, x-amz-security-token when there is a session token, x-amz-target when
   * `target` is given; sent, each header carries the value signed here).
   */
  sign(path: string, contentLength: number, payloadSha256Hex: string, now: number, target?: string): { readonly date: string; readonly authorization: string };
}

export interface SignerConfig {
  readonly credentials: AwsCredentialIdentity;
  readonly region: string;
  readonly service: string;
  readonly host: string;
  readonly contentType: string;
}

export function postSigner(config: SignerConfig): PostSigner {
  const { credentials, region, service } = config;
  const token = credentials.sessionToken;
  // Canonical headers go in name order; x-amz-target sorts last of them all.
  const signedHeaders = `content-length;content-type;host;x-amz-content-sha256;x-amz-date${token ? ";x-amz-security-token" : ""}`;
  const signedWithTarget = `${signedHeaders};x-amz-target`;
  const contentTypeLine = `content-type:${canonicalValue(config.contentType)}\nhost:${canonicalValue(config.host)}\nx-amz-content-sha256:`;
  const tokenLine = token ? `\nx-amz-security-token:${canonicalValue(token)}` : "";
  const credentialPrefix = `${ALGORITHM} Credential=${credentials.accessKeyId}/`;
  // A request per second at most re-formats the date; the key changes once a day.
  let second = -1;
  let date = "";
  let day = "";
  let scope = "";
  let key: Buffer | undefined;
  return {
    sign(path, contentLength, payloadSha256Hex, now, target) {
      const s = Math.floor(now / 1000);
      if (s !== second) {
        second = s;
        date = amzDate(new Date(s * 1000));
        const d = date.slice(0, 8);
        if (d !== day) {
          day = d;
          scope = `${day}/${region}/${service}/aws4_request`;
          const kDate = createHmac("sha256", `AWS4${credentials.secretAccessKey}`).update(day).digest();
          const kRegion = createHmac("sha256", kDate).update(region).digest();
          const kService = createHmac("sha256", kRegion).update(service).digest();
          key = createHmac("sha256", kService).update("aws4_request").digest();
        }
      }
      const signed = target === undefined ? signedHeaders : signedWithTarget;
      const targetLine = target === undefined ? "" : `\nx-amz-target:${canonicalValue(target)}`;
      const canonicalRequest =
        `POST\n${canonicalPath(path)}\n\ncontent-length:${contentLength}\n${contentTypeLine}${payloadSha256Hex}\nx-amz-date:${date}${tokenLine}${targetLine}\n\n` +
        `${signed}\n${payloadSha256Hex}`;
      const stringToSign = `${ALGORITHM}\n${date}\n${scope}\n${createHash("sha256").update(canonicalRequest).digest("hex")}`;
      const signature = createHmac("sha256", key as Buffer)
        .update(stringToSign)
        .digest("hex");
      return { date, authorization: `${credentialPrefix}${scope}, SignedHeaders=${signed}, Signature=${signature}` };
    },
  };
}

const signers = new Map<string, PostSigner>();

/**
 * The signer for this configuration, kept for the sandbox's life: its day key is
 * derived once, not per invocation. Credentials rotate rarely (a new sandbox), so a
 * few stale signers cost nothing.
 */
export function cachedSigner(config: SignerConfig): PostSigner {
  const { credentials } = config;
  const key = `${config.service}\n${config.region}\n${config.host}\n${config.contentType}\n${credentials.accessKeyId}\n${credentials.secretAccessKey}\n${credentials.sessionToken ?? ""}`;
  let signer = signers.get(key);
  if (!signer) {
    if (signers.size > 8) signers.clear();
    signer = postSigner(config);
    signers.set(key, signer);
  }
  return signer;
}
