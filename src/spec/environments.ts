// One spec, several environments: each environment is the top level with its
// overrides laid over it, under its own stack name. The merge works on the raw
// value (before zod fills defaults) so an override changes only what it names.

import type { Finding } from "./findings.js";
import { quote } from "./findings.js";

type Plain = Record<string, unknown>;

const isPlain = (v: unknown): v is Plain => typeof v === "object" && v !== null && !Array.isArray(v);

/** Stack names are at most this long (see StackName in schema.ts). */
const MAX_STACK = 24;

/** The environment names a raw spec declares, in file order. */
export function environmentNames(value: unknown): string[] {
  return isPlain(value) && isPlain(value.environments) ? Object.keys(value.environments) : [];
}

/**
 * What the schema cannot say about overrides: they may change only functions and
 * tables the top level defines, and the environment's stack name must still be a
 * valid stack name.
 */
export function environmentFindings(value: unknown): Finding[] {
  if (!isPlain(value) || !isPlain(value.environments)) return [];
  const out: Finding[] = [];
  const stack = typeof value.stack === "string" ? value.stack : "";
  for (const [name, env] of Object.entries(value.environments)) {
    if (stack !== "" && `${stack}-${name}`.length > MAX_STACK) {
      out.push({
        severity: "error",
        path: ["environments", name],
        on: "key",
        summary: `environments.${name}: its stack name ${quote(`${stack}-${name}`)} is longer than ${MAX_STACK} characters; shorten the stack or environment name`,
      });
    }
    if (!isPlain(env)) continue;
    for (const section of ["functions", "tables"] as const) {
      const overrides = env[section];
      const defined = isPlain(value[section]) ? value[section] : {};
      if (!isPlain(overrides)) continue;
      for (const key of Object.keys(overrides)) {
        if (Object.hasOwn(defined, key)) continue;
        out.push({
          severity: "error",
          path: ["environments", name, section, key],
          on: "key",
          summary: `environments.${name}.${section}: ${quote(key)} is not defined at the top level`,
          detail: `an environment changes the settings of ${section} the top level defines; add ${key} under ${section}: first`,
        });
      }
    }
  }
  return out;
}

/** The raw spec of one environment: the top level with `name`'s overrides laid over it. */
export function applyEnvironment(value: Plain, name: string): Plain {
  const envs = isPlain(value.environments) ? value.environments : {};
  const env = envs[name];
  const { environments: _all, ...base } = value;
  const { account: _account, ...overrides } = isPlain(env) ? env : {};
  const merged = merge(base, overrides);
  merged.stack = `${String(value.stack)}-${name}`;
  // A fixed API name would be shared by every environment; keep them apart.
  const api = merged.api;
  const ownName = isPlain(overrides.api) && overrides.api.name !== undefined;
  if (isPlain(api) && typeof api.name === "string" && !ownName) merged.api = { ...api, name: `${api.name}-${name}` };
  return merged;
}

/** The account an environment is pinned to, if any. */
export function environmentAccount(value: unknown, name: string): string | undefined {
  if (!isPlain(value) || !isPlain(value.environments)) return undefined;
  const env = value.environments[name];
  return isPlain(env) && typeof env.account === "string" ? env.account : undefined;
}

function merge(base: Plain, over: Plain): Plain {
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlain(b) && isPlain(v) ? merge(b, v) : v;
  }
  return out;
}
