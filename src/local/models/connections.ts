import { AwsError, ServiceModel, type OpHandler, type OpInput } from "../service.js";

/**
 * The API Gateway Management API (@connections): the open WebSocket connections
 * of every API and stage, and the three calls a backend makes on them.
 *
 * - PostToConnection, GetConnection, DeleteConnection, as in the API reference
 *   (https://docs.aws.amazon.com/apigatewaymanagementapi/latest/APIReference/) and
 *   "Use @connections commands in your backend service"
 *   (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html):
 *   an id that is unknown, not yet connected ($connect still running) or closed
 *   answers 410 GoneException; DeleteConnection ends the connection.
 * - "Message payload size: 128 KB" (Quotas for configuring and running a WebSocket
 *   API, https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html):
 *   a larger PostToConnection answers 413 PayloadTooLargeException. The 32 KB
 *   frame quota is the gateway's business: it splits what it sends into frames
 *   and closes (1009) clients that send larger ones.
 * - ForbiddenException (403) is the wire adapter's answer to a path or method
 *   that is no @connections operation, as API Gateway answers an unknown resource.
 *
 * The sockets are not here: the gateway opens a connection with a sink that
 * queues bytes on its socket, and tells the model when it ends. A connection
 * belongs to one API and stage; a call that names another endpoint's API or
 * stage (`ApiId`, `Stage`: the SDK carries them in the endpoint, not the input)
 * finds nothing there, as it would on AWS.
 *
 * Not modelled: SigV4 checking (every caller is allowed, and unsigned calls from
 * curl are served too) and LimitExceededException (429) throttling of the API.
 * A connection keeps what its $connect authorizer returned (`OpenConnection.authorizer`).
 */

/** Where the gateway puts what is posted to one connection. */
export interface ConnectionSink {
  /** Queues one message; false when it was not queued because the connection is gone now. */
  send(data: Buffer): boolean;
  /** Ends the connection (DeleteConnection); the gateway then reports it closed. */
  close(): void;
}

export interface OpenConnection {
  readonly connectionId: string;
  readonly apiId: string;
  readonly stage: string;
  readonly connectedAt: number;
  readonly sourceIp: string;
  readonly userAgent: string | undefined;
  /** The handshake's query string ("?token=abc", or ""): not an AWS field, for observers (the dev console). */
  readonly query?: string;
  /** principalId and the context $connect's Lambda authorizer returned for this connection. */
  readonly authorizer?: Readonly<Record<string, unknown>>;
}

export interface ConnectionInfo extends OpenConnection {
  readonly lastActiveAt: number;
}

export type PostOutcome = "delivered" | "gone" | "tooLarge";

/** What an observer (the dev console) sees happen to connections. */
export type ConnectionEvent =
  | { readonly type: "connected"; readonly at: number; readonly connection: ConnectionInfo }
  | { readonly type: "disconnected"; readonly at: number; readonly connectionId: string; readonly code: number; readonly reason: string }
  | { readonly type: "posted"; readonly at: number; readonly connectionId: string; readonly bytes: number; readonly outcome: PostOutcome };

export type ConnectionListener = (event: ConnectionEvent) => void;

/** API Gateway's message payload quota, which PostToConnection's Data is held to. */
export const MAX_POST_BYTES = 128 * 1024;

export interface ConnectionsModelOptions {
  readonly maxPostBytes?: number;
  readonly now?: () => number;
}

interface Entry {
  readonly info: OpenConnection;
  readonly sink: ConnectionSink;
  lastActiveAt: number;
}

function gone(): AwsError {
  return new AwsError("GoneException", "", 410);
}

function bytesOf(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (typeof data === "string") return Buffer.from(data, "utf8");
  throw new AwsError("BadRequestException", "Data must be a blob", 400);
}

