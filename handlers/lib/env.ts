/**
 * The table a handler uses. The reconciler sets TABLE_<NAME> for every table a
 * function may use, and TABLE_NAME when it has exactly one.
 */
export function tableName(logicalName: string, env: NodeJS.ProcessEnv = process.env): string {
  const specific = env[`TABLE_${logicalName.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`];
  const name = specific || env.TABLE_NAME;
  if (!name) {
    throw new Error(`no table configured: set TABLE_${logicalName.toUpperCase()} or TABLE_NAME`);
  }
  return name;
}

export function positiveIntEnv(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}
