import { UsageError } from "clipanion";

/**
 * `<api-id> <stage> <connection-id> ...` or, with a stack name, `<stack> <connection-id> ...`:
 * the command's fixed trailing arguments come after.
 */
export function splitTarget(args: readonly string[], trailing: number, usage: string): { api: string; stage: string | undefined; connectionId: string; rest: string[] } {
  const head = args.length - trailing;
  if (head === 3) return { api: args[0] ?? "", stage: args[1], connectionId: args[2] ?? "", rest: args.slice(3) };
  if (head === 2) return { api: args[0] ?? "", stage: undefined, connectionId: args[1] ?? "", rest: args.slice(2) };
  throw new UsageError(`expected ${usage}`);
}