export class ConnectionsModel extends ServiceModel {
  readonly service = "apigatewaymanagementapi";
  // Observers use subscribe(); a record of every post would only hold memory in a long fan-out.
  protected override readonly recordsCalls = false;
  readonly maxPostBytes: number;
  private readonly now: () => number;
  private readonly open = new Map<string, Entry>();
  private listeners: readonly ConnectionListener[] = [];

  constructor(opts: ConnectionsModelOptions = {}) {
    super();
    this.maxPostBytes = opts.maxPostBytes ?? MAX_POST_BYTES;
    this.now = opts.now ?? Date.now;
  }

  /** Observes every connection's life; returns the function that stops it. Free while nobody listens. */
  subscribe(listener: ConnectionListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** The gateway: the connection is open ($connect accepted it), and posts to it go to `sink`. */
  connect(connection: OpenConnection, sink: ConnectionSink): void {
    this.open.set(connection.connectionId, { info: connection, sink, lastActiveAt: connection.connectedAt });
    if (this.listeners.length > 0) this.emit({ type: "connected", at: this.now(), connection: { ...connection, lastActiveAt: connection.connectedAt } });
  }

  /** The gateway: the client sent a message or a ping (GetConnection's LastActiveAt). */
  touch(connectionId: string, at: number): void {
    const entry = this.open.get(connectionId);
    if (entry) entry.lastActiveAt = at;
  }

  /**
   * The gateway: the connection ended, or is ending now (every call answers 410
   * from here on). Told more than once, only the first is kept.
   */
  disconnect(connectionId: string, code: number, reason: string): void {
    if (!this.open.delete(connectionId)) return;
    if (this.listeners.length > 0) this.emit({ type: "disconnected", at: this.now(), connectionId, code, reason });
  }

  /** The open connections, oldest first. Not an AWS call: the gateway's and the dev console's view. */
  list(): ConnectionInfo[] {
    return [...this.open.values()].map((e) => ({ ...e.info, lastActiveAt: e.lastActiveAt }));
  }

  protected readonly operations: Readonly<Record<string, OpHandler>> = {
    PostToConnection: (i) => {
      const id = String(i.ConnectionId ?? "");
      const entry = this.find(i);
      if (!entry) return this.posted(id, bytesOf(i.Data).length, "gone");
      const data = bytesOf(i.Data);
      if (data.length > this.maxPostBytes) {
        this.posted(id, data.length, "tooLarge");
        throw new AwsError("PayloadTooLargeException", `Message too long. Max bytes allowed: ${this.maxPostBytes}`, 413);
      }
      // Not queued: the gateway dropped the connection just now (a client that stopped reading).
      return this.posted(id, data.length, entry.sink.send(data) ? "delivered" : "gone");
    },
    GetConnection: (i) => {
      const entry = this.find(i);
      if (!entry) throw gone();
      return {
        ConnectedAt: new Date(entry.info.connectedAt),
        Identity: { SourceIp: entry.info.sourceIp, UserAgent: entry.info.userAgent ?? "" },
        LastActiveAt: new Date(entry.lastActiveAt),
      };
    },
    DeleteConnection: (i) => {
      const entry = this.find(i);
      if (!entry) throw gone();
      entry.sink.close();
      return {};
    },
  };

  private find(input: OpInput): Entry | undefined {
    const entry = typeof input.ConnectionId === "string" ? this.open.get(input.ConnectionId) : undefined;
    if (!entry) return undefined;
    if (typeof input.Stage === "string" && input.Stage !== entry.info.stage) return undefined;
    if (typeof input.ApiId === "string" && input.ApiId !== entry.info.apiId) return undefined;
    return entry;
  }

  private posted(connectionId: string, bytes: number, outcome: PostOutcome): Record<string, never> {
    if (this.listeners.length > 0) this.emit({ type: "posted", at: this.now(), connectionId, bytes, outcome });
    if (outcome === "gone") throw gone();
    return {};
  }

  private emit(event: ConnectionEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // An observer's mistake must not change what the caller of @connections gets.
      }
    }
  }
}
