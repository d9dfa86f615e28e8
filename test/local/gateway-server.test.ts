import { mkdtempSync, rmSync } from "node:fs";
import { get as httpsGet } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { strToU8, zipSync } from "fflate";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { directoryFromModels, invokeThroughLambdaModel } from "../../src/local/gateway/directory.js";
import { gatewayId, selectRouteKey } from "../../src/local/gateway/events.js";
import { createGateway } from "../../src/local/gateway/gateway.js";
import { createSniffingServer, type SniffingServer } from "../../src/local/gateway/server.js";
import { ApiGatewayV2Model } from "../../src/local/models/apigatewayv2.js";
import { LambdaModel } from "../../src/local/models/lambda.js";
import { LambdaRunner } from "../../src/local/runner/runner.js";
import { loadOrCreateLocalCertificate, type LocalCertificate } from "../../src/local/tls.js";

let caDir = "";
let cert: LocalCertificate;
beforeAll(async () => {
  caDir = mkdtempSync(join(tmpdir(), "chatctl-ca-"));
  cert = await loadOrCreateLocalCertificate(caDir);
});
afterAll(() => rmSync(caDir, { recursive: true, force: true }));

function httpsText(url: string, ca?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    httpsGet(url, ca ? { ca } : {}, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve(body));
    }).on("error", reject);
  });
}

describe("local certificate", () => {
  it("is kept on disk and reused, and names 127.0.0.1 and localhost", async () => {
    const again = await loadOrCreateLocalCertificate(caDir);
    expect(again.cert).toBe(cert.cert);
    expect(again.ca).toBe(cert.cert);
    const { X509Certificate } = await import("node:crypto");
    const x509 = new X509Certificate(cert.cert);
    expect(x509.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(x509.checkHost("localhost")).toBe("localhost");
  });
});

describe("sniffing server", () => {
  let server: SniffingServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("serves plain HTTP and HTTPS (and ws:// and wss://) on one port", async () => {
    server = createSniffingServer({
      request: (req, res) => res.end(`${req.socket.constructor.name === "TLSSocket" ? "https" : "http"} ${req.url}`),
      upgrade: (req, socket, head) => {
        const wss = new WebSocketServer({ noServer: true });
        wss.handleUpgrade(req, socket, head, (ws) => ws.send(`hello over ${"encrypted" in socket && socket.encrypted ? "wss" : "ws"}`));
      },
      tls: cert,
    });
    const port = await server.listen(0);
    expect(await (await fetch(`http://127.0.0.1:${port}/a`)).text()).toBe("http /a");
    expect(await httpsText(`https://127.0.0.1:${port}/b`, cert.ca)).toBe("https /b");
    expect(await httpsText(`https://localhost:${port}/c`, cert.ca)).toBe("https /c");
    await expect(httpsText(`https://127.0.0.1:${port}/d`)).rejects.toThrow(/self.signed/i);

    const first = (url: string, ca?: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(url, ca ? { ca } : {});
        ws.once("message", (data) => {
          resolve(String(data));
          ws.close();
        });
        ws.once("error", reject);
      });
    expect(await first(`ws://127.0.0.1:${port}/x`)).toBe("hello over ws");
    expect(await first(`wss://127.0.0.1:${port}/x`, cert.ca)).toBe("hello over wss");
  });
});

