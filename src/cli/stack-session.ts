import { UserError } from "../errors.js";
import { formatDiagnostics } from "../spec/diagnostics.js";
import { PlanFileError } from "../plan/file.js";
import { ReadStateError } from "../plan/read.js";
import { prepareStack, type PreparedStack } from "../stack/prepare.js";
import { acquireStackLock, type StackLock } from "../stack/lock.js";
import type { Plan } from "../plan/types.js";
import type { StackCommand } from "./stack-base.js";
import { parseDuration } from "./stack-base.js";
import { describeFailure } from "./base.js";

// What plan, apply, destroy and status share once their heavy modules are loaded.

export async function prepare(cmd: StackCommand, opts: { bundle: boolean; file?: string }): Promise<PreparedStack> {
  const p = await prepareStack(opts.file ?? cmd.file, { awsConfig: (r) => cmd.awsConfig(r), bundle: opts.bundle, color: cmd.color });
  if (p.warnings.length > 0) cmd.err(formatDiagnostics(p.warnings, { color: cmd.color }).replace(/\n+$/, ""));
  return p;
}

/** Turns failures of the core into sentences; anything else is rethrown as our bug. */
export function explain(err: unknown): never {
  if (err instanceof ReadStateError) {
    const lines = err.failures.map((f) => `  ${f.id} (${f.kind}): ${describeFailure(f.error)?.replace(/^error: /, "") ?? String(f.error)}`);
    throw new UserError(`could not read the current state of the stack:\n${lines.join("\n")}`);
  }
  if (err instanceof PlanFileError) throw new UserError(err.message);
  throw err;
}

export function refuseConflicts(plan: Plan): void {
  if (plan.conflicts.length === 0) return;
  const lines = plan.conflicts.map((c) => `  - ${c.message}`);
  throw new UserError(
    `refusing to ${plan.mode}: ${plan.conflicts.length === 1 ? "a resource" : `${plan.conflicts.length} resources`} with this stack's names ` +
      `${plan.conflicts.length === 1 ? "is" : "are"} not managed by stack ${plan.stack}:\n${lines.join("\n")}\n` +
      `Rename the stack, or remove or re-tag those resources yourself; chatctl never touches what it does not own.`,
  );
}

export async function withLock<T>(cmd: StackCommand & { lockTimeout: string }, p: PreparedStack, operation: string, body: () => Promise<T>): Promise<T> {
  const timeoutMs = parseDuration(cmd.lockTimeout, "--lock-timeout");
  const lock: StackLock = await acquireStackLock(p.clients, p.spec.stack, {
    operation,
    timeoutMs,
    onWait: (h) => cmd.err(`Waiting for the lock on stack ${p.spec.stack}: held by ${h.owner} (${h.operation}) since ${h.since}...`),
  });
  try {
    return await body();
  } finally {
    await lock.release().catch(() => cmd.err(`warning: could not release the lock on stack ${p.spec.stack}; it lapses within 30s`));
  }
}

/** Ctrl-C once: finish the steps in flight, start nothing new. Twice: stop now. */
export function interruptible(cmd: StackCommand): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  let presses = 0;
  const onSigint = () => {
    presses++;
    if (presses === 1) {
      cmd.err("\nInterrupt received: finishing the steps in flight, starting no new ones (Ctrl-C again to stop at once).");
      controller.abort();
    } else {
      process.exit(130);
    }
  };
  process.on("SIGINT", onSigint);
  return { signal: controller.signal, dispose: () => process.off("SIGINT", onSigint) };
}
