import type { Actual, AnyResourceKind, Change, Ctx, ResolvedResource } from "../resources/kind.js";
import type { Action, Outcome, Plan, Step } from "../plan/types.js";
import { resolveProps, type Outputs } from "../resources/refs.js";
import { walk } from "../graph/walk.js";
import { namedErrorMessage } from "../errors.js";

/** What a progress view needs to name a step. */
export interface StepInfo {
  readonly id: string;
  readonly kind: string;
  readonly name: string;
  readonly action: Action;
}

export type ApplyEvent =
  | { readonly type: "started"; readonly step: StepInfo }
  | {
      readonly type: "retrying";
      readonly step: StepInfo;
      /** The attempt that is about to be made (2 for the first retry). */
      readonly attempt: number;
      readonly maxAttempts: number;
      readonly reason: string;
      readonly delayMs: number;
      readonly error: string;
    }
  | {
      readonly type: "finished";
      readonly step: StepInfo;
      readonly outcome: Outcome;
      readonly ms: number;
      /** Set when outcome is "failed". */
      readonly error?: string;
      /** Set when skipped because a step it depends on (maybe indirectly) failed. */
      readonly blockedBy?: StepInfo;
      /** Set when skipped because the apply was interrupted first. */
      readonly interrupted?: boolean;
    };

export interface StepResult {
  readonly step: StepInfo;
  readonly outcome: Outcome;
  readonly ms: number;
  readonly attempts: number;
  readonly error?: string;
  readonly blockedBy?: StepInfo;
}

export interface ApplyResult {
  readonly mode: Plan["mode"];
  /** True when every step ended created, updated, replaced, deleted or unchanged. */
  readonly ok: boolean;
  readonly interrupted: boolean;
  /** One per step, in plan order. */
  readonly steps: readonly StepResult[];
  readonly outcomes: Readonly<Record<string, Outcome>>;
  /** Outputs of everything that exists after the apply (as far as it got). */
  readonly outputs: Outputs;
  /** The root failures only: steps skipped because of them are not repeated here. */
  readonly errors: ReadonlyArray<{ readonly step: StepInfo; readonly message: string; readonly error: unknown }>;
}

export interface ExecuteDeps {
  readonly ctx: Ctx;
  readonly registry: Readonly<Record<string, AnyResourceKind>>;
  readonly isRetryable: (err: unknown) => { readonly retry: boolean; readonly reason?: string };
  /** Steps in flight at once (default 8). */
  readonly concurrency?: number;
  /** Tries per call to a kind, the first included (default 5). */
  readonly maxAttempts?: number;
  /** Delay before retry number `attempt` (1 for the first retry). Default: exponential with jitter. */
  readonly backoff?: (attempt: number) => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly onEvent?: (e: ApplyEvent) => void;
  /** Once aborted, no new step starts; steps in flight finish. */
  readonly signal?: AbortSignal;
  /** Clock for durations (ms). */
  readonly now?: () => number;
}

