import { ApiGatewayManagementApiClient, PostToConnectionCommand, type ServiceInputTypes, type ServiceOutputTypes } from "@aws-sdk/client-apigatewaymanagementapi";
import type { FinalizeRequestMiddleware, HttpRequest as SmithyHttpRequest } from "@smithy/types";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ConnectionPoster, connectionPath, managementEndpoint, payload, signPostToConnection } from "../../handlers/lib/poster.js";
import { CREDENTIALS, startConnectionsServer } from "./support.js";

const SIGNING_TIME = new Date("2026-03-14T15:09:26Z");

// The SDK adds telemetry headers (a random invocation id, its version) and signs
// them too; they carry no meaning for API Gateway, so both sides leave them out.
const TELEMETRY = ["amz-sdk-invocation-id", "amz-sdk-request", "x-amz-user-agent"];

/** The request the SDK's own client signs for PostToConnection, captured instead of sent. */
async function sdkSignedRequest(endpoint: string, connectionId: string, data: Uint8Array, region: string): Promise<SmithyHttpRequest> {
  let captured: SmithyHttpRequest | undefined;
  const client = new ApiGatewayManagementApiClient({
    region,
    endpoint,
    credentials: CREDENTIALS,
    requestHandler: {
      handle: async (request: SmithyHttpRequest) => {
        captured = request;
        return { response: { statusCode: 200, headers: {}, body: new Uint8Array() } };
      },
    },
  });
  const dropTelemetry: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => (args) => {
    const request = args.request as SmithyHttpRequest;
    for (const h of TELEMETRY) delete request.headers[h];
    return next(args);
  };
  client.middlewareStack.addRelativeTo(dropTelemetry, { relation: "before", toMiddleware: "httpSigningMiddleware", name: "dropTelemetry" });
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(SIGNING_TIME);
  try {
    await client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
  } finally {
    vi.useRealTimers();
    client.destroy();
  }
  if (!captured) throw new Error("the SDK sent nothing");
  return captured;
}

afterEach(() => {
  vi.useRealTimers();
});

describe("the fast PostToConnection path", () => {
  it.each([
    ["the stage from the event", "https://abc123.execute-api.ap-northeast-1.amazonaws.com/prod", "ap-northeast-1"],
    ["an endpoint from the environment", "http://127.0.0.1:4510", "us-east-1"],
  ])("signs exactly as the SDK client does, for %s", async (_what, endpoint, region) => {
    const connectionId = "L0SM9cOFvHcCIhw=";
    const data = Buffer.from(JSON.stringify({ type: "message", from: "x", message: "héllo", sentAt: 1 }));
    const sdk = await sdkSignedRequest(endpoint, connectionId, data, region);

    const ours = await signPostToConnection({
      endpoint: new URL(endpoint),
      connectionId,
      payload: payload(data),
      region,
      credentials: CREDENTIALS,
      signingDate: SIGNING_TIME,
    });

    expect(ours.path).toBe(sdk.path);
    expect(ours.headers.authorization).toBe(sdk.headers.authorization);
    expect(ours.headers["x-amz-security-token"]).toBe(CREDENTIALS.sessionToken);
    expect(ours.headers.authorization).toContain("/20260314/");
    expect(ours.headers.authorization).toContain("x-amz-security-token");
  });

  it("posts where the SDK would: the environment's endpoint without a stage, else the event's stage", () => {
    const ctx = { domainName: "abc123.execute-api.us-east-1.amazonaws.com", stage: "prod" };
    const fromEvent = managementEndpoint(ctx, {});
    expect(fromEvent.href).toBe("https://abc123.execute-api.us-east-1.amazonaws.com/prod");
    expect(connectionPath(fromEvent, "a=b/c")).toBe("/prod/@connections/a%3Db%2Fc");
    const local = managementEndpoint(ctx, { AWS_ENDPOINT_URL: "http://127.0.0.1:4510" });
    expect(connectionPath(local, "id=")).toBe("/@connections/id%3D");
    const specific = managementEndpoint(ctx, { AWS_ENDPOINT_URL: "http://127.0.0.1:1", AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI: "http://127.0.0.1:2" });
    expect(specific.port).toBe("2");
  });

  it("is refused by API Gateway when signed with the wrong secret", async () => {
    const server = await startConnectionsServer();
    try {
      const poster = new ConnectionPoster({
        endpoint: new URL(server.endpoint),
        region: "us-east-1",
        credentials: { ...CREDENTIALS, secretAccessKey: "not-the-secret" },
        maxSockets: 2,
      });
      const result = await poster.post("someone", payload("{}"));
      expect(result).toMatchObject({ outcome: "failed", errorName: "ForbiddenException", statusCode: 403 });
      expect(server.delivered).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it("reports a 410 as gone, as the SDK's GoneException", async () => {
    const server = await startConnectionsServer();
    server.connect(["here"]);
    try {
      const poster = new ConnectionPoster({ endpoint: new URL(server.endpoint), region: "us-east-1", credentials: CREDENTIALS, maxSockets: 2 });
      expect(await poster.post("left", payload("{}"))).toEqual({ outcome: "gone" });
      expect(await poster.post("here", payload("{}"))).toEqual({ outcome: "delivered" });
    } finally {
      await server.close();
    }
  });
});
