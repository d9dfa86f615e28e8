import type { IncomingMessage, ServerResponse } from "node:http";
import { bundleConsoleAssets, type ConsoleAssets } from "./assets.js";
import type { Batch } from "./events.js";
import type { ConsoleHub } from "./hub.js";

/**
 * Where the console's own resources live. No stage can be called "@console": "Stage names can
 * only contain alphanumeric characters, hyphens, and underscores" (API Gateway v2 API
 * reference, DeleteStage/StageName), so no user's route can ever be here.
 */
export const CONSOLE_PREFIX = "/@console/";

export interface ConsoleServerOptions {
  readonly hub: ConsoleHub;
  /** The dev server's port, known only once it listens. */
  readonly port: () => number;
  /** Bundles the page; the ui/ sources by default. */
  readonly assets?: () => Promise<ConsoleAssets>;
}

export interface ConsoleServer {
  /** Answers the console's requests and returns true; false for anything else (it goes on to the gateway and services). */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** Ends every open stream. */
  close(): void;
}

const LOOPBACK_PEERS = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);
const LOOPBACK_NAMES = ["127.0.0.1", "localhost", "[::1]"];
/** A page this far behind is cut off; its EventSource reconnects and starts from a fresh snapshot. */
const MAX_UNSENT_BYTES = 8 * 1024 * 1024;
const HEARTBEAT_MS = 15_000;

function page(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>chatctl dev console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${CONSOLE_PREFIX}app.css">
<script type="module" src="${CONSOLE_PREFIX}app.js"></script>
</head>
<body><noscript>The chatctl dev console needs JavaScript.</noscript></body>
</html>
`;
}

/**
 * The dev console over HTTP: the page at `/`, its script and styles, a JSON
 * snapshot and a server-sent event stream under /@console/. Only for this
 * machine: the peer must be a loopback address and the Host header must name
 * the dev server by a loopback name (so a page elsewhere cannot reach it through
 * DNS rebinding), and a request from another origin is refused. Driving
 * (send, kick) goes through the stage's own @connections API, not through here.
 */
export function createConsoleServer(options: ConsoleServerOptions): ConsoleServer {
  const { hub } = options;
  const streams = new Set<ServerResponse>();
  let assets: Promise<ConsoleAssets> | undefined;
  let unsubscribe: (() => void) | undefined;
  let heartbeat: NodeJS.Timeout | undefined;

  const loadAssets = (): Promise<ConsoleAssets> => {
    assets ??= (options.assets ?? bundleConsoleAssets)();
    assets.catch(() => (assets = undefined)); // try again on the next request
    return assets;
  };

  function allowed(req: IncomingMessage): string | undefined {
    const peer = req.socket.remoteAddress ?? "";
    if (!LOOPBACK_PEERS.has(peer)) return "the dev console answers only on this machine";
    const port = options.port();
    const host = req.headers.host ?? "";
    if (!LOOPBACK_NAMES.some((n) => host === `${n}:${port}`)) return `open the dev console at http://127.0.0.1:${port}/`;
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${host}` && origin !== `https://${host}`) return "the dev console does not answer other origins";
    return undefined;
  }

  function broadcast(batch: Batch): void {
    const chunk = `event: batch\ndata: ${JSON.stringify(batch)}\n\n`;
    for (const res of streams) {
      if (res.writableLength > MAX_UNSENT_BYTES) {
        res.end();
        continue;
      }
      res.write(chunk);
    }
  }

  function openStream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no" });
    res.write(`retry: 1000\nevent: snapshot\ndata: ${JSON.stringify(hub.snapshot())}\n\n`);
    streams.add(res);
    unsubscribe ??= hub.subscribe(broadcast);
    heartbeat ??= setInterval(() => {
      for (const s of streams) s.write(": keep-alive\n\n");
    }, HEARTBEAT_MS).unref();
    const done = (): void => {
      streams.delete(res);
      if (streams.size === 0) stopListening();
    };
    req.once("close", done);
    res.once("close", done);
  }

  function stopListening(): void {
    unsubscribe?.();
    unsubscribe = undefined;
    clearInterval(heartbeat);
    heartbeat = undefined;
  }

  function send(res: ServerResponse, status: number, type: string, body: string, extra: Record<string, string> = {}): void {
    res.writeHead(status, { "content-type": type, "cache-control": "no-store", "x-content-type-options": "nosniff", ...extra });
    res.end(body);
  }

  async function serveAsset(res: ServerResponse, which: keyof ConsoleAssets): Promise<void> {
    try {
      const a = await loadAssets();
      send(res, 200, which === "js" ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8", a[which]);
    } catch (err) {
      send(res, 500, "text/plain; charset=utf-8", `cannot build the console: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }

  return {
    handle(req, res) {
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      if (path !== "/" && !path.startsWith(CONSOLE_PREFIX)) return false;
      // A WebSocket upgrade never comes here; any other method on / is not the console's.
      if (req.method !== "GET" && req.method !== "HEAD") return false;
      const refusal = allowed(req);
      if (refusal) {
        send(res, 403, "text/plain; charset=utf-8", `${refusal}\n`);
        return true;
      }
      switch (path) {
        case "/": {
          const port = options.port();
          const csp = `default-src 'self'; connect-src 'self' ${["127.0.0.1", "localhost"].flatMap((n) => [`ws://${n}:${port}`, `wss://${n}:${port}`]).join(" ")}; img-src 'self' data:; frame-ancestors 'none'`;
          send(res, 200, "text/html; charset=utf-8", page(), { "content-security-policy": csp, "x-frame-options": "DENY" });
          return true;
        }
        case `${CONSOLE_PREFIX}app.js`:
          void serveAsset(res, "js");
          return true;
        case `${CONSOLE_PREFIX}app.css`:
          void serveAsset(res, "css");
          return true;
        case `${CONSOLE_PREFIX}state`:
          send(res, 200, "application/json", JSON.stringify(hub.snapshot()));
          return true;
        case `${CONSOLE_PREFIX}events`:
          openStream(req, res);
          return true;
        default:
          send(res, 404, "text/plain; charset=utf-8", "not a page of the dev console\n");
          return true;
      }
    },
    close() {
      stopListening();
      for (const s of streams) s.end();
      streams.clear();
    },
  };
}