export function defaultBackoff(attempt: number): number {
  const ceiling = Math.min(20_000, 500 * 2 ** (attempt - 1));
  // Jitter spreads retries of parallel steps that failed together (throttling).
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

/**
 * Runs the plan's steps on the graph walker: a step starts once every step it
 * depends on has succeeded; independent steps run in parallel up to the bound.
 * When a step fails, everything that depends on it is skipped (and reported as
 * blocked by that failure), and the rest goes on. This file gives a step its
 * meaning (retries, Refs, outputs); all it knows of AWS is what the kinds do.
 */
export async function executePlan(plan: Plan, deps: ExecuteDeps): Promise<ApplyResult> {
  const now = deps.now ?? (() => performance.now());
  const emit = deps.onEvent ?? (() => {});
  const outputs: Record<string, Record<string, string>> = {};
  for (const [id, o] of Object.entries(plan.outputs)) outputs[id] = { ...o };

  const byId = new Map(plan.steps.map((s) => [s.id, s]));
  const results = new Map<string, StepResult>();
  const errors: Array<{ step: StepInfo; message: string; error: unknown }> = [];
  const finish = (result: StepResult, event: ApplyEvent | undefined) => {
    results.set(result.step.id, result);
    if (event) emit(event);
  };

  // Unchanged steps are done before the walk starts: they neither run nor block anything.
  for (const step of plan.steps) {
    if (step.action === "noop") finish({ step: info(step), outcome: "unchanged", ms: 0, attempts: 0 }, undefined);
  }

  // What the walker cannot see: how many tries and how long a step took, even when it failed.
  const runs = new Map<string, { readonly started: number; readonly attempts: { count: number } }>();
  const visit = async (id: string): Promise<Outcome> => {
    const step = byId.get(id)!;
    const attempts = { count: 0 };
    runs.set(id, { started: now(), attempts });
    emit({ type: "started", step: info(step) });
    return runStep(step, deps, outputs, attempts);
  };

  const walked = await walk(
    plan.steps.filter((s) => s.action !== "noop").map((s) => ({ id: s.id, dependsOn: s.dependsOn })),
    visit,
    {
      ...(deps.concurrency === undefined ? {} : { concurrency: deps.concurrency }),
      ...(deps.signal === undefined ? {} : { signal: deps.signal }),
      onSettled: (id, r) => {
        const step = info(byId.get(id)!);
        const run = runs.get(id);
        const ms = run === undefined ? 0 : now() - run.started;
        const attempts = run?.attempts.count ?? 0;
        switch (r.status) {
          case "done":
            return finish({ step, outcome: r.value, ms, attempts }, { type: "finished", step, outcome: r.value, ms });
          case "failed": {
            const message = namedErrorMessage(r.error);
            errors.push({ step, message, error: r.error });
            return finish({ step, outcome: "failed", ms, attempts, error: message }, { type: "finished", step, outcome: "failed", ms, error: message });
          }
          case "skipped": {
            const blockedBy = info(byId.get(r.cause)!);
            return finish({ step, outcome: "skipped", ms: 0, attempts: 0, blockedBy }, { type: "finished", step, outcome: "skipped", ms: 0, blockedBy });
          }
          case "cancelled":
            return finish({ step, outcome: "skipped", ms: 0, attempts: 0 }, { type: "finished", step, outcome: "skipped", ms: 0, interrupted: true });
          case "cycle": {
            // Nothing runs and nothing is ready: these wait on each other. A planner bug, never the user's.
            const message = "its dependencies form a cycle (a bug in chatctl's plan)";
            errors.push({ step, message, error: new Error(message) });
            return finish({ step, outcome: "failed", ms: 0, attempts: 0, error: message }, { type: "finished", step, outcome: "failed", ms: 0, error: message });
          }
        }
      },
    },
  );

  const interrupted = walked.interrupted;
  const steps = plan.steps.map((s) => results.get(s.id)!);
  const outcomes: Record<string, Outcome> = {};
  for (const r of steps) outcomes[r.step.id] = r.outcome;
  return {
    mode: plan.mode,
    ok: steps.every((r) => isDone(r)) && !interrupted,
    interrupted,
    steps,
    outcomes,
    outputs,
    errors,
  };
}

function isDone(r: StepResult | undefined): boolean {
  return r !== undefined && r.outcome !== "failed" && r.outcome !== "skipped";
}

async function runStep(step: Step, deps: ExecuteDeps, outputs: Record<string, Record<string, string>>, attempts: { count: number }): Promise<Outcome> {
  const kind = deps.registry[step.kind];
  if (kind === undefined) throw new Error(`no resource kind "${step.kind}" is registered`);
  const retrying = <T>(call: () => Promise<T>) => withRetries(step, deps, call, attempts);

  switch (step.action) {
    case "noop":
      return "unchanged";
    case "create": {
      const resolved = resolveDesired(step, outputs);
      const actual = await retrying(() => kind.create(deps.ctx, resolved));
      recordOutputs(outputs, kind, deps.ctx, resolved, actual);
      return "created";
    }
    case "update": {
      const resolved = resolveDesired(step, outputs);
      const changes = resolveOrFail<Change[]>(step.changes, outputs, step);
      const actual = await retrying(() => kind.update(deps.ctx, resolved, requireActual(step), changes));
      recordOutputs(outputs, kind, deps.ctx, resolved, actual);
      return "updated";
    }
    case "replace": {
      // Resolve before deleting: a bug must not cost the old resource.
      const resolved = resolveDesired(step, outputs);
      const old = requireActual(step);
      await retrying(() => kind.delete(deps.ctx, old));
      delete outputs[step.id];
      const actual = await retrying(() => kind.create(deps.ctx, resolved));
      recordOutputs(outputs, kind, deps.ctx, resolved, actual);
      return "replaced";
    }
    case "delete": {
      const old = requireActual(step);
      await retrying(() => kind.delete(deps.ctx, old));
      delete outputs[step.id];
      return "deleted";
    }
  }
}

function resolveDesired(step: Step, outputs: Outputs): ResolvedResource {
  if (step.desired === undefined) throw new Error(`step ${step.id} (${step.action}) carries no desired resource (a bug in chatctl's plan)`);
  const props = resolveOrFail<unknown>(step.desired.props, outputs, step);
  return { id: step.desired.id, kind: step.desired.kind, name: step.desired.name, props };
}

function resolveOrFail<T>(value: unknown, outputs: Outputs, step: Step): T {
  const r = resolveProps<T>(value, outputs);
  if (r.resolved) return r.value;
  const names = r.missing.map((m) => `${m.$ref}.${m.output}`).join(", ");
  // Every Ref names a step this one waits for, so by now it must be known.
  throw new Error(`unresolved reference to ${names} (a bug in chatctl's plan: ${step.id} does not wait for it)`);
}

function requireActual(step: Step): Actual<unknown> {
  if (step.actual === undefined) throw new Error(`step ${step.id} (${step.action}) carries no actual resource (a bug in chatctl's plan)`);
  return step.actual;
}

function recordOutputs(outputs: Record<string, Record<string, string>>, kind: AnyResourceKind, ctx: Ctx, d: ResolvedResource, actual: Actual<unknown>) {
  outputs[d.id] = { ...kind.knownOutputs?.(ctx, d), ...actual.outputs };
}

async function withRetries<T>(step: Step, deps: ExecuteDeps, call: () => Promise<T>, attempts: { count: number }): Promise<T> {
  const maxAttempts = Math.max(1, deps.maxAttempts ?? 5);
  const backoff = deps.backoff ?? defaultBackoff;
  const sleep = deps.sleep ?? ((ms: number) => abortableSleep(ms, deps.signal));
  for (let attempt = 1; ; attempt++) {
    attempts.count++;
    try {
      return await call();
    } catch (error) {
      const verdict = deps.isRetryable(error);
      if (!verdict.retry || attempt >= maxAttempts || deps.signal?.aborted) throw error;
      const delayMs = backoff(attempt);
      deps.onEvent?.({
        type: "retrying",
        step: info(step),
        attempt: attempt + 1,
        maxAttempts,
        reason: verdict.reason ?? "retryable error",
        delayMs,
        error: namedErrorMessage(error),
      });
      await sleep(delayMs);
      if (deps.signal?.aborted) throw new Error(`interrupted while waiting to retry (last error: ${namedErrorMessage(error)})`);
    }
  }
}

function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

function info(step: Step): StepInfo {
  return { id: step.id, kind: step.kind, name: step.name, action: step.action };
}
