import { STATUS_CODES, type IncomingHttpHeaders } from "node:http";
import type { Duplex } from "node:stream";
import type { WireDispatch } from "./front-door.js";
import { handSocketOver } from "./gateway/server.js";

/**
 * Serves the signed AWS calls that function workers make over in-process
 * connections (runner/in-process.ts) without node's http.Server: a broadcast is
 * one PostToConnection per recipient, and the server's per-request objects
 * (IncomingMessage, ServerResponse, their streams and header maps) were most of
 * the dev process's own cost per delivery, and most of its garbage.
 *
 * Only the plain shape node's and the SDK's HTTP clients send is parsed here:
 * HTTP/1.1, a SigV4 Authorization header, a Content-Length body (or none), no
 * Upgrade, no Transfer-Encoding, no Expect, no repeated header. Anything else
 * (the console's pages, unsigned calls, a WebSocket upgrade, chunked bodies)
 * hands the connection, from that request on, to the http.Server, which then
 * serves it to the end: both paths answer through the same WireDispatch.
 * Answers carry what node's server would add (Date, Connection, Keep-Alive,
 * Content-Length), and an idle connection is closed after node's default
 * keep-alive timeout, so a client's agent sees the same server either way.
 */

const MAX_HEADER_BYTES = 16 * 1024; // node's default --max-http-header-size
const KEEP_ALIVE_MS = 5_000; // node's default server.keepAliveTimeout
const HEAD_END = Buffer.from("\r\n\r\n", "latin1");
const REQUEST_LINE = /^([A-Z]+) (\S+) HTTP\/1\.1$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const NO_BODY_STATUS = new Set([204, 304]);

interface Head {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly bytes: number; // request line and headers, with the blank line
  readonly contentLength: number;
  readonly close: boolean;
}

type Parsed = Head | "incomplete" | "handOver" | "bad";

let dateText = "";
let dateSecond = -1;
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

function parseHead(buffer: Buffer): Parsed {
  const end = buffer.indexOf(HEAD_END);
  if (end < 0) return buffer.length > MAX_HEADER_BYTES ? "bad" : "incomplete";
  if (end > MAX_HEADER_BYTES) return "bad";
  const lines = buffer.toString("latin1", 0, end).split("\r\n");
  const line = REQUEST_LINE.exec(lines[0] ?? "");
  if (!line) return "handOver"; // HTTP/1.0, or something for node's parser to judge
  const headers: IncomingHttpHeaders = {};
  for (let i = 1; i < lines.length; i++) {
    const text = lines[i] as string;
    const colon = text.indexOf(":");
    if (colon <= 0) return "handOver"; // folded or malformed: node's parser decides
    const name = text.slice(0, colon).toLowerCase();
    if (!TOKEN.test(name) || name in headers) return "handOver";
    headers[name] = text.slice(colon + 1).trim();
  }
  const method = (line[1] as string) ?? "GET";
  if (!headers.authorization || headers.upgrade !== undefined || headers["transfer-encoding"] !== undefined || headers.expect !== undefined) return "handOver";
  if (method === "HEAD" || method === "CONNECT") return "handOver";
  const length = headers["content-length"];
  if (length !== undefined && !/^\d+$/.test(length)) return "bad";
  const connection = (headers.connection ?? "").toLowerCase();
  return { method, url: line[2] as string, headers, bytes: end + HEAD_END.length, contentLength: length === undefined ? 0 : Number(length), close: connection === "close" };
}

/**
 * Serves `socket` (a worker's in-process connection) until it closes or is
 * handed to `handOver` (the http.Server's "connection").
 */
export function serveInProcess(socket: Duplex & { setTimeout(ms: number): unknown }, wire: WireDispatch, handOver: (socket: Duplex) => void): void {
  let chunks: Buffer[] = [];
  let buffered = 0;
  let busy = false;
  let closing = false;

  const take = (): Buffer => {
    const all = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, buffered);
    chunks = [all];
    return all;
  };

  const keep = (rest: Buffer): void => {
    chunks = rest.length > 0 ? [rest] : [];
    buffered = rest.length;
  };

  const respond = (status: number, headers: Readonly<Record<string, string>>, body: string | Buffer, close: boolean): void => {
    const payload = NO_BODY_STATUS.has(status) ? Buffer.alloc(0) : typeof body === "string" ? Buffer.from(body, "utf8") : body;
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Unknown"}\r\n`;
    for (const [name, value] of Object.entries(headers)) {
      const lower = name.toLowerCase();
      if (lower === "content-length" || lower === "connection" || lower === "transfer-encoding" || lower === "keep-alive") continue;
      head += `${name}: ${value}\r\n`;
    }
    head += `Date: ${httpDate()}\r\n`;
    head += close ? "Connection: close\r\n" : `Connection: keep-alive\r\nKeep-Alive: timeout=${KEEP_ALIVE_MS / 1000}\r\n`;
    if (!NO_BODY_STATUS.has(status)) head += `Content-Length: ${payload.length}\r\n`;
    head += "\r\n";
    const headBytes = Buffer.from(head, "latin1");
    socket.write(payload.length === 0 ? headBytes : Buffer.concat([headBytes, payload], headBytes.length + payload.length));
    if (close) {
      closing = true;
      socket.end();
    }
  };

  const handOff = (): void => {
    socket.removeListener("data", onData);
    socket.removeListener("timeout", onIdle);
    socket.setTimeout(0);
    handSocketOver(socket, buffered > 0 ? take() : undefined, handOver);
  };

  const next = (): void => {
    while (!busy && !closing && buffered > 0) {
      const parsed = parseHead(take());
      if (parsed === "incomplete") return;
      if (parsed === "handOver") return handOff();
      if (parsed === "bad") {
        respond(400, {}, "", true);
        return;
      }
      const route = wire.route(parsed.headers, parsed.url);
      if (parsed.contentLength > route.maxBodyBytes) {
        const out = wire.tooLarge(route);
        respond(out.status, out.headers, out.body, true);
        return;
      }
      if (buffered < parsed.bytes + parsed.contentLength) return;
      const all = take();
      const body = all.subarray(parsed.bytes, parsed.bytes + parsed.contentLength);
      keep(all.subarray(parsed.bytes + parsed.contentLength));
      busy = true;
      socket.setTimeout(0);
      void wire.answer(route, parsed.method, parsed.url, parsed.headers, body).then(
        (out) => {
          busy = false;
          if (socket.destroyed) return;
          if (!out) {
            socket.destroy();
            return;
          }
          respond(out.status, out.headers, out.body, parsed.close);
          if (!closing) socket.setTimeout(KEEP_ALIVE_MS);
          next();
        },
        () => socket.destroy(),
      );
    }
  };

  function onData(chunk: Buffer): void {
    chunks.push(chunk);
    buffered += chunk.length;
    next();
  }
  function onIdle(): void {
    if (!busy) socket.destroy();
  }

  socket.on("data", onData);
  socket.on("timeout", onIdle);
  socket.on("error", () => socket.destroy());
}
