// Default imports on purpose: they are the modules' export objects, so `net.connect`
// and `tls.connect` are looked up at call time, where chatctl dev's worker bootstrap
// replaces them (execute-api host names, the in-process transport). A namespace
// import (`import * as net`) would keep node's original functions.
import net from "node:net";
import tls from "node:tls";
import type { Duplex } from "node:stream";

/**
 * A small HTTP/1.1 keep-alive client for one origin: at most `maxSockets` sockets,
 * one request in flight on each, every request handed over as one buffer. It
 * replaces http.request + Agent for PostToConnection and DynamoDB's item calls, where
 * node's ClientRequest, IncomingMessage and their streams were half the CPU of a
 * broadcast (and the SDK's stack most of a $connect's). It reads what
 * a server may answer to a POST: Content-Length or chunked bodies, bodies ended by
 * the close, `Connection: close`, HTTP/1.0, 1xx interim answers.
 */

export interface Http1Response {
  readonly statusCode: number;
  /** x-amzn-errortype, the AWS error name of a failed call. */
  readonly errorType: string | undefined;
  /** Kept for answers outside 2xx (their error message, at most 64 KB) and for 2xx answers of requests that asked (`keepBody`); empty otherwise. */
  readonly body: string;
}

export interface PoolOptions {
  readonly protocol: "http:" | "https:";
  readonly host: string;
  readonly port: number;
  readonly maxSockets: number;
  /** No answer for this long after the request was written: fails with code RequestTimeout. */
  readonly requestTimeoutMs: number;
  /** An unused socket is closed after this long. */
  readonly idleTimeoutMs: number;
}

interface Exchange {
  readonly data: Uint8Array;
  /** The caller reads a 2xx answer's body too (a JSON protocol's output). */
  readonly keepBody: boolean;
  readonly resolve: (res: Http1Response) => void;
  readonly reject: (err: Error) => void;
  /** Re-sent once already after a reused socket turned out closed. */
  retried: boolean;
}

const enum Phase {
  Head,
  Length,
  Chunked,
  UntilClose,
  Done,
}

const enum Chunk {
  Size,
  Data,
  DataEnd,
  Trailers,
}

/** The code of a request that got no answer in time (not a socket error: the request may have been delivered). */
export const REQUEST_TIMEOUT = "RequestTimeout";

const MAX_HEAD_BYTES = 64 * 1024;
// An error body is read for its message: the first 64 KB of it will do.
const MAX_KEPT_BODY = 64 * 1024;
// A 2xx body asked for is the call's output and must be whole. The largest the handlers
// read is DynamoDB's DeleteItem ALL_OLD: one item, at most 400 KB as DynamoDB counts it,
// which JSON may spell several times longer (base64 binaries, escaped control characters).
export const MAX_OUTPUT_BODY = 16 * 1024 * 1024;
const CRLFCRLF = Buffer.from("\r\n\r\n", "latin1");
const CRLF = Buffer.from("\r\n", "latin1");

function codedError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

function hangUp(): Error {
  // node's http client names a connection closed before the answer so.
  return codedError("socket hang up", "ECONNRESET");
}

function protocolError(what: string): Error {
  return codedError(`invalid HTTP response: ${what}`, "HPE_INVALID_RESPONSE");
}

class Connection {
  exchange: Exchange | undefined;
  /** Answers completed on this socket; a reused socket may have been closed by the server meanwhile. */
  uses = 0;
  lastUsed = 0;
  deadline = 0;
  closed = false;
  private received = false;
  private pending: Buffer | undefined;
  private phase = Phase.Head;
  private chunk = Chunk.Size;
  private remaining = 0;
  private statusCode = 0;
  private errorType: string | undefined;
  private keepAlive = true;
  private kept: Buffer[] | undefined;
  private keptBytes = 0;
  /** The kept body is the call's output: more than MAX_OUTPUT_BODY fails the request rather than cut it. */
  private keepWhole = false;

  constructor(
    private readonly pool: Http1Pool,
    readonly socket: Duplex,
  ) {
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("end", () => this.onEnd());
    socket.on("error", (err: Error) => this.fail(err));
    socket.on("close", () => this.fail(hangUp()));
  }

