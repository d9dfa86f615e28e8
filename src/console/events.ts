/**
 * What the dev console's page receives from the dev server: the shapes are
 * shared by the hub (server side) and the page (ui/), so both agree on them.
 * Plain JSON only: everything here goes over server-sent events.
 */

import type { OpenConnection } from "../local/models/connections.js";

/** A connection as the @connections model holds it, with what the console adds: its counts and how it closed. */
export interface ConnectionRow extends Pick<OpenConnection, "connectionId" | "apiId" | "stage" | "connectedAt" | "sourceIp" | "userAgent"> {
  readonly query: string;
  /** The authorizer's principal and context, when the connection went through one. */
  readonly authorizer: { readonly principalId?: string; readonly context?: Readonly<Record<string, unknown>> } | undefined;
  messagesIn: number;
  messagesOut: number;
  closed: { readonly at: number; readonly code: number; readonly reason: string } | undefined;
}

interface Base {
  /** Increases by one per event, from 1: the page tells what it has seen by it. */
  readonly seq: number;
  readonly at: number;
}

export type TimelineEvent =
  | (Base & {
      readonly kind: "connect";
      readonly connectionId: string;
      readonly apiId: string;
      readonly stage: string;
      readonly userAgent: string | undefined;
      readonly sourceIp: string;
      readonly query: string;
      /** 200 for an accepted connection, the refusal's status otherwise. */
      readonly status: number;
      readonly function: string | undefined;
      readonly durationMs: number | undefined;
    })
  | (Base & { readonly kind: "disconnect"; readonly connectionId: string; readonly code: number; readonly reason: string })
  | (Base & {
      readonly kind: "in";
      readonly connectionId: string;
      readonly routeKey: string | undefined;
      readonly function: string | undefined;
      readonly durationMs: number | undefined;
      readonly outcome: string;
      readonly bytes: number;
      readonly preview: string;
    })
  | (Base & {
      readonly kind: "out";
      readonly connectionId: string;
      /** POST (a message), DELETE (a kick), GET. */
      readonly method: string;
      readonly status: number;
      readonly bytes: number;
      readonly preview: string;
      readonly function: string | undefined;
    })
  | (Base & { readonly kind: "log"; readonly function: string; readonly level: string; readonly message: string })
  | (Base & { readonly kind: "error"; readonly message: string })
  | (Base & { readonly kind: "apply"; readonly ok: boolean; readonly summary: string });

export type TimelineKind = TimelineEvent["kind"];

/** Distributes over the union, so each variant keeps its own fields. */
export type NewEvent = TimelineEvent extends infer E ? (E extends TimelineEvent ? Omit<E, "seq" | "at"> & { at?: number } : never) : never;

export interface StackResource {
  readonly kind: string;
  readonly name: string;
  /** How the last apply left it: created, updated, unchanged, failed... */
  readonly state: string;
}

export interface StackView {
  readonly stack: string;
  readonly region: string;
  readonly stages: ReadonlyArray<{ readonly stage: string; readonly url: string }>;
  readonly resources: readonly StackResource[];
  readonly lastApply: { readonly at: number; readonly ok: boolean; readonly summary: string } | undefined;
}

/** The first message of a stream, and GET /@console/state. */
export interface Snapshot {
  readonly connections: readonly ConnectionRow[];
  readonly events: readonly TimelineEvent[];
  readonly stack: StackView | undefined;
  /** Events older than the oldest in `events` that the bounded history let go. */
  readonly dropped: number;
}

/** Every later message of a stream: what happened since the last one. */
export interface Batch {
  readonly events: readonly TimelineEvent[];
  readonly stack?: StackView;
  /** Events the stream skipped because the page fell behind (it is told, not frozen). */
  readonly skipped: number;
}
