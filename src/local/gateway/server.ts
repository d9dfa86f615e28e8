import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from "node:net";
import type { Duplex } from "node:stream";

export interface SniffingServerOptions {
  readonly request: (req: IncomingMessage, res: ServerResponse) => void;
  readonly upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** Without it, TLS connections are refused and only plain HTTP is served. */
  readonly tls?: { readonly key: string; readonly cert: string };
}

export interface SniffingServer {
  readonly net: NetServer;
  readonly http: HttpServer;
  readonly https: HttpsServer | undefined;
  /** Resolves with the bound port (pass 0 for a free one). */
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
}

const FIRST_BYTE_TIMEOUT_MS = 30_000;
const TLS_HANDSHAKE = 0x16; // first byte of a TLS ClientHello record; never the start of an HTTP method

/**
 * Gives a socket whose first bytes were already read (`unread`) to a server that reads
 * it from the start: paused and the bytes put back, so the server's parser, attached
 * when it takes the connection, sees them first; flowing again on the next tick.
 */
export function handSocketOver(socket: Duplex, unread: Buffer | undefined, take: (socket: Duplex) => void): void {
  socket.pause();
  if (unread && unread.length > 0) socket.unshift(unread);
  take(socket);
  process.nextTick(() => socket.resume());
}

/**
 * One port, both schemes: the first byte of each connection tells TLS from
 * plain HTTP, and the socket goes to an https.Server or an http.Server that
 * share the same request and upgrade handlers. So `ws://` and `wss://`,
 * `http://` and `https://` all work on the local cloud's one port, which is
 * what lets handlers that build `https://{domainName}/{stage}` reach us.
 */
export function createSniffingServer(options: SniffingServerOptions): SniffingServer {
  const http = createHttpServer(options.request);
  const https = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, options.request) : undefined;
  if (options.upgrade) {
    http.on("upgrade", options.upgrade);
    https?.on("upgrade", options.upgrade);
  }
  const all = new Set<Socket>();

  const net = createNetServer((socket) => {
    all.add(socket);
    socket.once("close", () => all.delete(socket));
    socket.on("error", () => socket.destroy());
    // A client that connects and says nothing would hold its socket forever; once it
    // speaks, the http/https server's own header and handshake timeouts take over.
    socket.setTimeout(FIRST_BYTE_TIMEOUT_MS, () => socket.destroy());
    socket.once("data", (first: Buffer) => {
      socket.setTimeout(0);
      const target = first[0] === TLS_HANDSHAKE ? https : http;
      if (!target) {
        socket.destroy();
        return;
      }
      handSocketOver(socket, first, (s) => target.emit("connection", s));
    });
  });

  return {
    net,
    http,
    https,
    listen: (port, host = "127.0.0.1") =>
      new Promise<number>((resolve, reject) => {
        net.once("error", reject);
        net.listen(port, host, () => {
          net.off("error", reject);
          resolve((net.address() as AddressInfo).port);
        });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        net.close(() => resolve());
        // Upgraded (WebSocket) sockets belong to no http.Server any more; close them too, or net.close waits forever.
        http.closeAllConnections();
        https?.closeAllConnections();
        for (const socket of all) socket.destroy();
        all.clear();
      }),
  };
}