  assign(exchange: Exchange, now: number): void {
    this.exchange = exchange;
    this.received = false;
    this.pending = undefined;
    this.phase = Phase.Head;
    this.statusCode = 0;
    this.errorType = undefined;
    this.keepAlive = true;
    this.kept = undefined;
    this.keptBytes = 0;
    this.deadline = now + this.pool.options.requestTimeoutMs;
    this.socket.write(exchange.data);
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    if (!this.exchange) {
      // Bytes nobody asked for: the stream can no longer be trusted.
      this.pool.remove(this);
      return;
    }
    this.received = true;
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    let off: number;
    try {
      off = this.consume(buf);
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    if (this.phase === Phase.Done) {
      // Anything after the answer is a second answer nobody asked for.
      if (off < buf.length) this.keepAlive = false;
      this.complete();
    }
  }

  /** Parses as much of the answer as `buf` holds; returns where it stopped. */
  private consume(buf: Buffer): number {
    let off = 0;
    while (off < buf.length && this.phase !== Phase.Done) {
      switch (this.phase) {
        case Phase.Head: {
          const end = buf.indexOf(CRLFCRLF, off);
          if (end < 0) {
            if (buf.length - off > MAX_HEAD_BYTES) throw protocolError("header section too large");
            this.pending = buf.subarray(off);
            return buf.length;
          }
          this.head(buf.toString("latin1", off, end));
          off = end + 4;
          break;
        }
        case Phase.Length: {
          const n = Math.min(this.remaining, buf.length - off);
          this.keep(buf, off, n);
          this.remaining -= n;
          off += n;
          if (this.remaining === 0) this.phase = Phase.Done;
          break;
        }
        case Phase.UntilClose:
          this.keep(buf, off, buf.length - off);
          off = buf.length;
          break;
        case Phase.Chunked:
          off = this.chunked(buf, off);
          break;
      }
    }
    return off;
  }

  private chunked(buf: Buffer, off: number): number {
    switch (this.chunk) {
      case Chunk.Size: {
        const end = buf.indexOf(CRLF, off);
        if (end < 0) return this.wait(buf, off);
        const line = buf.toString("latin1", off, end);
        const semi = line.indexOf(";");
        const hex = (semi < 0 ? line : line.slice(0, semi)).trim();
        if (!/^[0-9a-fA-F]{1,8}$/.test(hex)) throw protocolError(`chunk size ${JSON.stringify(line)}`);
        this.remaining = parseInt(hex, 16);
        this.chunk = this.remaining === 0 ? Chunk.Trailers : Chunk.Data;
        return end + 2;
      }
      case Chunk.Data: {
        const n = Math.min(this.remaining, buf.length - off);
        this.keep(buf, off, n);
        this.remaining -= n;
        if (this.remaining === 0) this.chunk = Chunk.DataEnd;
        return off + n;
      }
      case Chunk.DataEnd:
        if (buf.length - off < 2) return this.wait(buf, off);
        if (buf[off] !== 13 || buf[off + 1] !== 10) throw protocolError("chunk not followed by CRLF");
        this.chunk = Chunk.Size;
        return off + 2;
      case Chunk.Trailers: {
        const end = buf.indexOf(CRLF, off);
        if (end < 0) return this.wait(buf, off);
        // An empty line ends the trailers (and the answer); others are trailer fields, ignored.
        if (end === off) this.phase = Phase.Done;
        return end + 2;
      }
    }
  }

  private wait(buf: Buffer, off: number): number {
    if (buf.length - off > MAX_HEAD_BYTES) throw protocolError("chunk framing too long");
    this.pending = buf.subarray(off);
    return buf.length;
  }

  private keep(buf: Buffer, off: number, n: number): void {
    if (!this.kept || n === 0) return;
    if (this.keepWhole) {
      if (this.keptBytes + n > MAX_OUTPUT_BODY) throw codedError(`answer body larger than ${MAX_OUTPUT_BODY} bytes`, "ERR_BODY_TOO_LARGE");
    } else if (this.keptBytes >= MAX_KEPT_BODY) return;
    this.kept.push(Buffer.from(buf.subarray(off, off + n)));
    this.keptBytes += n;
  }

  private head(text: string): void {
    const lines = text.split("\r\n");
    const m = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0] ?? "");
    if (!m) throw protocolError(`status line ${JSON.stringify((lines[0] ?? "").slice(0, 80))}`);
    const status = Number(m[2]);
    const http11 = m[1] === "1";
    let contentLength: string | undefined;
    let chunked = false;
    let connection = "";
    let errorType: string | undefined;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] as string;
      const colon = line.indexOf(":");
      if (colon <= 0) throw protocolError(`header line ${JSON.stringify(line.slice(0, 80))}`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === "content-length") {
        if (contentLength !== undefined && contentLength !== value) throw protocolError("conflicting Content-Length");
        contentLength = value;
      } else if (name === "transfer-encoding") chunked = /(?:^|,)\s*chunked\s*$/i.test(value);
      else if (name === "connection") connection += `,${value.toLowerCase()}`;
      else if (name === "x-amzn-errortype") errorType = value.split(":")[0] || undefined;
    }
    if (status < 200) {
      // 100 Continue and other interim answers: the real one follows.
      if (status === 101) throw protocolError("unexpected 101 Switching Protocols");
      return;
    }
    this.statusCode = status;
    this.errorType = errorType;
    this.keepAlive = http11 ? !/(?:^|,)\s*close\s*(?:,|$)/.test(connection) : /(?:^|,)\s*keep-alive\s*(?:,|$)/.test(connection);
    this.keepWhole = status < 300 && this.exchange?.keepBody === true;
    if (status >= 300 || this.keepWhole) this.kept = [];
    if (status === 204 || status === 304) this.phase = Phase.Done;
    else if (chunked) {
      this.phase = Phase.Chunked;
      this.chunk = Chunk.Size;
    } else if (contentLength !== undefined) {
      if (!/^\d{1,15}$/.test(contentLength)) throw protocolError(`Content-Length ${JSON.stringify(contentLength)}`);
      this.remaining = Number(contentLength);
      this.phase = this.remaining === 0 ? Phase.Done : Phase.Length;
    } else {
      this.phase = Phase.UntilClose;
      this.keepAlive = false;
    }
  }

  private complete(): void {
    const exchange = this.exchange as Exchange;
    this.exchange = undefined;
    this.uses++;
    const body = this.kept && this.kept.length > 0 ? Buffer.concat(this.kept).toString("utf8") : "";
    // Read before releasing: a waiting request may take this socket (and reset its state) at once.
    const res: Http1Response = { statusCode: this.statusCode, errorType: this.errorType, body };
    this.kept = undefined;
    if (this.keepAlive) this.pool.release(this);
    else this.pool.remove(this);
    exchange.resolve(res);
  }

  private onEnd(): void {
    if (this.exchange && this.phase === Phase.UntilClose) {
      this.phase = Phase.Done;
      this.keepAlive = false;
      this.complete();
      return;
    }
    this.fail(hangUp());
  }

  /** The socket is unusable: the answer in progress fails (or is re-sent once, see below). */
  fail(err: Error): void {
    const exchange = this.exchange;
    this.exchange = undefined;
    this.pool.remove(this);
    if (!exchange) return;
    // A server may close a keep-alive socket it thinks idle while our request is on the
    // way; it then never read it. Not a byte of answer on a socket that served before:
    // send it again, once, on a new socket (as browsers and Go's client do).
    const code = (err as NodeJS.ErrnoException).code;
    if (this.uses > 0 && !this.received && !exchange.retried && (code === "ECONNRESET" || code === "EPIPE")) {
      exchange.retried = true;
      this.pool.resend(exchange);
      return;
    }
    exchange.reject(err);
  }
}