describe("connection and request ids", () => {
  it("are shaped like API Gateway's (base64 of 11 bytes, no + or /) and never repeat", () => {
    // More than one draw of random bytes, so ids from different draws are compared too.
    const ids = Array.from({ length: 1000 }, () => gatewayId());
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9]{15}=$/);
      expect(Buffer.from(id, "base64")).toHaveLength(11);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe("route selection expression", () => {
  it("reads top-level and nested body fields, and templates", () => {
    expect(selectRouteKey("$request.body.action", '{"action":"send"}')).toBe("send");
    expect(selectRouteKey("$request.body.meta.action", '{"meta":{"action":"send"}}')).toBe("send");
    expect(selectRouteKey("${request.body.kind}-${request.body.verb}", '{"kind":"chat","verb":"post"}')).toBe("chat-post");
    expect(selectRouteKey("$request.body.n", '{"n":3}')).toBe("3");
  });
  it("selects nothing for non-JSON, non-object bodies, missing or non-scalar fields", () => {
    expect(selectRouteKey("$request.body.action", "hello")).toBeUndefined();
    expect(selectRouteKey("$request.body.action", "[1,2]")).toBeUndefined();
    expect(selectRouteKey("$request.body.action", '{"other":1}')).toBeUndefined();
    expect(selectRouteKey("$request.body.action", '{"action":{"x":1}}')).toBeUndefined();
    expect(selectRouteKey("$request.body.action", undefined)).toBeUndefined();
  });
});

describe("gateway on the service models", () => {
  const region = "us-east-1";
  const accountId = "000000000000";
  const arnOf = (name: string): string => `arn:aws:lambda:${region}:${accountId}:function:${name}`;
  const uriOf = (name: string): string => `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${arnOf(name)}/invocations`;

  async function apiWith(apigw: ApiGatewayV2Model, stage: string, routes: Record<string, string>, expression = "$request.body.action"): Promise<string> {
    const api = await apigw.dispatch("CreateApi", { Name: `api-${stage}`, ProtocolType: "WEBSOCKET", RouteSelectionExpression: expression });
    const apiId = String(api.ApiId);
    const integrationOf = new Map<string, string>();
    for (const fn of new Set(Object.values(routes))) {
      const integration = await apigw.dispatch("CreateIntegration", { ApiId: apiId, IntegrationType: "AWS_PROXY", IntegrationUri: uriOf(fn) });
      integrationOf.set(fn, String(integration.IntegrationId));
    }
    for (const [key, fn] of Object.entries(routes)) {
      await apigw.dispatch("CreateRoute", { ApiId: apiId, RouteKey: key, Target: `integrations/${integrationOf.get(fn) ?? ""}` });
    }
    const deployment = await apigw.dispatch("CreateDeployment", { ApiId: apiId });
    await apigw.dispatch("CreateStage", { ApiId: apiId, StageName: stage, DeploymentId: String(deployment.DeploymentId) });
    return apiId;
  }

  it("finds an API by /{stage} or /{apiId}/{stage} and maps its routes to function names", async () => {
    const apigw = new ApiGatewayV2Model({ region, accountId, pageSize: 1 }); // one item per page: paging is exercised
    const prod = await apiWith(apigw, "prod", { $connect: "connect", $default: "default", sendmessage: "send" }, "$request.body.meta.action");
    const directory = directoryFromModels(apigw);
    const view = await directory.resolve({ stage: "prod" });
    expect(view?.apiId).toBe(prod);
    expect(view?.routeSelectionExpression).toBe("$request.body.meta.action");
    expect(Object.fromEntries(view?.routes ?? [])).toEqual({ $connect: "connect", $default: "default", sendmessage: "send" });
    expect(await directory.resolve({ stage: "dev" })).toBeUndefined();

    // Two APIs with a "prod" stage: only /{apiId}/{stage} can tell them apart.
    const other = await apiWith(apigw, "prod", { $default: "other" });
    expect(await directory.resolve({ stage: "prod" })).toBeUndefined();
    expect(Object.fromEntries((await directory.resolve({ apiId: other, stage: "prod" }))?.routes ?? [])).toEqual({ $default: "other" });
  });

  it("routes through the Lambda model's Invoke to the runner, from $connect to $disconnect", async () => {
    const apigw = new ApiGatewayV2Model({ region, accountId });
    const seen: string[] = [];
    const source = `export const handler = async (event) => {
      console.log(event.requestContext.routeKey + " " + (event.body ?? ""));
      return { statusCode: 200 };
    };`;
    const runner = new LambdaRunner({
      endpointUrl: "http://127.0.0.1:9",
      logSink: (_fn, lines) => {
        for (const l of lines) {
          const [, , level, text] = l.message.split("\t");
          if (level === "INFO" && text !== undefined) seen.push(text);
        }
      },
    });
    const lambda = new LambdaModel({ region, accountId, invoker: runner });
    await lambda.dispatch("CreateFunction", {
      FunctionName: "app",
      Runtime: "nodejs22.x",
      Role: `arn:aws:iam::${accountId}:role/app`,
      Handler: "index.handler",
      Code: { ZipFile: zipSync({ "index.mjs": strToU8(source) }) },
    });
    await apiWith(apigw, "prod", { $connect: "app", $disconnect: "app", $default: "app" });
    // As on AWS, API Gateway may invoke the function only once its policy says so.
    await lambda.dispatch("AddPermission", {
      FunctionName: "app",
      StatementId: "apigw",
      Action: "lambda:InvokeFunction",
      Principal: "apigateway.amazonaws.com",
    });
    const gateway = createGateway({ directory: directoryFromModels(apigw), invoke: invokeThroughLambdaModel(lambda) });
    const server = createSniffingServer({ request: (_req, res) => void res.writeHead(404).end(), upgrade: gateway.handleUpgrade });
    try {
      const port = await server.listen(0);
      const ws = new WebSocket(`ws://127.0.0.1:${port}/prod`);
      await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
      ws.send("hi there");
      for (let i = 0; i < 300 && !seen.includes("$default hi there"); i++) await new Promise((r) => setTimeout(r, 10));
      ws.close();
      for (let i = 0; i < 300 && !seen.includes("$disconnect "); i++) await new Promise((r) => setTimeout(r, 10));
      expect(seen).toEqual(["$connect ", "$default hi there", "$disconnect "]);
    } finally {
      await gateway.close();
      await server.close();
      await runner.close();
    }
  });

  it("refuses with 500 when the route's function does not exist", async () => {
    const apigw = new ApiGatewayV2Model({ region, accountId });
    const lambda = new LambdaModel({ region, accountId });
    await apiWith(apigw, "prod", { $connect: "missing" });
    const gateway = createGateway({ directory: directoryFromModels(apigw), invoke: invokeThroughLambdaModel(lambda) });
    const server = createSniffingServer({ request: (_req, res) => void res.writeHead(404).end(), upgrade: gateway.handleUpgrade });
    try {
      const port = await server.listen(0);
      const status = await new Promise<number>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/prod`);
        ws.on("unexpected-response", (req, res) => {
          resolve(res.statusCode ?? 0);
          req.destroy();
        });
        ws.on("error", () => undefined);
      });
      expect(status).toBe(500);
    } finally {
      await gateway.close();
      await server.close();
    }
  });
});
