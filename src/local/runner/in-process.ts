import { Duplex } from "node:stream";
import type { MessagePort } from "node:worker_threads";

/**
 * The in-process transport between function workers and the local cloud.
 *
 * A function's calls to the local cloud (PostToConnection for every recipient of
 * a broadcast, DynamoDB, Lambda) would each cross loopback TCP twice: a write and
 * a read on both sides, with the kernel's work and the epoll wake-ups billed to
 * the dev process. Inside a worker, a connection to the local cloud's own
 * host:port is instead an in-memory stream; its bytes travel over the worker's
 * MessagePort, batched once per event-loop turn, and arrive here as a Duplex
 * that the front door's http.Server serves like any socket (`emit("connection")`,
 * documented for any Duplex). The handler's HTTP client and the server's parser
 * are node's own on both ends, so requests, responses, keep-alive, timeouts and
 * resets look the same to the handler; only the bytes skip the kernel.
 *
 * Wire format of one batch (both directions): `[ops, bytes]`, where `ops` is a
 * flat list of quadruples [op, socketId, offset, length] and `bytes` one
 * transferred buffer holding every data chunk of the batch (a Buffer from node's
 * pool is a view of an 8 KB ArrayBuffer, which structured cloning would copy
 * whole for each chunk).
 */

export const OP_OPEN = 0;
export const OP_DATA = 1;
export const OP_END = 2;
export const OP_CLOSE = 3;

export type Batch = readonly [readonly number[], Uint8Array];

/** Collects operations and flushes them as one message per event-loop turn. */
class Outbox {
  private ops: number[] = [];
  private chunks: Buffer[] = [];
  private bytes = 0;
  private scheduled = false;

  constructor(private readonly port: MessagePort) {}

  push(op: number, id: number, chunk?: Buffer): void {
    if (chunk) {
      this.ops.push(op, id, this.bytes, chunk.length);
      this.chunks.push(chunk);
      this.bytes += chunk.length;
    } else {
      this.ops.push(op, id, 0, 0);
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    const bytes = new Uint8Array(this.bytes);
    let at = 0;
    for (const c of this.chunks) {
      bytes.set(c, at);
      at += c.length;
    }
    const batch: Batch = [this.ops, bytes];
    this.ops = [];
    this.chunks = [];
    this.bytes = 0;
    try {
      this.port.postMessage(batch, [bytes.buffer]);
    } catch {
      // The worker is gone: its sockets are being closed by `closeAll`.
    }
  }
}

/** The cloud's end of one in-process connection: a socket as far as the http.Server can tell. */
export class InProcessSocket extends Duplex {
  readonly remoteAddress = "127.0.0.1";
  readonly remoteFamily = "IPv4";
  readonly remotePort: number;
  readonly localAddress = "127.0.0.1";
  readonly localPort: number;
  readonly encrypted = false;
  bytesRead = 0;
  bytesWritten = 0;
  private idleMs = 0;
  private lastActive = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private closedByPeer = false;

  constructor(
    private readonly id: number,
    private readonly outbox: Outbox,
    localPort: number,
  ) {
    super({ allowHalfOpen: false });
    this.remotePort = 40_000 + (id % 20_000);
    this.localPort = localPort;
  }

  address(): { address: string; family: string; port: number } {
    return { address: this.localAddress, family: "IPv4", port: this.localPort };
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  /** As net.Socket's: "timeout" once nothing was read or written for `ms`. */
  setTimeout(ms: number, callback?: () => void): this {
    this.idleMs = ms;
    if (callback) {
      if (ms === 0) this.removeListener("timeout", callback);
      else this.once("timeout", callback);
    }
    this.touch();
    return this;
  }

  /** Bytes from the worker. */
  receive(chunk: Buffer): void {
    this.bytesRead += chunk.length;
    this.touch();
    this.push(chunk);
  }

  /** The worker ended its side (FIN). */
  receiveEnd(): void {
    this.push(null);
  }

  /** The worker's socket is gone (destroyed, or the worker exited). */
  receiveClose(): void {
    this.closedByPeer = true;
    this.push(null);
    this.destroy();
  }

  override _read(): void {
    // Data is pushed as it arrives; there is no source to pull from.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.sendData(chunk);
    callback();
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    this.sendData(chunks.length === 1 ? (chunks[0] as { chunk: Buffer }).chunk : Buffer.concat(chunks.map((c) => c.chunk)));
    callback();
  }

  private sendData(chunk: Buffer): void {
    this.bytesWritten += chunk.length;
    this.touch();
    this.outbox.push(OP_DATA, this.id, chunk);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.outbox.push(OP_END, this.id);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.idleTimer);
    if (!this.closedByPeer) this.outbox.push(OP_CLOSE, this.id);
    callback(error);
  }

