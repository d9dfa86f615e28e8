import type { AwsConfig } from "../aws/clients.js";
import { UserError, describeFailure } from "../errors.js";
import { formatDiagnostics } from "../spec/diagnostics.js";
import { specFileForStack } from "../spec/find.js";
import { PlanFileError } from "../plan/file.js";
import { ReadStateError } from "../plan/read.js";
import { prepareStack, type PreparedStack } from "../stack/prepare.js";
import { acquireStackLock, type StackLock } from "../stack/lock.js";
import type { Plan } from "../plan/types.js";
import type { AppIO } from "./io.js";

// What plan, apply, destroy and status share once their heavy modules are loaded.

/** Which stack a use case works on, and how to reach its account. */
export interface StackTarget {
  /** The spec the user named (-f); undefined: ./chat.yaml, or the one found by `stack`. */
  readonly specFile?: string | undefined;
  /** The stack the user named (the original script's `destroy my-chat`): it finds the spec. */
  readonly stack?: string | undefined;
  /**
   * The AWS configuration for the region the spec resolves to; `savedEndpoint`
   * (a saved plan's) is used when the user named no endpoint.
   */
  readonly awsConfig: (specRegion: string, savedEndpoint?: string) => AwsConfig;
  /** The spec's environment (--env / CHATCTL_ENV). */
  readonly environment?: string | undefined;
}

/** The spec file a target means. */
export function specFileOf(target: StackTarget): string {
  return specFileForStack(target.stack, target.specFile ?? "chat.yaml", target.specFile !== undefined);
}

/** A stack named by the user must be the one its spec describes. */
export function refuseOtherStack(specFile: string, specStack: string, named: string | undefined): void {
  if (named !== undefined && named !== specStack) {
    throw new UserError(`${specFile} describes stack ${specStack}, not ${named}; name the right file with -f`);
  }
}

export async function prepare(specFile: string, target: StackTarget, io: AppIO, opts: { bundle: boolean }): Promise<PreparedStack> {
  const p = await prepareStack(specFile, { awsConfig: target.awsConfig, bundle: opts.bundle, color: io.color, environment: target.environment });
  if (p.warnings.length > 0) io.err(formatDiagnostics(p.warnings, { color: io.color }).replace(/\n+$/, ""));
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

/** Runs `body` holding the stack's lock, waiting up to `timeoutMs` for another run's. */
export async function withLock<T>(p: PreparedStack, io: AppIO, operation: string, timeoutMs: number, body: () => Promise<T>): Promise<T> {
  const lock: StackLock = await acquireStackLock(p.clients, p.spec.stack, {
    operation,
    timeoutMs,
    onWait: (h) => io.err(`Waiting for the lock on stack ${p.spec.stack}: held by ${h.owner} (${h.operation}) since ${h.since}...`),
  });
  try {
    return await body();
  } finally {
    await lock.release().catch(() => io.err(`warning: could not release the lock on stack ${p.spec.stack}; it lapses within 30s`));
  }
}

/** Ctrl-C once: finish the steps in flight, start nothing new. Twice: stop now. */
export function interruptible(io: AppIO): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  let presses = 0;
  const onSigint = () => {
    presses++;
    if (presses === 1) {
      io.err("\nInterrupt received: finishing the steps in flight, starting no new ones (Ctrl-C again to stop at once).");
      controller.abort();
    } else {
      process.exit(130);
    }
  };
  process.on("SIGINT", onSigint);
  return { signal: controller.signal, dispose: () => process.off("SIGINT", onSigint) };
}
