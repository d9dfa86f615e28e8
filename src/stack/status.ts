import { GetFunctionConfigurationCommand } from "@aws-sdk/client-lambda";
import { DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import { GetStageCommand } from "@aws-sdk/client-apigatewayv2";
import type { Ctx } from "../resources/kind.js";
import type { Plan, Step } from "../plan/types.js";
import type { StateSnapshot } from "../plan/snapshot.js";
import { stackUrl } from "./run.js";

export interface ComponentStatus {
  readonly id: string;
  readonly kind: string;
  readonly name: string;
  /** ok: exists and matches chat.yaml; drift: exists but differs; missing; conflict: someone else's; orphan: ours, no longer in the spec. */
  readonly state: "ok" | "drift" | "missing" | "conflict" | "orphan";
  readonly health?: string; // "Active", "ACTIVE, 12 items", "deployed 2026-11-25T10:00:00Z"
  readonly drift?: readonly string[]; // attributes that differ
}

export interface StackStatus {
  readonly stack: string;
  readonly region: string;
  readonly url: string | undefined;
  readonly components: readonly ComponentStatus[];
  readonly healthy: boolean;
}

function stateOf(step: Step | undefined, present: boolean, conflict: boolean): ComponentStatus["state"] {
  if (conflict) return "conflict";
  if (!present) return "missing";
  if (step && (step.action === "update" || step.action === "replace")) return "drift";
  return "ok";
}

export async function stackStatus(ctx: Ctx, plan: Plan, state: StateSnapshot, opts: { codeChecked: boolean }): Promise<StackStatus> {
  const steps = new Map(plan.steps.map((s) => [s.id, s]));
  const conflicts = new Set(plan.conflicts.map((c) => c.id));
  const components: ComponentStatus[] = [];
  for (const [id, read] of Object.entries(state.resources)) {
    const step = steps.get(id);
    const present = read.status === "present";
    let drift = step && (step.action === "update" || step.action === "replace") ? step.changes.map((c) => c.path) : [];
    // Without bundling, the code's identity is unknown: never report it as drift.
    if (!opts.codeChecked) drift = drift.filter((p) => !p.startsWith("code"));
    const s = stateOf(step, present, conflicts.has(id));
    components.push({
      id,
      kind: step?.kind ?? plan.conflicts.find((c) => c.id === id)?.kind ?? "",
      name: step?.name ?? plan.conflicts.find((c) => c.id === id)?.name ?? id,
      state: s === "drift" && drift.length === 0 ? "ok" : s,
      ...(drift.length > 0 ? { drift } : {}),
      ...(present ? { health: await healthOf(ctx, step, read.actual.outputs, read.actual.physicalId, state.outputs.api?.apiId) } : {}),
    });
  }
  for (const o of state.orphans) {
    components.push({ id: o.logicalId, kind: o.kind, name: o.actual.physicalId, state: "orphan" });
  }
  components.sort((a, b) => (a.kind === b.kind ? (a.id < b.id ? -1 : 1) : a.kind < b.kind ? -1 : 1));
  return {
    stack: plan.stack,
    region: plan.region,
    url: stackUrl(state.outputs),
    components,
    healthy: components.every((c) => c.state === "ok"),
  };
}

async function healthOf(
  ctx: Ctx,
  step: Step | undefined,
  outputs: Readonly<Record<string, string>>,
  physicalId: string,
  apiId: string | undefined,
): Promise<string | undefined> {
  try {
    switch (step?.kind) {
      case "lambda.function": {
        const c = await ctx.clients.lambda().send(new GetFunctionConfigurationCommand({ FunctionName: outputs.functionName ?? physicalId }));
        return [c.State, c.LastUpdateStatus && c.LastUpdateStatus !== "Successful" ? `last update ${c.LastUpdateStatus}` : undefined]
          .filter(Boolean)
          .join(", ");
      }
      case "dynamodb.table": {
        const t = await ctx.clients.dynamodb().send(new DescribeTableCommand({ TableName: step.name }));
        return `${t.Table?.TableStatus ?? "?"}, ~${t.Table?.ItemCount ?? 0} items`;
      }
      case "apigw.stage": {
        const stageName = outputs.stageName ?? step.name;
        if (apiId === undefined) return undefined;
        const s = await ctx.clients.apigw().send(new GetStageCommand({ ApiId: apiId, StageName: stageName }));
        return s.LastUpdatedDate ? `deployment ${s.DeploymentId ?? "none"}, updated ${s.LastUpdatedDate.toISOString()}` : `deployment ${s.DeploymentId ?? "none"}`;
      }
      default:
        return undefined;
    }
  } catch {
    return undefined; // health is a courtesy: a failed extra read never fails status
  }
}
