import { createHash } from "node:crypto";

/** Hex SHA-256 of a payload, on node:crypto (OpenSSL): hashed once per broadcast, sent as x-amz-content-sha256. */
export function sha256Hex(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}