  private touch(): void {
    if (this.idleMs <= 0) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
      return;
    }
    this.lastActive = Date.now();
    // One timer per socket, re-armed only when it fires early: cheaper than a new timer per chunk.
    if (!this.idleTimer) this.armIdle(this.idleMs);
  }

  private armIdle(ms: number): void {
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.idleMs <= 0 || this.destroyed) return;
      const left = this.lastActive + this.idleMs - Date.now();
      if (left > 0) this.armIdle(left);
      else this.emit("timeout");
    }, ms);
    this.idleTimer.unref();
  }
}

/**
 * The cloud's end of one worker's MessagePort: opens an InProcessSocket for each
 * connection the worker makes and hands it to `accept` (the front door).
 */
export class InProcessLink {
  private readonly sockets = new Map<number, InProcessSocket>();
  private readonly outbox: Outbox;

  constructor(
    private readonly port: MessagePort,
    private readonly accept: (socket: InProcessSocket) => void,
    private readonly localPort: number,
  ) {
    this.outbox = new Outbox(port);
    port.on("message", (batch: Batch) => this.receive(batch));
  }

  /** Every connection still open: when the worker exits, its peer closes them as a dead process's would be. */
  closeAll(): void {
    for (const socket of this.sockets.values()) socket.receiveClose();
    this.sockets.clear();
    this.port.close();
  }

  private receive([ops, bytes]: Batch): void {
    const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < ops.length; i += 4) {
      const op = ops[i];
      const id = ops[i + 1] as number;
      if (op === OP_OPEN) {
        const socket = new InProcessSocket(id, this.outbox, this.localPort);
        this.sockets.set(id, socket);
        socket.once("close", () => this.sockets.delete(id));
        this.accept(socket);
        continue;
      }
      const socket = this.sockets.get(id);
      if (!socket) continue;
      if (op === OP_DATA) {
        const at = ops[i + 2] as number;
        socket.receive(data.subarray(at, at + (ops[i + 3] as number)));
      } else if (op === OP_END) socket.receiveEnd();
      else if (op === OP_CLOSE) {
        this.sockets.delete(id);
        socket.receiveClose();
      }
    }
  }
}

/**
 * The worker's half, as CommonJS source for the bootstrap (see bootstrap.ts for
 * why source text). It expects `workerData.inProcess = { port, host, port }` and
 * replaces, for that host and port only, what every HTTP client opens connections
 * with: `net.connect`/`net.createConnection` (the SDK, fetch, raw sockets) and
 * `http.Agent.prototype.createConnection` (which holds node's original reference).
 */
