import type { GatewayObserver, ObservedConnect, ObservedManagement, ObservedMessage } from "../local/gateway/index.js";
import type { ConnectionEvent, ConnectionListener } from "../local/models/connections.js";
import type { Batch, ConnectionRow, NewEvent, Snapshot, StackView, TimelineEvent } from "./events.js";

export interface HubOptions {
  /** Timeline events kept for a page that opens later (the oldest go first). */
  readonly historySize?: number;
  /** Closed connections still listed (faded) before they are forgotten. */
  readonly closedKept?: number;
  /** Events are sent to open pages in batches at most this often. */
  readonly batchMs?: number;
  /** A batch holds at most this many events; beyond, the oldest are skipped (and counted). */
  readonly maxBatch?: number;
  readonly now?: () => number;
}

export type HubListener = (batch: Batch) => void;

/**
 * Everything the dev console shows, gathered as it happens: the connections
 * (open, and recently closed), a bounded timeline, the stack. Recording is a
 * write into a ring; the work of telling pages (batching, JSON) is done only
 * while a page listens, so a busy chat with no console open pays next to nothing.
 */
export class ConsoleHub {
  readonly observer: GatewayObserver;
  private readonly ring: Array<TimelineEvent | undefined>;
  private head = 0; // where the next event goes
  private count = 0;
  private seq = 0;
  private readonly open = new Map<string, ConnectionRow>();
  private readonly closed = new Map<string, ConnectionRow>();
  private stack: StackView | undefined;
  private readonly listeners = new Set<HubListener>();
  private pending: TimelineEvent[] = [];
  private pendingStack: StackView | undefined;
  private skipped = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly closedKept: number;
  private readonly batchMs: number;
  private readonly maxBatch: number;
  private readonly now: () => number;

  constructor(options: HubOptions = {}) {
    this.ring = new Array<TimelineEvent | undefined>(Math.max(1, options.historySize ?? 5000));
    this.closedKept = options.closedKept ?? 200;
    this.batchMs = options.batchMs ?? 100;
    this.maxBatch = Math.max(1, options.maxBatch ?? 2000);
    this.now = options.now ?? Date.now;
    this.observer = {
      connect: (c) => this.connect(c),
      message: (m) => this.message(m),
      managed: (m) => this.managed(m),
    };
  }

  /** Follows the connections' lives in the @connections model (opened, closed); returns the unfollow. */
  follow(connections: { subscribe(listener: ConnectionListener): () => void }): () => void {
    return connections.subscribe((e) => this.connectionEvent(e));
  }

  record(e: NewEvent): TimelineEvent {
    return this.push({ ...e, seq: ++this.seq, at: e.at ?? this.now() } as TimelineEvent);
  }

  /** The hot path: the observer's methods build the whole event, seq included, and come here. */
  private push(event: TimelineEvent): TimelineEvent {
    this.ring[this.head] = event;
    this.head = (this.head + 1) % this.ring.length;
    if (this.count < this.ring.length) this.count++;
    if (this.listeners.size > 0) {
      this.pending.push(event);
      // A page that cannot keep up is told how much it missed rather than handed everything
      // (trimmed in slices: shifting the whole batch for every event would cost more than the event).
      if (this.pending.length >= 2 * this.maxBatch) this.trimPending();
      this.schedule();
    }
    return event;
  }

  /** The timeline, oldest first. */
  events(): TimelineEvent[] {
    const out: TimelineEvent[] = [];
    const start = (this.head - this.count + this.ring.length) % this.ring.length;
    for (let i = 0; i < this.count; i++) {
      const e = this.ring[(start + i) % this.ring.length];
      if (e) out.push(e);
    }
    return out;
  }

  connections(): ConnectionRow[] {
    return [...this.open.values(), ...this.closed.values()];
  }

  connection(id: string): ConnectionRow | undefined {
    return this.open.get(id) ?? this.closed.get(id);
  }

  setStack(view: StackView): void {
    this.stack = view;
    if (view.lastApply) this.record({ kind: "apply", ok: view.lastApply.ok, summary: view.lastApply.summary, at: view.lastApply.at });
    if (this.listeners.size > 0) {
      this.pendingStack = view;
      this.schedule();
    }
  }

