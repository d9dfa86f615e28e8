import { createHash } from "node:crypto";
import type { Actual, Ref } from "../resources/kind.js";
import type { Outputs } from "../resources/refs.js";

/**
 * What reading found for one desired resource:
 * - present: it exists (owned or not: the planner decides);
 * - absent: it does not exist;
 * - unknown-parent: its Refs name a resource that does not exist yet, so it
 *   cannot exist either (a route of an API that is not there).
 */
export type ReadState =
  | { readonly status: "present"; readonly actual: Actual<unknown> }
  | { readonly status: "absent" }
  | { readonly status: "unknown-parent"; readonly missing: readonly Ref[] };

/** A resource that carries our stack's mark but that no desired resource names any more. */
export interface Orphan {
  readonly kind: string;
  readonly logicalId: string;
  readonly actual: Actual<unknown>;
}

/** Everything read before planning: the planner's only view of the world. */
export interface StateSnapshot {
  readonly resources: Readonly<Record<string, ReadState>>;
  /** Outputs of what exists, with the kinds' derivable (known) outputs merged in. */
  readonly outputs: Outputs;
  readonly orphans: readonly Orphan[];
}

/**
 * sha256 over what was read (physical ids, attributes, ownership, data), in a
 * key-order-independent form. A saved plan whose fingerprint differs from a
 * fresh read was made against a world that has since changed.
 */
export function fingerprintSnapshot(snapshot: StateSnapshot): string {
  const resources = Object.keys(snapshot.resources)
    .sort()
    .map((id) => {
      const state = snapshot.resources[id]!;
      return state.status === "present" ? { id, status: state.status, ...normalizeActual(state.actual) } : { id, status: state.status };
    });
  const orphans = snapshot.orphans
    .map((o) => ({ kind: o.kind, logicalId: o.logicalId, ...normalizeActual(o.actual) }))
    .sort((a, b) => compareStrings(`${a.kind}\0${a.logicalId}\0${a.physicalId}`, `${b.kind}\0${b.logicalId}\0${b.physicalId}`));
  return createHash("sha256").update(stableStringify({ resources, orphans })).digest("hex");
}

function normalizeActual(a: Actual<unknown>) {
  return {
    physicalId: a.physicalId,
    attributes: a.attributes,
    ownership: a.ownership,
    holdsData: a.holdsData === true,
  };
}

/** JSON with object keys sorted, so equal data always gives equal text. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(normalize(value)) ?? "null";
}

function normalize(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : normalize(v)));
  if (value instanceof Map) return normalize(Object.fromEntries(value));
  if (value instanceof Set) return normalize([...value]);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = normalize(v);
    }
    return out;
  }
  return value;
}

/** Locale-independent ordering, so output does not change with the user's environment. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
