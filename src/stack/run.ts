import { createHash } from "node:crypto";
import { isRetryable } from "../aws/errors.js";
import { executePlan, type ApplyEvent, type ApplyResult } from "../apply/executor.js";
import { planChanges } from "../plan/planner.js";
import { readState } from "../plan/read.js";
import { stableStringify, type StateSnapshot } from "../plan/snapshot.js";
import type { Plan } from "../plan/types.js";
import { registry } from "../resources/registry.js";
import type { AnyResourceKind, Ctx } from "../resources/kind.js";
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

/**
 * Reads are safe to repeat, so planning retries them on throttling and passing
 * errors (some clients, like API Gateway's, make one attempt per call: see clients.ts).
 */
async function retried<T>(call: () => Promise<T>, attempts = 4): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (attempt >= attempts || !isRetryable(err).retry) throw err;
      await new Promise((r) => setTimeout(r, 200 * 2 ** (attempt - 1) * (0.5 + Math.random())));
    }
  }
}

const readingRegistry: Readonly<Record<string, AnyResourceKind>> = Object.fromEntries(
  Object.entries(registry).map(([name, kind]) => {
    const list = kind.list;
    const wrapped: AnyResourceKind = {
      ...kind,
      read: (ctx, d) => retried(() => kind.read(ctx, d)),
      ...(list ? { list: (ctx: Ctx, parents: Readonly<Record<string, string>>) => retried(() => list.call(kind, ctx, parents)) } : {}),
    };
    return [name, wrapped];
  }),
);

export async function planStack(p: PreparedStack, mode: "apply" | "destroy", options: { deleteData: boolean }): Promise<PlannedStack> {
  const state = await readState(p.ctx, p.desired, readingRegistry, { concurrency: 8 });
  const plan = planChanges({
    mode,
    stack: p.spec.stack,
    region: p.region,
    accountId: p.ctx.accountId,
    desired: p.desired,
    state,
    registry,
    options,
  });
  return { plan, state, desiredHash: desiredHash(p) };
}

export interface ExecuteOptions {
  readonly onEvent?: (e: ApplyEvent) => void;
  readonly signal?: AbortSignal;
  readonly concurrency?: number;
}

export async function executeStack(p: PreparedStack, plan: Plan, opts: ExecuteOptions): Promise<ApplyResult> {
  return executePlan(plan, {
    ctx: p.ctx,
    registry,
    isRetryable,
    concurrency: opts.concurrency ?? 8,
    ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
}

/** The wss:// (or, locally, ws://) URL clients connect to, once the stage exists. */
export function stackUrl(outputs: Readonly<Record<string, Readonly<Record<string, string>>>>): string | undefined {
  return outputs.stage?.invokeUrl;
}
