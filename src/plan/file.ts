import { createHash } from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";
import { fingerprintSnapshot, type StateSnapshot } from "./snapshot.js";
import type { Plan } from "./types.js";

/** Bumped whenever a saved plan's layout changes; older files are refused, never guessed at. */
export const PLAN_FILE_VERSION = 1;
const MAGIC = "chatctl-plan";

export interface SavedPlan {
  readonly plan: Plan;
  readonly specPath: string;
  /** Hash of the chat.yaml (and what it pulls in) the plan was made from. */
  readonly specHash: string;
  readonly savedAt: string;
  /** The endpoint the plan was made against (--endpoint-url, --local); undefined for AWS itself. */
  readonly endpoint: string | undefined;
}

interface PlanFile {
  readonly format: typeof MAGIC;
  readonly version: number;
  readonly savedAt: string;
  readonly specPath: string;
  readonly specHash: string;
  /** Absent in files saved before it was kept: those were made against AWS or the user knew where. */
  readonly endpoint?: string;
  /** sha256 of the plan's JSON text: a file edited or cut short is refused. */
  readonly checksum: string;
  readonly plan: Plan;
}

/** A saved plan cannot be used; the message says why and what to do. */
export class PlanFileError extends Error {
  constructor(
    message: string,
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "PlanFileError";
  }
}

/**
 * Writes the plan for a later `chatctl apply <file>`. Owner-only permissions:
 * a plan holds function environments, which may hold secrets.
 */
export async function savePlan(
  path: string,
  plan: Plan,
  extra: { readonly specPath: string; readonly specHash: string; readonly endpoint?: string | undefined },
): Promise<void> {
  const planText = JSON.stringify(plan);
  const file: PlanFile = {
    format: MAGIC,
    version: PLAN_FILE_VERSION,
    savedAt: new Date().toISOString(),
    specPath: extra.specPath,
    specHash: extra.specHash,
    ...(extra.endpoint !== undefined ? { endpoint: extra.endpoint } : {}),
    checksum: sha256(planText),
    plan: JSON.parse(planText) as Plan,
  };
  // Written aside and renamed, so a crash never leaves half a plan under the real name.
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, path);
}

export async function loadPlan(path: string): Promise<SavedPlan> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === "ENOENT") throw new PlanFileError(`no saved plan at ${path}; save one with "chatctl plan" first`, path, { cause: error });
    throw new PlanFileError(`cannot read the saved plan ${path}: ${(error as Error).message}`, path, { cause: error });
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new PlanFileError(`${path} is not a chatctl plan file, or it is corrupted (not valid JSON)`, path, { cause: error });
  }
  if (!isObject(parsed) || parsed.format !== MAGIC) throw new PlanFileError(`${path} is not a chatctl plan file`, path);
  if (parsed.version !== PLAN_FILE_VERSION) {
    throw new PlanFileError(
      `${path} was saved by a different version of chatctl (plan file version ${String(parsed.version)}, this chatctl reads ${PLAN_FILE_VERSION}); run "chatctl plan" again`,
      path,
    );
  }
  const corrupted = (what: string) => new PlanFileError(`${path} is corrupted (${what}); run "chatctl plan" again`, path);
  if (typeof parsed.checksum !== "string" || !isObject(parsed.plan)) throw corrupted("plan or checksum missing");
  if (sha256(JSON.stringify(parsed.plan)) !== parsed.checksum) throw corrupted("checksum mismatch");
  if (typeof parsed.specPath !== "string" || typeof parsed.specHash !== "string" || typeof parsed.savedAt !== "string") {
    throw corrupted("spec path or hash missing");
  }
  if (parsed.endpoint !== undefined && typeof parsed.endpoint !== "string") throw corrupted("endpoint is not text");
  const problem = planProblem(parsed.plan);
  if (problem !== undefined) throw corrupted(problem);
  return {
    plan: parsed.plan as unknown as Plan,
    specPath: parsed.specPath,
    specHash: parsed.specHash,
    savedAt: parsed.savedAt,
    endpoint: typeof parsed.endpoint === "string" ? parsed.endpoint : undefined,
  };
}

