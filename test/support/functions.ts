import { createHash } from "node:crypto";
import { strToU8, zipSync } from "fflate";
import type { InvokeResult, LocalFunction } from "../../src/local/service.js";

/**
 * A function for the local Lambda runner from its source files (a string is
 * index.mjs alone): `handler: index.handler`, Node 22, 128 MB, 3 s unless told
 * otherwise; `region` goes into its ARN, where the runner reads AWS_REGION from.
 */
export function localFunction(name: string, files: string | Record<string, string>, options: Partial<LocalFunction> & { readonly region?: string } = {}): LocalFunction {
  const { region = "eu-west-1", ...overrides } = options;
  const sources = typeof files === "string" ? { "index.mjs": files } : files;
  const zip = zipSync(Object.fromEntries(Object.entries(sources).map(([path, text]) => [path, strToU8(text)])));
  return {
    functionName: name,
    functionArn: `arn:aws:lambda:${region}:000000000000:function:${name}`,
    runtime: "nodejs22.x",
    handler: "index.handler",
    timeoutSeconds: 3,
    memoryMb: 128,
    environment: {},
    codeSha256: createHash("sha256").update(zip).digest("base64"),
    zip,
    ...overrides,
  };
}

/** An invocation's payload, parsed. */
export const payloadJson = (r: InvokeResult): unknown => JSON.parse(Buffer.from(r.payload).toString("utf8"));