export class Http1Pool {
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private readonly queue: Exchange[] = [];
  /** Requests that must go out on a socket never used before. */
  private readonly fresh: Exchange[] = [];
  private timer: NodeJS.Timeout | undefined;
  private session: Buffer | undefined;
  private readonly sweepMs: number;

  constructor(readonly options: PoolOptions) {
    this.sweepMs = Math.max(5, Math.min(1000, Math.floor(Math.min(options.requestTimeoutMs, options.idleTimeoutMs) / 4)));
  }

  /** Sockets open now (busy or idle). */
  get size(): number {
    return this.all.size;
  }

  /**
   * Sends `data` (a whole request) and resolves with the answer; rejects on socket errors.
   * `keepBody`: a 2xx answer's body is read too (otherwise only error bodies are).
   */
  request(data: Uint8Array, keepBody = false): Promise<Http1Response> {
    return new Promise<Http1Response>((resolve, reject) => {
      this.queue.push({ data, keepBody, resolve, reject, retried: false });
      this.dispatch();
    });
  }

  resend(exchange: Exchange): void {
    this.fresh.push(exchange);
    this.dispatch();
  }

  release(conn: Connection): void {
    conn.lastUsed = Date.now();
    this.idle.push(conn);
    this.dispatch();
  }

  remove(conn: Connection): void {
    if (conn.closed) return;
    conn.closed = true;
    this.all.delete(conn);
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    conn.socket.destroy();
    if (this.all.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    this.dispatch();
  }

  private dispatch(): void {
    let now = 0;
    while (this.fresh.length > 0) {
      // Make room by closing an idle socket rather than waiting for a busy one.
      if (this.all.size >= this.options.maxSockets && this.idle.length > 0) this.remove(this.idle[0] as Connection);
      if (this.all.size >= this.options.maxSockets) break;
      now ||= Date.now();
      this.open().assign(this.fresh.shift() as Exchange, now);
    }
    while (this.queue.length > 0) {
      // The most recently used socket is the least likely to have been closed by the server.
      let conn = this.idle.pop();
      if (!conn) {
        if (this.all.size >= this.options.maxSockets) return;
        conn = this.open();
      }
      now ||= Date.now();
      conn.assign(this.queue.shift() as Exchange, now);
    }
  }

  private open(): Connection {
    const { host, port } = this.options;
    let socket: Duplex;
    if (this.options.protocol === "https:") {
      // Certificates are verified as node does by default; SNI only for names (RFC 6066).
      const s = tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }), ...(this.session ? { session: this.session } : {}) });
      s.on("session", (session: Buffer) => (this.session = session));
      socket = s;
    } else socket = net.connect({ host, port });
    const withDelay = socket as Duplex & { setNoDelay?: (noDelay: boolean) => unknown };
    if (typeof withDelay.setNoDelay === "function") withDelay.setNoDelay(true);
    const conn = new Connection(this, socket);
    this.all.add(conn);
    if (!this.timer) {
      this.timer = setInterval(() => this.sweep(), this.sweepMs);
      this.timer.unref();
    }
    return conn;
  }

  private sweep(): void {
    const now = Date.now();
    for (const conn of [...this.all]) {
      if (conn.exchange) {
        if (now >= conn.deadline) conn.fail(codedError(`no answer within ${this.options.requestTimeoutMs} ms`, REQUEST_TIMEOUT));
      } else if (now - conn.lastUsed >= this.options.idleTimeoutMs) this.remove(conn);
    }
  }

  /** Closes every socket; requests in flight fail. */
  close(): void {
    for (const conn of [...this.all]) conn.fail(codedError("pool closed", "ECONNABORTED"));
  }
}