export const IN_PROCESS_WORKER_SOURCE = String.raw`
if (workerData.inProcess) {
  const net = require("node:net");
  const http = require("node:http");
  const { Duplex } = require("node:stream");
  const link = workerData.inProcess.link;
  const hosts = new Set([workerData.inProcess.host, "localhost", "127.0.0.1"]);
  const localPort = workerData.inProcess.port;
  const sockets = new Map();
  let nextId = 1;
  let ops = [];
  let chunks = [];
  let bytes = 0;
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const all = new Uint8Array(bytes);
    let at = 0;
    for (const c of chunks) { all.set(c, at); at += c.length; }
    const batch = [ops, all];
    ops = []; chunks = []; bytes = 0;
    link.postMessage(batch, [all.buffer]);
  };
  const send = (op, id, chunk) => {
    if (chunk) { ops.push(op, id, bytes, chunk.length); chunks.push(chunk); bytes += chunk.length; }
    else ops.push(op, id, 0, 0);
    if (!scheduled) { scheduled = true; setImmediate(flush); }
  };
  class LocalSocket extends Duplex {
    constructor() {
      super({ allowHalfOpen: false });
      this.id = nextId++;
      this.remoteAddress = "127.0.0.1"; this.remoteFamily = "IPv4"; this.remotePort = localPort;
      this.localAddress = "127.0.0.1"; this.localPort = 40000 + (this.id % 20000);
      this.bytesRead = 0; this.bytesWritten = 0;
      this.connecting = true;
      this.idleMs = 0; this.lastActive = 0; this.idleTimer = undefined; this.closedByPeer = false;
      sockets.set(this.id, this);
      send(0, this.id);
      process.nextTick(() => {
        if (this.destroyed) return;
        this.connecting = false;
        this.emit("connect");
        this.emit("ready");
      });
    }
    get readyState() { return this.connecting ? "opening" : this.destroyed ? "closed" : "open"; }
    get pending() { return this.connecting; }
    address() { return { address: this.localAddress, family: "IPv4", port: this.localPort }; }
    setNoDelay() { return this; }
    setKeepAlive() { return this; }
    ref() { return this; }
    unref() { return this; }
    setTimeout(ms, callback) {
      this.idleMs = ms;
      if (callback) { if (ms === 0) this.removeListener("timeout", callback); else this.once("timeout", callback); }
      this.touch();
      return this;
    }
    touch() {
      if (this.idleMs <= 0) { clearTimeout(this.idleTimer); this.idleTimer = undefined; return; }
      this.lastActive = Date.now();
      if (!this.idleTimer) this.armIdle(this.idleMs);
    }
    armIdle(ms) {
      this.idleTimer = setTimeout(() => {
        this.idleTimer = undefined;
        if (this.idleMs <= 0 || this.destroyed) return;
        const left = this.lastActive + this.idleMs - Date.now();
        if (left > 0) this.armIdle(left); else this.emit("timeout");
      }, ms);
      this.idleTimer.unref();
    }
    _read() {}
    _write(chunk, encoding, callback) {
      this.bytesWritten += chunk.length;
      this.touch();
      send(1, this.id, chunk);
      callback();
    }
    _writev(list, callback) {
      this._write(list.length === 1 ? list[0].chunk : Buffer.concat(list.map((c) => c.chunk)), "buffer", callback);
    }
    _final(callback) { send(2, this.id); callback(); }
    _destroy(error, callback) {
      clearTimeout(this.idleTimer);
      sockets.delete(this.id);
      if (!this.closedByPeer) send(3, this.id);
      callback(error);
    }
  }
  link.on("message", ([list, all]) => {
    const data = Buffer.from(all.buffer, all.byteOffset, all.byteLength);
    for (let i = 0; i < list.length; i += 4) {
      const socket = sockets.get(list[i + 1]);
      if (!socket) continue;
      const op = list[i];
      if (op === 1) {
        const chunk = data.subarray(list[i + 2], list[i + 2] + list[i + 3]);
        socket.bytesRead += chunk.length;
        socket.touch();
        socket.push(chunk);
      } else if (op === 2) socket.push(null);
      else if (op === 3) { socket.closedByPeer = true; socket.push(null); socket.destroy(); }
    }
  });
  // The port must not keep an idle worker's loop alive on its own account.
  link.unref();
  const target = (args) => {
    const first = args[0];
    if (first !== null && typeof first === "object") {
      if (first.path !== undefined && first.port === undefined) return false;
      return Number(first.port) === localPort && hosts.has(String(first.host || first.hostname || "localhost"));
    }
    if (typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first))) {
      return Number(first) === localPort && hosts.has(typeof args[1] === "string" ? args[1] : "localhost");
    }
    return false;
  };
  const open = (args) => {
    const socket = new LocalSocket();
    const callback = args.find((a) => typeof a === "function");
    if (callback) socket.once("connect", callback);
    const options = args[0];
    if (options && typeof options === "object" && options.timeout) socket.setTimeout(options.timeout);
    return socket;
  };
  const original = net.connect;
  net.connect = net.createConnection = function (...args) {
    return target(args) ? open(args) : original.apply(this, args);
  };
  const agentConnect = http.Agent.prototype.createConnection;
  http.Agent.prototype.createConnection = function (...args) {
    return target(args) ? open(args) : agentConnect.apply(this, args);
  };
}
`;
