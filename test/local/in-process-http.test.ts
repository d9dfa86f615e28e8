import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createWireDispatch, dispatcherOf } from "../../src/local/front-door.js";
import { serveInProcess } from "../../src/local/in-process-http.js";
import { LambdaRunner } from "../../src/local/runner/runner.js";
import type { WireAdapter, WireResponse } from "../../src/local/service.js";
import { localFunction, payloadJson } from "../support/functions.js";

// The in-process HTTP path (src/local/in-process-http.ts) must answer every
// request exactly as the http.Server path does: the same function makes the same
// calls both ways, and the answers it sees are compared.

const SIGNED = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=00";

const echo: WireAdapter = {
  signingName: "execute-api",
  maxRequestBytes: 1000,
  async handle(req): Promise<WireResponse> {
    if (req.path === "/drop") throw Object.assign(new Error("dropped"), { name: "DroppedConnection" });
    if (req.path === "/gone") return { status: 410, headers: { "content-type": "application/json", "x-amzn-errortype": "GoneException" }, body: "{}" };
    if (req.path === "/deleted") return { status: 204, headers: {}, body: "" };
    if (req.path === "/crash") throw new Error("model bug");
    await new Promise((r) => setTimeout(r, req.path === "/slow" ? 30 : 0));
    return {
      status: 200,
      headers: { "content-type": "text/plain", "x-seen": `${req.method} ${req.rawPath} q=${req.query.get("q") ?? ""} ${req.headers["x-custom"] ?? ""}` },
      body: Buffer.from(`${req.body.length}:${req.body.toString("utf8").slice(0, 12)}`),
    };
  },
};

const CALLS = `import http from "node:http";
const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
const SIGNED = ${JSON.stringify(SIGNED)};
const call = (path, { method = "POST", body, headers = {}, signed = true, chunked = false, close = false } = {}) => new Promise((resolve) => {
  const h = { ...headers, ...(signed ? { authorization: SIGNED } : {}), ...(close ? { connection: "close" } : {}) };
  const req = http.request(process.env.AWS_ENDPOINT_URL + path, { method, agent, headers: h }, (res) => {
    const chunks = [];
    res.on("data", (c) => chunks.push(c));
    res.on("end", () => resolve({
      status: res.statusCode,
      type: res.headers["content-type"] ?? null,
      error: res.headers["x-amzn-errortype"] ?? null,
      seen: res.headers["x-seen"] ?? null,
      connection: res.headers.connection ?? null,
      keepAlive: res.headers["keep-alive"] ?? null,
      length: res.headers["content-length"] ?? null,
      hasDate: typeof res.headers.date === "string",
      body: Buffer.concat(chunks).toString("utf8"),
    }));
  });
  req.on("error", (err) => resolve({ error: err.code + " " + err.message }));
  if (chunked) { req.write("part one,"); setTimeout(() => req.end(" part two"), 5); }
  else req.end(body);
});
export const handler = async () => {
  const out = {};
  out.post = await call("/@connections/a%3D", { body: "hello world, this is long", headers: { "x-custom": "v1" } });
  out.query = await call("/path?q=search%20me", { method: "GET" });
  out.parallel = await Promise.all(["/slow", "/p1", "/p2", "/slow", "/p3"].map((p, i) => call(p, { body: "n" + i })));
  out.gone = await call("/gone", { body: "x" });
  out.deleted = await call("/deleted", { method: "DELETE" });
  out.crash = await call("/crash", { body: "x" });
  out.unsigned = await call("/console-page", { method: "GET", signed: false });
  out.chunked = await call("/chunked", { chunked: true });
  out.tooLarge = await call("/big", { body: "b".repeat(5000) });
  out.dropped = await call("/drop", { body: "x" });
  out.afterDrop = await call("/after", { body: "still fine" });
  out.close = await call("/closing", { body: "bye", close: true });
  out.unknownService = await call("/x", { body: "x", signed: false, headers: { authorization: SIGNED.replace("execute-api", "kinesis") } });
  return out;
};`;



describe("in-process HTTP for workers' signed calls", () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  async function run(lean: boolean): Promise<{ answers: unknown; handedOver: number }> {
    const wire = createWireDispatch([echo], () => undefined);
    const dispatch = dispatcherOf(wire);
    const server: Server = createServer((req, res) => {
      if (!req.headers.authorization) {
        res.writeHead(200, { "content-type": "text/html" }).end("<p>console</p>");
        return;
      }
      void dispatch(req, res);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    closers.push(
      () =>
        new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
    );
    let handedOver = 0;
    const toServer = (socket: import("node:stream").Duplex): void => {
      handedOver++;
      server.emit("connection", socket);
    };
    const runner = new LambdaRunner({
      endpointUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      acceptInProcess: (socket) => (lean ? serveInProcess(socket, wire, toServer) : toServer(socket)),
    });
    closers.push(() => runner.close());
    const result = await runner.invoke(localFunction("calls", CALLS, { region: "us-east-1", timeoutSeconds: 10 }), Buffer.from("{}"));
    expect(result.functionError).toBeUndefined();
    return { answers: payloadJson(result), handedOver };
  }

  it("answers every request as node's http.Server does, and hands it only what it does not parse itself", async () => {
    const viaServer = await run(false);
    const viaLean = await run(true);
    // Framing may differ (node's writeHead-then-end answers are chunked; this path sends Content-Length, as API
    // Gateway does); what a client reads may not.
    const unframed = (answers: unknown): unknown => JSON.parse(JSON.stringify(answers, (k, v: unknown) => (k === "length" ? undefined : v)));
    expect(unframed(viaLean.answers)).toEqual(unframed(viaServer.answers));
    const a = viaLean.answers as Record<string, Record<string, unknown> & { body?: string }>;
    // The cases mean what they say (not two paths that fail alike).
    expect(a.post).toMatchObject({ status: 200, seen: "POST /@connections/a%3D q= v1", body: "25:hello world,", length: "15", connection: "keep-alive", keepAlive: "timeout=5", hasDate: true });
    expect(a.query).toMatchObject({ status: 200, seen: "GET /path q=search me" });
    expect((a.parallel as unknown as Array<{ body: string }>).map((p) => p.body)).toEqual(["2:n0", "2:n1", "2:n2", "2:n3", "2:n4"]);
    expect(a.gone).toMatchObject({ status: 410, error: "GoneException" });
    expect(a.deleted).toMatchObject({ status: 204, length: null, body: "" });
    expect(a.crash).toMatchObject({ status: 500, error: "InternalFailure" });
    expect(a.unsigned).toMatchObject({ status: 200, body: "<p>console</p>" });
    expect(a.chunked).toMatchObject({ status: 200, body: "18:part one, pa" });
    expect(a.tooLarge).toMatchObject({ status: 413, error: "PayloadTooLargeException" });
    expect(a.dropped).toEqual({ error: "ECONNRESET socket hang up" });
    expect(a.afterDrop).toMatchObject({ status: 200, body: "10:still fine" });
    expect(a.close).toMatchObject({ status: 200, connection: "close" });
    expect(a.unknownService).toMatchObject({ status: 400, error: "UnknownOperationException" });
    // Only the console page and the chunked upload needed node's parser.
    expect(viaLean.handedOver).toBeLessThanOrEqual(2);
    expect(viaLean.handedOver).toBeGreaterThan(0);
  });
});
