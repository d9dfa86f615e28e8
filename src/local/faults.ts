import { AwsError, type BeforeCall, type OpInput } from "./service.js";

/**
 * Faults a test (or `chatctl dev --faults FILE`) asks the local cloud to inject,
 * per service and operation: an AWS error, a delay, or a dropped connection, at
 * the Nth matching call or with a probability drawn from a seeded generator, so
 * every run with the same seed fails the same calls.
 */
export interface FaultRule {
  readonly service?: string; // "lambda", "apigatewayv2", ... (any when absent)
  readonly operation?: string; // "CreateFunction" (any when absent)
  readonly error?: { readonly name: string; readonly message?: string; readonly status?: number };
  readonly delayMs?: number;
  readonly drop?: boolean; // the connection is cut before an answer is sent
  readonly nth?: number; // 1-based: the Nth matching call (and the `times - 1` after it)
  readonly probability?: number; // 0..1, drawn per matching call
  readonly times?: number; // how many calls to fault at most (default: 1 with nth, unbounded otherwise)
}

export interface FaultConfig {
  readonly seed?: number;
  readonly rules: readonly FaultRule[];
}

/** Thrown to make the front door cut the client's connection without an answer. */
export class DroppedConnection extends Error {
  readonly code = "ECONNRESET";
  constructor(service: string, operation: string) {
    super(`fault injected: connection dropped during ${service}.${operation}`);
    this.name = "DroppedConnection";
  }
}

// mulberry32: tiny, fast and good enough to make injected faults reproducible.
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface InjectedFault {
  readonly service: string;
  readonly operation: string;
  readonly kind: "error" | "delay" | "drop";
}

export class FaultInjector {
  private readonly random: () => number;
  private readonly seen: number[];
  private readonly fired: number[];
  readonly injected: InjectedFault[] = [];

  constructor(readonly config: FaultConfig) {
    this.random = seeded(config.seed ?? 1);
    this.seen = config.rules.map(() => 0);
    this.fired = config.rules.map(() => 0);
  }

  readonly before: BeforeCall = async (service: string, operation: string, _input: OpInput) => {
    for (const [i, rule] of this.config.rules.entries()) {
      if (rule.service !== undefined && rule.service !== service) continue;
      if (rule.operation !== undefined && rule.operation !== operation) continue;
      const count = ++this.seen[i]!;
      const limit = rule.times ?? (rule.nth !== undefined ? 1 : Number.POSITIVE_INFINITY);
      if (this.fired[i]! >= limit) continue;
      const hit = rule.nth !== undefined ? count >= rule.nth : rule.probability !== undefined ? this.random() < rule.probability : true;
      if (!hit) continue;
      this.fired[i]!++;
      if (rule.delayMs) {
        this.injected.push({ service, operation, kind: "delay" });
        await new Promise((r) => setTimeout(r, rule.delayMs));
      }
      if (rule.drop) {
        this.injected.push({ service, operation, kind: "drop" });
        throw new DroppedConnection(service, operation);
      }
      if (rule.error) {
        this.injected.push({ service, operation, kind: "error" });
        throw new AwsError(rule.error.name, rule.error.message ?? `fault injected into ${service}.${operation}`, rule.error.status ?? 400);
      }
    }
  };
}

const RULE_KEYS = new Set(["service", "operation", "error", "delayMs", "drop", "nth", "probability", "times"]);

/** Validates a fault configuration read from a file, with messages a person can act on. */
export function parseFaultConfig(text: string, source: string): FaultConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${source}: not valid JSON (${(err as Error).message})`);
  }
  const shape = `expected {"seed"?: number, "rules": [{"service"?, "operation"?, "error"?: {"name", "message"?, "status"?}, "delayMs"?, "drop"?, "nth"?, "probability"?, "times"?}]}`;
  if (typeof raw !== "object" || raw === null || !Array.isArray((raw as { rules?: unknown }).rules)) throw new Error(`${source}: ${shape}`);
  const config = raw as { seed?: unknown; rules: unknown[] };
  if (config.seed !== undefined && !Number.isInteger(config.seed)) throw new Error(`${source}: "seed" must be a whole number`);
  config.rules.forEach((rule, i) => {
    const at = `${source}: rules[${i}]`;
    if (typeof rule !== "object" || rule === null || Array.isArray(rule)) throw new Error(`${at} must be an object; ${shape}`);
    const r = rule as Record<string, unknown>;
    for (const key of Object.keys(r)) if (!RULE_KEYS.has(key)) throw new Error(`${at}: unknown key "${key}" (allowed: ${[...RULE_KEYS].join(", ")})`);
    for (const key of ["service", "operation"]) if (r[key] !== undefined && typeof r[key] !== "string") throw new Error(`${at}.${key} must be text`);
    for (const key of ["delayMs", "nth", "times"]) {
      if (r[key] !== undefined && !(Number.isInteger(r[key]) && (r[key] as number) >= 0)) throw new Error(`${at}.${key} must be a whole number >= 0`);
    }
    if (r.probability !== undefined && !(typeof r.probability === "number" && r.probability >= 0 && r.probability <= 1)) {
      throw new Error(`${at}.probability must be a number from 0 to 1`);
    }
    if (r.drop !== undefined && typeof r.drop !== "boolean") throw new Error(`${at}.drop must be true or false`);
    if (r.error !== undefined) {
      const e = r.error as Record<string, unknown> | null;
      if (typeof e !== "object" || e === null || typeof e.name !== "string") throw new Error(`${at}.error must be {"name": "<AWS error code>", "message"?, "status"?}`);
    }
    if (r.error === undefined && r.delayMs === undefined && r.drop !== true) throw new Error(`${at} injects nothing: give "error", "delayMs" or "drop": true`);
  });
  return raw as FaultConfig;
}
