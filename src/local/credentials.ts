import { LOCAL_CREDENTIALS } from "./endpoint.js";

/**
 * The secret of an access key the local cloud knows: only its own (LOCAL_CREDENTIALS),
 * which the gateway checks SigV4 signatures of IAM-authorized connections against.
 */
export function localSecretFor(accessKeyId: string): string | undefined {
  return accessKeyId === LOCAL_CREDENTIALS.accessKeyId ? LOCAL_CREDENTIALS.secretAccessKey : undefined;
}
