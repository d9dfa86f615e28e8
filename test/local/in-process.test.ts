import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { bundleHandler } from "../../src/bundle/index.js";
import { LambdaRunner } from "../../src/local/runner/runner.js";
import type { LocalFunction } from "../../src/local/service.js";
import { localFunction, payloadJson } from "../support/functions.js";

// A function's connections to the local cloud's own port are served in process
// (src/local/runner/in-process.ts): what the handler's HTTP client sees must be
// what it would see over loopback TCP.

// This suite's functions get 5 s.
const fnOf = (name: string, source: string): LocalFunction => localFunction(name, source, { timeoutSeconds: 5 });


interface Cloud {
  server: Server;
  port: number;
  /** Connections the server got, by how they came. */
  counts: { tcp: number; inProcess: number };
  close(): Promise<void>;
}

async function startCloud(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<Cloud> {
  const server = createServer(handle);
  const counts = { tcp: 0, inProcess: 0 };
  server.on("connection", (socket: Socket | Duplex) => {
    if ("_handle" in socket && socket._handle) counts.tcp++;
    else counts.inProcess++;
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    counts,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe("in-process connections from function workers", () => {
  let runner: LambdaRunner | undefined;
  let cloud: Cloud | undefined;
  afterEach(async () => {
    await runner?.close();
    await cloud?.close();
    runner = undefined;
    cloud = undefined;
  });

  const startRunner = (c: Cloud): LambdaRunner => {
    runner = new LambdaRunner({ endpointUrl: `http://127.0.0.1:${c.port}`, acceptInProcess: (socket) => c.server.emit("connection", socket) });
    return runner;
  };

  it("serves many keep-alive requests to the cloud's port in process, bodies and headers intact, over few connections", async () => {
    cloud = await startCloud((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        res.writeHead(200, { "content-type": "text/plain", "x-echo-path": req.url ?? "" });
        res.end(`${req.method} ${body.length} ${body.slice(0, 8)} ${req.socket.remoteAddress}`);
      });
    });
    const fn = fnOf(
      "keepalive",
      `import http from "node:http";
       const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
       const post = (i, body) => new Promise((resolve, reject) => {
         const req = http.request(process.env.AWS_ENDPOINT_URL + "/@connections/c" + i + "%3D", { method: "POST", agent }, (res) => {
           let text = ""; res.setEncoding("utf8");
           res.on("data", (d) => (text += d));
           res.on("end", () => resolve({ status: res.statusCode, path: res.headers["x-echo-path"], text }));
         });
         req.on("error", reject);
         req.end(body);
       });
       export const handler = async () => {
         const big = "b".repeat(200000);
         const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => post(i, i === 7 ? big : "hello " + i)));
         return answers;
       };`,
    );
    const answers = payloadJson(await startRunner(cloud).invoke(fn, Buffer.from("{}"))) as Array<{ status: number; path: string; text: string }>;
    expect(answers).toHaveLength(40);
    expect(answers[0]).toEqual({ status: 200, path: "/@connections/c0%3D", text: "POST 7 hello 0 127.0.0.1" });
    expect(answers[7]?.text).toBe("POST 200000 bbbbbbbb 127.0.0.1");
    expect(cloud.counts).toEqual({ tcp: 0, inProcess: 4 });
  });

  it("reaches the cloud through fetch and raw net.connect too; other ports still go over TCP", async () => {
    cloud = await startCloud((req, res) => res.end(`cloud ${req.url}`));
    const other = await startCloud((req, res) => res.end(`other ${req.url}`));
    try {
      const fn = fnOf(
        "clients",
        `import net from "node:net";
         import { connect as namedConnect } from "node:net";
         const raw = (port) => new Promise((resolve, reject) => {
           const s = net.connect(port, "127.0.0.1", () => s.end("GET /raw HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n"));
           let text = ""; s.setEncoding("utf8"); s.on("data", (d) => (text += d)); s.on("end", () => resolve(text.split("\\r\\n\\r\\n")[1])); s.on("error", reject);
         });
         export const handler = async (event) => ({
           fetched: await (await fetch(process.env.AWS_ENDPOINT_URL + "/f")).text(),
           raw: await raw(Number(new URL(process.env.AWS_ENDPOINT_URL).port)),
           named: await new Promise((resolve, reject) => {
             const s = namedConnect(Number(new URL(process.env.AWS_ENDPOINT_URL).port), "127.0.0.1", () => s.end("GET /named HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n"));
             let text = ""; s.setEncoding("utf8"); s.on("data", (d) => (text += d)); s.on("end", () => resolve(text.split("\\r\\n\\r\\n")[1])); s.on("error", reject);
           }),
           other: await (await fetch("http://127.0.0.1:" + event.otherPort + "/o")).text(),
         });`,
      );
      const out = payloadJson(await startRunner(cloud).invoke(fn, Buffer.from(JSON.stringify({ otherPort: other.port }))));
      expect(out).toEqual({ fetched: "cloud /f", raw: "cloud /raw", named: "cloud /named", other: "other /o" });
      expect(cloud.counts.tcp).toBe(0);
      expect(cloud.counts.inProcess).toBe(3);
      expect(other.counts).toEqual({ tcp: 1, inProcess: 0 });
    } finally {
      await other.close();
    }
  });

  it("the bundled $connect and $disconnect reach DynamoDB in process over their own HTTP/1.1 client", async () => {
    const calls: Array<{ target: string | undefined; body: string }> = [];
    cloud = await startCloud((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const target = req.headers["x-amz-target"] as string | undefined;
        calls.push({ target, body: Buffer.concat(chunks).toString("utf8") });
        res.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
        res.end(target?.endsWith(".DeleteItem") ? JSON.stringify({ Attributes: { connectionId: { S: "c1" } } }) : "{}");
      });
    });
    const work = await mkdtemp(join(tmpdir(), "chatctl-inproc-"));
    try {
      const r = startRunner(cloud);
      const event = (routeKey: string) => Buffer.from(JSON.stringify({ requestContext: { connectionId: "c1", routeKey, domainName: "x.example", stage: "prod" } }));
      for (const [name, routeKey] of [["connect", "$connect"], ["disconnect", "$disconnect"]] as const) {
        const b = await bundleHandler(resolve(import.meta.dirname, `../../handlers/${name}.ts`), { outDir: work, cache: false });
        const fn = { ...fnOf(name, ""), environment: { TABLE_CONNECTIONS: "conns" }, zip: b.zip, codeSha256: createHash("sha256").update(b.zip).digest("base64") };
        expect(payloadJson(await r.invoke(fn, event(routeKey)))).toMatchObject({ statusCode: 200 });
      }
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    expect(calls.map((c) => c.target)).toEqual(["DynamoDB_20120810.PutItem", "DynamoDB_20120810.DeleteItem"]);
    expect(JSON.parse(calls[0]?.body ?? "{}")).toMatchObject({ TableName: "conns", Item: { connectionId: { S: "c1" } } });
    expect(cloud.counts).toEqual({ tcp: 0, inProcess: 2 });
  });

  it("a connection the cloud drops mid-request fails the request as a reset socket does, and the next request gets a new one", async () => {
    let calls = 0;
    cloud = await startCloud((req, res) => {
      calls++;
      if (req.url === "/drop") req.socket.destroy();
      else res.end("ok");
    });
    const fn = fnOf(
      "dropped",
      `import http from "node:http";
       const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
       const get = (path) => new Promise((resolve) => {
         const req = http.get(process.env.AWS_ENDPOINT_URL + path, { agent }, (res) => { let t = ""; res.on("data", (d) => (t += d)); res.on("end", () => resolve("answer " + t)); });
         req.on("error", (err) => resolve("error " + err.code + " " + err.message));
       });
       export const handler = async () => [await get("/ok"), await get("/drop"), await get("/ok")];`,
    );
    const out = payloadJson(await startRunner(cloud).invoke(fn, Buffer.from("{}")));
    expect(out).toEqual(["answer ok", "error ECONNRESET socket hang up", "answer ok"]);
    expect(calls).toBe(3);
    expect(cloud.counts.inProcess).toBe(2);
  });

  it("keep-alive and idle sockets behave as over loopback TCP: the same sockets serve the same requests", async () => {
    const fn = fnOf(
      "idle",
      `import http from "node:http";
       const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
       const get = () => new Promise((resolve, reject) => {
         const req = http.get(process.env.AWS_ENDPOINT_URL + "/", { agent }, (res) => { let t = ""; res.on("data", (d) => (t += d)); res.on("end", () => resolve(t)); });
         req.on("error", reject);
       });
       const pause = (ms) => new Promise((r) => setTimeout(r, ms));
       export const handler = async () => {
         const first = await get();
         await pause(50);
         const second = await get();
         await pause(1600);
         return [first, second, await get()];
       };`,
    );
    const run = async (inProcess: boolean): Promise<unknown> => {
      const ids = new WeakMap<object, number>();
      let next = 0;
      const c = await startCloud((req, res) => {
        if (!ids.has(req.socket)) ids.set(req.socket, ++next);
        res.end(String(ids.get(req.socket)));
      });
      c.server.keepAliveTimeout = 1500;
      const r = inProcess ? new LambdaRunner({ endpointUrl: `http://127.0.0.1:${c.port}`, acceptInProcess: (s) => c.server.emit("connection", s) }) : new LambdaRunner({ endpointUrl: `http://127.0.0.1:${c.port}` });
      try {
        return { answers: payloadJson(await r.invoke(fn, Buffer.from("{}"))), counts: c.counts };
      } finally {
        await r.close();
        await c.close();
      }
    };
    const [tcp, inProcess] = [await run(false), await run(true)];
    const t = tcp as { answers: string[]; counts: { tcp: number } };
    expect(t.counts.tcp).toBeGreaterThan(0);
    expect(inProcess).toEqual({ answers: t.answers, counts: { tcp: 0, inProcess: t.counts.tcp } });
  });

  it("closes the cloud's side of a worker's connections when the worker ends (a timed-out invocation)", async () => {
    const open = new Set<Duplex>();
    cloud = await startCloud(() => {
      // never answers: the function times out holding the connection
    });
    cloud.server.on("connection", (s: Duplex) => {
      open.add(s);
      s.once("close", () => open.delete(s));
    });
    const fn = { ...fnOf("stuck", `import http from "node:http"; export const handler = () => new Promise(() => { http.get(process.env.AWS_ENDPOINT_URL + "/wait").on("error", () => {}); });`), timeoutSeconds: 1 };
    const result = await startRunner(cloud).invoke(fn, Buffer.from("{}"));
    expect(result.functionError).toBe("Unhandled");
    await expect.poll(() => open.size, { timeout: 5_000 }).toBe(0);
  });
});
