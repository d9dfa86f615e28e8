import { createHash } from "node:crypto";
import { isRetryable } from "../aws/errors.js";
import { executePlan, type ApplyEvent, type ApplyResult, type ExecuteDeps } from "../apply/executor.js";
import { planChanges } from "../plan/planner.js";
import { readState } from "../plan/read.js";
import { stableStringify, type StateSnapshot } from "../plan/snapshot.js";
import type { Plan } from "../plan/types.js";
import { registry } from "../resources/registry.js";
import { readAccountSettings } from "./account.js";
import type { PreparedStack } from "./prepare.js";

export interface PlannedStack {
  readonly plan: Plan;
  readonly state: StateSnapshot;
  /** Identity of the desired graph (spec + code): a saved plan is stale when it changes. */
  readonly desiredHash: string;
}

export function desiredHash(p: Pick<PreparedStack, "desired">): string {
  return createHash("sha256").update(stableStringify(p.desired)).digest("hex");
}

export async function planStack(p: PreparedStack, mode: "apply" | "destroy", options: { deleteData: boolean }): Promise<PlannedStack> {
  const [state, account] = await Promise.all([
    readState(p.ctx, p.desired, registry, { concurrency: 8 }),
    mode === "apply" ? readAccountSettings(p) : undefined,
  ]);
  const planned = planChanges({
    mode,
    stack: p.spec.stack,
    region: p.region,
    accountId: p.ctx.accountId,
    partition: p.ctx.partition,
    desired: p.desired,
    state,
    registry,
    options,
  });
  const withEnvironment = p.environment === undefined ? planned : { ...planned, environment: p.environment };
  const plan = account !== undefined ? { ...withEnvironment, account } : withEnvironment;
  return { plan, state, desiredHash: desiredHash(p) };
}

/** How the executor retries a step's calls; the defaults are the CLI's (tests make retries instant). */
export type RetrySettings = Pick<ExecuteDeps, "maxAttempts" | "backoff" | "sleep">;

export interface ExecuteOptions {
  readonly onEvent?: (e: ApplyEvent) => void;
  readonly signal?: AbortSignal;
  readonly concurrency?: number;
  readonly retry?: RetrySettings;
}

export async function executeStack(p: PreparedStack, plan: Plan, opts: ExecuteOptions): Promise<ApplyResult> {
  return executePlan(plan, {
    ctx: p.ctx,
    registry,
    isRetryable,
    concurrency: opts.concurrency ?? 8,
    ...opts.retry,
    ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
}

/** The wss:// (or, locally, ws://) URL clients connect to, once the stage exists. */
export function stackUrl(outputs: Readonly<Record<string, Readonly<Record<string, string>>>>): string | undefined {
  return outputs.stage?.invokeUrl;
}
