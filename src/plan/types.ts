import type { Actual, Change, DesiredResource } from "../resources/kind.js";

/** The closed set of things a step can do. */
export type Action = "noop" | "create" | "update" | "replace" | "delete";

/** How a step ended: completes "route sendmessage has been ___". */
export type Outcome = "created" | "updated" | "replaced" | "deleted" | "unchanged" | "skipped" | "failed";

export interface Step {
  readonly id: string; // logical id
  readonly kind: string;
  readonly name: string; // AWS-side name, for people
  readonly action: Action;
  readonly changes: readonly Change[];
  readonly dependsOn: readonly string[]; // step ids that must finish first
  readonly reason?: string; // "partition key changed", "no longer in chat.yaml"
  readonly destroysData?: boolean;
  readonly desired?: DesiredResource; // absent on delete
  readonly actual?: Actual<unknown>; // absent on create
}

/** A resource with our name that this stack does not own: never touched. */
export interface Conflict {
  readonly id: string;
  readonly kind: string;
  readonly name: string;
  readonly owner: string | undefined; // the stack tag it carries, if any
  readonly message: string;
}

/** A resource kept on purpose (retained table, table that holds items). */
export interface Kept {
  readonly id: string;
  readonly kind: string;
  readonly name: string;
  readonly reason: string;
}

/**
 * Account-wide settings the stack relies on but owns none of, as read when planning.
 * Absent when the stack needs none of them.
 */
export interface AccountSettings {
  /** API Gateway's CloudWatch Logs role in this account and region (read when a stage has access logs); null when none is set. */
  readonly apiGatewayCloudwatchRoleArn: string | null;
  /** Why it could not be read (the error's name), when it could not. */
  readonly unreadable?: string;
}

export interface Plan {
  readonly version: 1;
  readonly mode: "apply" | "destroy";
  readonly stack: string;
  readonly region: string;
  readonly accountId: string;
  /** The spec's environment this stack is (--env), when it declares environments. */
  readonly environment?: string;
  readonly createdAt: string;
  /** Hash of everything read while planning; a saved plan is stale when it differs at apply time. */
  readonly fingerprint: string;
  readonly steps: readonly Step[];
  readonly conflicts: readonly Conflict[];
  readonly kept: readonly Kept[];
  readonly account?: AccountSettings;
  /** Outputs of resources that exist already, so Refs in steps can be resolved. */
  readonly outputs: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

export interface PlanSummary {
  readonly create: number;
  readonly update: number;
  readonly replace: number;
  readonly delete: number;
  readonly noop: number;
}
