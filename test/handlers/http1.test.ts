import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from "node:net";
import tls from "node:tls";
import { generate } from "selfsigned";
import { afterEach, describe, expect, it } from "vitest";
import { Http1Pool, MAX_OUTPUT_BODY } from "../../handlers/lib/http1.js";
import { ConnectionPoster, payload, type PosterOptions } from "../../handlers/lib/poster.js";
import { CREDENTIALS, REGION } from "./support.js";

// The poster's own HTTP/1.1 client against real servers answering the ways a server may:
// what a broadcast would notice is the outcome of each post and how many sockets it took.

const servers: Server[] = [];
const openSockets = new Set<Socket>();
afterEach(async () => {
  for (const s of openSockets) s.destroy();
  openSockets.clear();
  for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
});

function track(server: Server): void {
  server.on("connection", (s: Socket) => {
    openSockets.add(s);
    s.on("close", () => openSockets.delete(s));
  });
}

interface Seen {
  readonly url: string;
  readonly socket: number;
}

async function httpServer(answer: (req: IncomingMessage, res: ServerResponse, n: number) => void) {
  const seen: Seen[] = [];
  let sockets = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const ids = new WeakMap<Socket, number>();
  const server = createServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on("finish", () => inFlight--);
    seen.push({ url: req.url ?? "", socket: ids.get(req.socket) ?? -1 });
    req.resume();
    req.on("end", () => answer(req, res, seen.length));
  });
  server.on("connection", (s: Socket) => ids.set(s, ++sockets));
  servers.push(server);
  track(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    endpoint: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/prod`),
    seen,
    get sockets() {
      return sockets;
    },
    get maxInFlight() {
      return maxInFlight;
    },
  };
}

/** A server speaking raw bytes: `answer` gets the socket and the how-manieth request it is. */
async function rawServer(answer: (socket: Socket, n: number, onSocket: number) => void) {
  let requests = 0;
  let sockets = 0;
  const server = createNetServer((socket) => {
    sockets++;
    let onSocket = 0;
    let buf = "";
    socket.on("error", () => undefined);
    socket.on("data", (d) => {
      buf += d.toString("latin1");
      // Each request here has a small body: its head then exactly Content-Length bytes.
      for (;;) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const length = Number(/content-length: (\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
        if (buf.length < end + 4 + length) return;
        buf = buf.slice(end + 4 + length);
        answer(socket, ++requests, ++onSocket);
      }
    });
  });
  servers.push(server);
  track(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    endpoint: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    get requests() {
      return requests;
    },
    get sockets() {
      return sockets;
    },
  };
}

function poster(endpoint: URL, extra: Partial<PosterOptions> = {}): ConnectionPoster {
  return new ConnectionPoster({ endpoint, region: REGION, credentials: CREDENTIALS, maxSockets: 4, ...extra });
}

const data = payload('{"type":"message"}');

describe("PostToConnection's HTTP/1.1 client", () => {
  it("posts many messages over one kept-alive socket", async () => {
    const server = await httpServer((_req, res) => res.writeHead(200).end());
    const p = poster(server.endpoint);
    for (let i = 0; i < 30; i++) expect(await p.post(`id${i}=`, data)).toEqual({ outcome: "delivered" });
    expect(server.sockets).toBe(1);
    expect(server.seen[0]?.url).toBe("/prod/@connections/id0%3D");
  });

  it("never has more requests in flight than maxSockets, and delivers them all", async () => {
    const server = await httpServer((_req, res) => setTimeout(() => res.writeHead(200).end(), 5));
    const p = poster(server.endpoint, { maxSockets: 3 });
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => p.post(`c${i}`, data)));
    expect(results.filter((r) => r.outcome !== "delivered")).toEqual([]);
    expect(server.seen).toHaveLength(40);
    expect(server.maxInFlight).toBeLessThanOrEqual(3);
    expect(server.sockets).toBeLessThanOrEqual(3);
  });

  it("reads a chunked error answer, names the error, and does not retry a 400", async () => {
    const server = await httpServer((_req, res) => {
      res.writeHead(400, { "content-type": "application/json", "x-amzn-errortype": "BadRequestException:http://internal" });
      res.write('{"message":"Invalid');
      setTimeout(() => res.end(' connectionId"}'), 5);
    });
    const result = await poster(server.endpoint).post("x", data);
    expect(result).toEqual({ outcome: "failed", errorName: "BadRequestException", statusCode: 400, message: "Invalid connectionId" });
    expect(server.seen).toHaveLength(1);
    // The socket is still good after a chunked answer.
    expect(server.sockets).toBe(1);
  });

  it("opens a new socket after an answer with Connection: close", async () => {
    const server = await httpServer((_req, res) => res.writeHead(200, { connection: "close" }).end());
    const p = poster(server.endpoint);
    for (let i = 0; i < 3; i++) expect(await p.post("a", data)).toEqual({ outcome: "delivered" });
    expect(server.sockets).toBe(3);
  });

  it("understands an HTTP/1.0 answer whose body ends with the connection", async () => {
    const server = await rawServer((socket) => socket.end("HTTP/1.0 200 OK\r\ncontent-type: application/json\r\n\r\n{}"));
    const p = poster(server.endpoint);
    expect(await p.post("a", data)).toEqual({ outcome: "delivered" });
    expect(await p.post("b", data)).toEqual({ outcome: "delivered" });
    expect(server.sockets).toBe(2);
  });

  it("skips a 100 Continue before the answer", async () => {
    const server = await rawServer((socket) => socket.write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 410 Gone\r\ncontent-length: 2\r\n\r\n{}"));
    expect(await poster(server.endpoint).post("gone", data)).toEqual({ outcome: "gone" });
  });

  it("retries a 429 and a 500 with backoff until one is delivered", async () => {
    const server = await httpServer((_req, res, n) => {
      if (n === 1) res.writeHead(429, { "x-amzn-errortype": "LimitExceededException" }).end('{"message":"slow down"}');
      else if (n === 2) res.writeHead(500).end();
      else res.writeHead(200).end();
    });
    expect(await poster(server.endpoint).post("a", data)).toEqual({ outcome: "delivered" });
    expect(server.seen).toHaveLength(3);
  });

  it("gives up after maxAttempts, naming the last error", async () => {
    const server = await httpServer((_req, res) => res.writeHead(503).end("busy"));
    expect(await poster(server.endpoint, { maxAttempts: 2 }).post("a", data)).toEqual({ outcome: "failed", errorName: "InternalServerError", statusCode: 503, message: "busy" });
    expect(server.seen).toHaveLength(2);
  });

  it("re-sends a request once, at once, when the server closed a reused socket without answering", async () => {
    const server = await rawServer((socket, _n, onSocket) => {
      if (onSocket === 2) socket.resetAndDestroy();
      else socket.write("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    });
    const p = poster(server.endpoint, { maxAttempts: 1 });
    expect(await p.post("a", data)).toEqual({ outcome: "delivered" });
    expect(await p.post("b", data)).toEqual({ outcome: "delivered" });
    expect(server.requests).toBe(3);
    expect(server.sockets).toBe(2);
  });

  it("retries a reset on a new socket as a transient network error (with backoff, as an attempt)", async () => {
    const server = await rawServer((socket, n) => {
      if (n === 1) socket.resetAndDestroy();
      else socket.write("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    });
    expect(await poster(server.endpoint).post("a", data)).toEqual({ outcome: "delivered" });
    expect(server.requests).toBe(2);
  });

  it("reports a post the server never answers as RequestTimeout without sending it again, and the next post still goes through", async () => {
    const server = await rawServer((socket, n) => {
      if (n > 1) socket.write("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    });
    const p = poster(server.endpoint, { maxAttempts: 3, requestTimeoutMs: 100 });
    expect(await p.post("a", data)).toMatchObject({ outcome: "failed", errorName: "RequestTimeout" });
    expect(server.requests).toBe(1);
    expect(await p.post("b", data)).toEqual({ outcome: "delivered" });
  });

  it("reports a refused connection as ECONNREFUSED after its retries", async () => {
    const server = await rawServer(() => undefined);
    const endpoint = server.endpoint;
    const s = servers.pop() as Server;
    await new Promise<void>((r) => s.close(() => r()));
    expect(await poster(endpoint, { maxAttempts: 2 }).post("a", data)).toMatchObject({ outcome: "failed", errorName: "ECONNREFUSED" });
  });

  it("closes sockets left idle past the idle timeout", async () => {
    const server = await httpServer((_req, res) => res.writeHead(200).end());
    const p = poster(server.endpoint, { idleTimeoutMs: 20 });
    expect(await p.post("a", data)).toEqual({ outcome: "delivered" });
    await new Promise((r) => setTimeout(r, 150));
    expect(await p.post("b", data)).toEqual({ outcome: "delivered" });
    expect(server.sockets).toBe(2);
  });

  describe("over HTTPS", () => {
    async function tlsServer() {
      const pems = await generate([{ name: "commonName", value: "localhost" }], { keySize: 2048 });
      const server = createTlsServer({ key: pems.private, cert: pems.cert }, (req, res) => {
        req.resume();
        req.on("end", () => res.writeHead(200).end());
      });
      servers.push(server);
      track(server);
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      return { endpoint: new URL(`https://localhost:${(server.address() as AddressInfo).port}/prod`), cert: pems.cert };
    }

    it("verifies the certificate as node does: a self-signed one is refused, and not retried", async () => {
      const server = await tlsServer();
      const result = await poster(server.endpoint).post("a", data);
      expect(result).toMatchObject({ outcome: "failed", errorName: "DEPTH_ZERO_SELF_SIGNED_CERT" });
    });

    it("opens its sockets through tls.connect at call time, with the host as server name", async () => {
      const server = await tlsServer();
      const original = tls.connect;
      const asked: unknown[] = [];
      // What chatctl dev's worker does: wrap the module's connect (here to trust the test's certificate).
      tls.connect = ((options: tls.ConnectionOptions) => {
        asked.push(options.servername);
        return original({ ...options, ca: [server.cert] });
      }) as typeof tls.connect;
      try {
        expect(await poster(server.endpoint).post("a", data)).toEqual({ outcome: "delivered" });
      } finally {
        tls.connect = original;
      }
      expect(asked).toEqual(["localhost"]);
    });
  });
});