/** A request as the pool sends it: the head (latin1, ending in a blank line) and its body in one buffer. */
export function requestBytes(head: string, body: Uint8Array): Buffer {
  const buf = Buffer.allocUnsafe(head.length + body.byteLength);
  buf.write(head, 0, "latin1");
  buf.set(body, head.length);
  return buf;
}

const pools = new Map<string, Http1Pool>();

/** The pool for these options, one per warm sandbox: the next invocation reuses its open sockets. */
export function poolFor(options: PoolOptions): Http1Pool {
  const key = `${options.protocol}//${options.host}:${options.port}/${options.maxSockets}/${options.requestTimeoutMs}/${options.idleTimeoutMs}`;
  let pool = pools.get(key);
  if (!pool) {
    pool = new Http1Pool(options);
    pools.set(key, pool);
  }
  return pool;
}

/** The pool for an http(s) endpoint's origin. */
export function poolForEndpoint(endpoint: URL, options: Pick<PoolOptions, "maxSockets" | "requestTimeoutMs" | "idleTimeoutMs">): Http1Pool {
  if (endpoint.protocol !== "https:" && endpoint.protocol !== "http:") {
    throw new Error(`unsupported endpoint ${endpoint.href}: expected http(s)`);
  }
  return poolFor({
    protocol: endpoint.protocol,
    // URL keeps IPv6 literals bracketed; sockets want the bare address.
    host: endpoint.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: endpoint.port ? Number(endpoint.port) : endpoint.protocol === "https:" ? 443 : 80,
    ...options,
  });
}
