/**
 * A value that is only known once another resource exists (an API id, a
 * deployment id). The planner shows it as "(known after apply)"; the executor
 * replaces it with the referenced resource's output before calling a kind.
 */
export interface Ref {
  readonly $ref: string; // logical id of the resource, e.g. "api"
  readonly output: string; // one of that resource's outputs, e.g. "apiId"
  readonly format?: string; // "{}" in it is replaced by the value, e.g. "integrations/{}"
}

export function ref(id: string, output: string, format?: string): Ref {
  return format === undefined ? { $ref: id, output } : { $ref: id, output, format };
}

export function isRef(v: unknown): v is Ref {
  return typeof v === "object" && v !== null && typeof (v as { $ref?: unknown }).$ref === "string";
}

/** Props as written in the desired graph: any string may instead be a Ref. */
export type Unresolved<T> = T extends Ref
  ? Ref
  : T extends string
  ? string | Ref
  : T extends readonly (infer U)[]
    ? Unresolved<U>[]
    : T extends object
      ? { [K in keyof T]: Unresolved<T[K]> }
      : T;

/** Outputs by logical id, then by output name: what Refs resolve to. */
export type Outputs = Readonly<Record<string, Readonly<Record<string, string>>>>;

export type Resolution<T = unknown> =
  | { readonly resolved: true; readonly value: T }
  | { readonly resolved: false; readonly missing: readonly Ref[] };

/** Shown wherever a value depends on a resource that does not exist yet (Terraform's wording). */
export const KNOWN_AFTER_APPLY = "(known after apply)";

/** The value a single Ref stands for, or undefined when its resource has no such output (yet). */
export function resolveRef(r: Ref, outputs: Outputs): string | undefined {
  const value = outputs[r.$ref]?.[r.output];
  if (value === undefined) return undefined;
  return r.format === undefined ? value : r.format.split("{}").join(value);
}

/**
 * Replaces every Ref in `props`, however deep, by the output it names. All
 * missing Refs are reported at once, so a caller can say everything a resource
 * is still waiting for. The input is never mutated.
 */
export function resolveProps<T = unknown>(props: unknown, outputs: Outputs): Resolution<T> {
  const missing: Ref[] = [];
  const value = mapRefs(props, (r) => {
    const v = resolveRef(r, outputs);
    if (v === undefined) missing.push(r);
    return v ?? r;
  });
  return missing.length > 0 ? { resolved: false, missing: dedupeRefs(missing) } : { resolved: true, value: value as T };
}

export function containsRef(value: unknown): boolean {
  return collectRefs(value).length > 0;
}

/** Every distinct Ref in a value, in the order first met. */
export function collectRefs(value: unknown): Ref[] {
  const found: Ref[] = [];
  mapRefs(value, (r) => {
    found.push(r);
    return r;
  });
  return dedupeRefs(found);
}

/** For rendering: every Ref becomes "(known after apply)"; everything else is kept as is. */
export function knownOrUnknown(value: unknown): unknown {
  return mapRefs(value, () => KNOWN_AFTER_APPLY);
}

export function refKey(r: Ref): string {
  return r.format === undefined ? `${r.$ref}.${r.output}` : `${r.$ref}.${r.output}|${r.format}`;
}

/** Deep copy of plain data with each Ref replaced by `f(ref)`. */
export function mapRefs(value: unknown, f: (r: Ref) => unknown): unknown {
  if (isRef(value)) return f(value);
  if (Array.isArray(value)) return value.map((v) => mapRefs(v, f));
  if (isPlainObject(value)) {
    // fromEntries, not assignment: a "__proto__" key stays an ordinary key.
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapRefs(v, f)]));
  }
  return value;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function dedupeRefs(refs: readonly Ref[]): Ref[] {
  const seen = new Set<string>();
  const out: Ref[] = [];
  for (const r of refs) {
    const key = refKey(r);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(r);
  }
  return out;
}