describe("the pool's answer bodies", () => {
  const request = Buffer.from("POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n", "latin1");

  it("keeps a 2xx body whole when asked (beyond an error body's 64 KB), chunked or not, and drops it otherwise", async () => {
    const big = "x".repeat(600 * 1024);
    const server = await httpServer((_req, res, n) => {
      if (n % 2 === 1) res.writeHead(200, { "content-length": Buffer.byteLength(big) }).end(big);
      else {
        res.writeHead(200);
        res.write(big.slice(0, 1000));
        res.end(big.slice(1000));
      }
    });
    const pool = new Http1Pool({ protocol: "http:", host: "127.0.0.1", port: Number(server.endpoint.port), maxSockets: 1, requestTimeoutMs: 5000, idleTimeoutMs: 5000 });
    try {
      expect((await pool.request(request, true)).body).toBe(big);
      expect((await pool.request(request, true)).body).toBe(big);
      expect((await pool.request(request)).body).toBe("");
      expect(server.sockets).toBe(1);
    } finally {
      pool.close();
    }
  });

  it("fails a kept 2xx body larger than its cap instead of cutting it", async () => {
    const server = await httpServer((_req, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(1024 * 1024, 120);
      for (let i = 0; i <= MAX_OUTPUT_BODY / chunk.length; i++) res.write(chunk);
      res.end();
    });
    const pool = new Http1Pool({ protocol: "http:", host: "127.0.0.1", port: Number(server.endpoint.port), maxSockets: 1, requestTimeoutMs: 5000, idleTimeoutMs: 5000 });
    try {
      await expect(pool.request(request, true)).rejects.toMatchObject({ code: "ERR_BODY_TOO_LARGE" });
    } finally {
      pool.close();
    }
  });
});
