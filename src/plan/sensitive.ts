import type { Change } from "../resources/kind.js";

// Plans are printed in CI logs and posted on pull requests: values whose names say
// they are secrets are shown as (sensitive), as Terraform does. Saved plan files keep
// them (apply needs them) and are written owner-only.

const SECRET_NAME = /(secret|token|passw(or)?d|pwd|api_?key|private|credential|auth)/i;
export const REDACTED = "(sensitive)";

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

function redactMap(value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, isSecretName(k) ? REDACTED : v]));
}

/** The change as it may be shown: environment variables with secret-looking names hidden. */
export function redactChange(c: Change): Change {
  if (c.path === "environment") return { ...c, before: redactMap(c.before), after: redactMap(c.after) };
  const key = c.path.startsWith("environment.") ? c.path.slice("environment.".length) : undefined;
  if (key !== undefined && isSecretName(key)) {
    return { ...c, before: c.before === undefined ? undefined : REDACTED, after: c.after === undefined ? undefined : REDACTED };
  }
  return c;
}
