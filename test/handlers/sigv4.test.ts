import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity } from "@smithy/types";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { connectionPath, payload, signPostToConnection } from "../../handlers/lib/poster.js";
import { postSigner } from "../../handlers/lib/sigv4.js";

/** What the handlers signed before (and the SDK client signs): the request through @smithy's own signer. */
async function smithySigned(endpoint: URL, connectionId: string, data: Uint8Array, region: string, credentials: AwsCredentialIdentity, signingDate: Date) {
  const body = payload(data);
  const signer = new SignatureV4({ credentials, region, service: "execute-api", sha256: Sha256, uriEscapePath: true });
  return signer.sign(
    {
      method: "POST",
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
      path: connectionPath(endpoint, connectionId),
      query: {},
      headers: {
        "content-type": "application/octet-stream",
        "content-length": String(data.byteLength),
        host: endpoint.host,
        "x-amz-content-sha256": body.sha256Hex,
      },
      body: data,
    },
    { signingDate },
  );
}

const idChars = fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789=/+-_.~ %!*'()".split(""));

describe("the direct SigV4 signer", () => {
  it("signs every PostToConnection exactly as @smithy/signature-v4 does", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: idChars, minLength: 1, maxLength: 24 }),
        fc.constantFrom("https://abc123.execute-api.eu-west-1.amazonaws.com", "http://127.0.0.1", "http://localhost", "https://example.com"),
        fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
        fc.array(fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/), { maxLength: 3 }),
        fc.constantFrom("us-east-1", "ap-northeast-1", "eu-central-2"),
        fc.option(fc.stringMatching(/^[A-Za-z0-9+/=]{1,600}$/), { nil: undefined }),
        fc.date({ min: new Date("2020-01-01T00:00:00Z"), max: new Date("2035-12-31T23:59:59Z"), noInvalidDate: true }),
        fc.uint8Array({ maxLength: 300 }),
        async (connectionId, base, port, stagePath, region, sessionToken, date, data) => {
          const endpoint = new URL(`${base}${port ? `:${port}` : ""}/${stagePath.join("/")}`);
          const credentials: AwsCredentialIdentity = { accessKeyId: "AKIDPROPERTY", secretAccessKey: "prop/secret+key=", ...(sessionToken ? { sessionToken } : {}) };
          const theirs = await smithySigned(endpoint, connectionId, data, region, credentials, date);
          const ours = signPostToConnection({ endpoint, connectionId, payload: payload(data), region, credentials, signingDate: date });
          expect(ours.path).toBe(theirs.path);
          expect(ours.headers).toEqual(theirs.headers);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("derives the signing key per day: a request after midnight is signed with the new date's scope", async () => {
    const endpoint = new URL("https://abc123.execute-api.us-east-1.amazonaws.com/prod");
    const credentials = { accessKeyId: "AKIDDAY", secretAccessKey: "day-secret", sessionToken: "tok" };
    for (const signingDate of [new Date("2026-05-01T23:59:59Z"), new Date("2026-05-02T00:00:00Z"), new Date("2026-05-01T12:00:00Z")]) {
      const theirs = await smithySigned(endpoint, "id=", Buffer.from("x"), "us-east-1", credentials, signingDate);
      const ours = signPostToConnection({ endpoint, connectionId: "id=", payload: payload(Buffer.from("x")), region: "us-east-1", credentials, signingDate });
      expect(ours.headers.authorization).toBe(theirs.headers.authorization);
    }
  });

  it("signs JSON-protocol calls (x-amz-target, as DynamoDB's) exactly as @smithy/signature-v4 does", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("https://dynamodb.eu-west-1.amazonaws.com", "http://127.0.0.1:4566", "http://localhost:8000", "https://example.com/base"),
        fc.constantFrom("application/x-amz-json-1.0", "application/x-amz-json-1.1"),
        fc.oneof(fc.constantFrom("DynamoDB_20120810.PutItem", "DynamoDB_20120810.DeleteItem"), fc.stringMatching(/^[A-Za-z0-9_.]{1,40}$/)),
        fc.constantFrom("us-east-1", "ap-northeast-1", "cn-north-1"),
        fc.option(fc.stringMatching(/^[A-Za-z0-9+/=]{1,600}$/), { nil: undefined }),
        fc.date({ min: new Date("2020-01-01T00:00:00Z"), max: new Date("2035-12-31T23:59:59Z"), noInvalidDate: true }),
        fc.uint8Array({ maxLength: 300 }),
        async (base, contentType, target, region, sessionToken, date, data) => {
          const endpoint = new URL(base);
          const path = `${endpoint.pathname.replace(/\/+$/, "")}/`;
          const credentials: AwsCredentialIdentity = { accessKeyId: "AKIDPROPERTY", secretAccessKey: "prop/secret+key=", ...(sessionToken ? { sessionToken } : {}) };
          const hash = payload(data).sha256Hex;
          const theirs = await new SignatureV4({ credentials, region, service: "dynamodb", sha256: Sha256, uriEscapePath: true }).sign(
            {
              method: "POST",
              protocol: endpoint.protocol,
              hostname: endpoint.hostname,
              ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
              path,
              query: {},
              headers: {
                "content-type": contentType,
                "content-length": String(data.byteLength),
                host: endpoint.host,
                "x-amz-content-sha256": hash,
                "x-amz-target": target,
              },
              body: data,
            },
            { signingDate: date },
          );
          const signer = postSigner({ credentials, region, service: "dynamodb", host: endpoint.host, contentType });
          const ours = signer.sign(path, data.byteLength, hash, date.getTime(), target);
          expect(ours.date).toBe(theirs.headers["x-amz-date"]);
          expect(ours.authorization).toBe(theirs.headers.authorization);
          // The same signer still signs requests without a target as before.
          const plain = signer.sign(path, data.byteLength, hash, date.getTime());
          expect(plain.authorization).not.toContain("x-amz-target");
        },
      ),
      { numRuns: 300 },
    );
  });
});