  snapshot(): Snapshot {
    return { connections: this.connections(), events: this.events(), stack: this.stack, dropped: this.seq - this.count };
  }

  /** Batches of what happens from now on; returns the unsubscribe. Take a snapshot first. */
  subscribe(listener: HubListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) {
        clearTimeout(this.timer);
        this.timer = undefined;
        this.pending = [];
        this.pendingStack = undefined;
        this.skipped = 0;
      }
    };
  }

  get listening(): number {
    return this.listeners.size;
  }

  /** Sends what is pending now (the timer does it otherwise); for close and tests. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length > this.maxBatch) this.trimPending();
    if (this.pending.length === 0 && this.pendingStack === undefined && this.skipped === 0) return;
    const batch: Batch = { events: this.pending, skipped: this.skipped, ...(this.pendingStack ? { stack: this.pendingStack } : {}) };
    this.pending = [];
    this.pendingStack = undefined;
    this.skipped = 0;
    for (const l of this.listeners) {
      try {
        l(batch);
      } catch {
        // one broken page must not stop the others
      }
    }
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.listeners.clear();
  }

  private trimPending(): void {
    const over = this.pending.length - this.maxBatch;
    this.pending.splice(0, over);
    this.skipped += over;
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), this.batchMs);
    this.timer.unref();
  }

  /** The timeline's connect or refusal; the connection list follows the model (`follow`). */
  private connect(c: ObservedConnect): void {
    this.push({ kind: "connect", seq: ++this.seq, at: c.at, connectionId: c.connectionId, apiId: c.apiId, stage: c.stage, userAgent: c.userAgent, sourceIp: c.sourceIp, query: c.query, status: c.status, function: c.function, durationMs: c.durationMs });
  }

  /** A function's log line (every invocation writes some): built whole here, as the observer's events are. */
  log(functionName: string, level: string, message: string): void {
    this.push({ kind: "log", seq: ++this.seq, at: this.now(), function: functionName, level, message });
  }

  private connectionEvent(e: ConnectionEvent): void {
    if (e.type === "connected") {
      const c = e.connection;
      this.open.set(c.connectionId, {
        connectionId: c.connectionId,
        apiId: c.apiId,
        stage: c.stage,
        connectedAt: c.connectedAt,
        sourceIp: c.sourceIp,
        userAgent: c.userAgent,
        query: c.query ?? "",
        authorizer: c.authorizer ? authorizerOf(c.authorizer) : undefined,
        messagesIn: 0,
        messagesOut: 0,
        closed: undefined,
      });
    } else if (e.type === "disconnected") this.disconnected(e.connectionId, e.code, e.reason, e.at);
    // "posted": the observer of the @connections wire tells it, with the caller and the status the caller got.
  }

  private disconnected(id: string, code: number, reason: string, at: number): void {
    const row = this.open.get(id);
    if (row) {
      this.open.delete(id);
      row.closed = { at, code, reason };
      this.closed.set(id, row);
      if (this.closed.size > this.closedKept) {
        const oldest = this.closed.keys().next();
        if (!oldest.done) this.closed.delete(oldest.value);
      }
    }
    this.record({ kind: "disconnect", at, connectionId: id, code, reason });
  }

  private message(m: ObservedMessage): void {
    const row = this.open.get(m.connectionId);
    if (row) row.messagesIn++;
    this.push({ kind: "in", seq: ++this.seq, at: m.at, connectionId: m.connectionId, routeKey: m.routeKey, function: m.function, durationMs: m.durationMs, outcome: m.outcome, bytes: m.bytes, preview: m.preview });
  }

  private managed(m: ObservedManagement): void {
    if (m.method === "POST" && m.status === 200) {
      const row = this.open.get(m.connectionId);
      if (row) row.messagesOut++;
    }
    this.push({ kind: "out", seq: ++this.seq, at: m.at, connectionId: m.connectionId, method: m.method, status: m.status, bytes: m.bytes, preview: m.preview, function: m.caller });
  }
}

/** requestContext.authorizer holds principalId beside the context's keys; the console shows them apart. */
function authorizerOf(value: Readonly<Record<string, unknown>>): { principalId?: string; context: Record<string, unknown> } {
  const { principalId, ...context } = value;
  return typeof principalId === "string" ? { principalId, context } : { context };
}