const sameEndpoint = (a: string | undefined, b: string | undefined) => (a ?? "").replace(/\/+$/, "") === (b ?? "").replace(/\/+$/, "");
const where = (endpoint: string | undefined) => (endpoint === undefined ? "AWS" : endpoint);

/**
 * Why a saved plan must not be applied where this run would send it: it holds
 * ids and ARNs of one endpoint's account and region, and would create or delete
 * the wrong things anywhere else. Undefined when it is the same place.
 */
export function wrongTarget(
  saved: SavedPlan,
  file: string,
  target: { readonly endpoint: string | undefined; readonly accountId: string; readonly region: string },
): string | undefined {
  const again = `make a new plan there with chatctl plan --out ${file}`;
  if (!sameEndpoint(saved.endpoint, target.endpoint)) {
    return `the saved plan ${file} was made against ${where(saved.endpoint)}, not ${where(target.endpoint)}; apply it without endpoint flags, or ${again}`;
  }
  if (saved.plan.accountId !== target.accountId) {
    return `the saved plan ${file} was made for account ${saved.plan.accountId}, but these credentials are for account ${target.accountId}; ${again}`;
  }
  if (saved.plan.region !== target.region) {
    return `the saved plan ${file} was made for region ${saved.plan.region}, not ${target.region}; ${again}`;
  }
  return undefined;
}

/** A saved plan is stale when what it was planned against has changed since. */
export function isStale(saved: SavedPlan | Plan, freshFingerprint: string): boolean {
  const plan = "plan" in saved ? saved.plan : saved;
  return plan.fingerprint !== freshFingerprint;
}

/**
 * Refuses a saved plan that no longer describes the change it would make: the spec or a
 * handler (`desiredHash`) or the account (`state`) moved since it was saved. Applying it
 * anyway would undo what changed, so it must be made again.
 */
export function assertFresh(saved: SavedPlan, path: string, fresh: { readonly desiredHash: string; readonly state: StateSnapshot }): void {
  if (fresh.desiredHash !== saved.specHash) {
    throw new PlanFileError(`the saved plan ${path} is stale: ${saved.specPath} or a handler changed since it was made. Run chatctl plan --out ${path} again.`, path);
  }
  if (isStale(saved, fingerprintSnapshot(fresh.state))) {
    throw new PlanFileError(`the saved plan ${path} is stale: the stack changed in the account since it was made. Run chatctl plan --out ${path} again.`, path);
  }
}

const ACTIONS = new Set(["noop", "create", "update", "replace", "delete"]);

function planProblem(plan: Record<string, unknown>): string | undefined {
  if (plan.version !== 1) return "unknown plan version";
  if (plan.mode !== "apply" && plan.mode !== "destroy") return "unknown mode";
  for (const key of ["stack", "region", "accountId", "createdAt", "fingerprint"]) if (typeof plan[key] !== "string") return `${key} missing`;
  if (!Array.isArray(plan.steps) || !Array.isArray(plan.conflicts) || !Array.isArray(plan.kept) || !isObject(plan.outputs)) return "steps missing";
  for (const step of plan.steps as unknown[]) {
    if (!isObject(step) || typeof step.id !== "string" || typeof step.kind !== "string" || !ACTIONS.has(step.action as string)) return "a step is malformed";
    if (!Array.isArray(step.changes) || !Array.isArray(step.dependsOn)) return `step ${step.id} is malformed`;
    if ((step.action === "create" || step.action === "update" || step.action === "replace") && !isObject(step.desired)) return `step ${step.id} lacks its resource`;
    if ((step.action === "update" || step.action === "replace" || step.action === "delete") && !isObject(step.actual)) return `step ${step.id} lacks its resource`;
  }
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
