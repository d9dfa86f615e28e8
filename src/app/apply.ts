import { UserError, describeFailure } from "../errors.js";
import type { ApplyEvent, ApplyResult } from "../apply/executor.js";
import { createJsonEvents } from "../apply/json-events.js";
import { createProgressRenderer, summarizeApply } from "../apply/progress.js";
import { assertFresh, loadPlan, wrongTarget } from "../plan/file.js";
import { hasChanges } from "../plan/planner.js";
import { renderPlan } from "../plan/render-text.js";
import type { Plan } from "../plan/types.js";
import { CLOUDWATCH_ROLE_NAME, SET_CLOUDWATCH_ROLE_FLAG, setCloudwatchRole } from "../stack/account.js";
import { runtimeProvidedNote, type PreparedStack } from "../stack/prepare.js";
import { executeStack, planStack, stackUrl, type ExecuteOptions, type RetrySettings } from "../stack/run.js";
import type { AppIO } from "./io.js";
import { explain, interruptible, prepare, refuseConflicts, specFileOf, withLock, type StackTarget } from "./session.js";

/** How apply and destroy change a stack, whatever its spec. */
export interface ChangeOptions {
  /** Do not ask before changing anything. */
  readonly autoApprove: boolean;
  /** Allow deleting or replacing tables that hold items. */
  readonly deleteData: boolean;
  /** How long to wait for another run's lock on the stack. */
  readonly lockTimeoutMs: number;
  /** Steps run side by side at most. */
  readonly parallelism: number;
  /** The executor's retries; the CLI keeps the defaults. */
  readonly retry?: RetrySettings | undefined;
  /** One JSON event per line on `out` instead of the text (--json); needs autoApprove. */
  readonly json?: boolean | undefined;
  /** When access logs are on and the account has no CloudWatch Logs role for API Gateway, make and set one. */
  readonly setCloudwatchRole?: boolean | undefined;
}

export interface ApplyOptions extends StackTarget, ChangeOptions {
  /** A plan saved by `chatctl plan --out`, applied exactly as saved while it is fresh. */
  readonly planFile?: string | undefined;
}

/** What a change of the stack did. */
export interface ChangeOutcome {
  /** 0: done (or nothing to do); 1: some step failed, running again finishes it. */
  readonly exitCode: number;
  readonly plan: Plan;
  /** Undefined when the plan had nothing to do and nothing was executed. */
  readonly result?: ApplyResult;
}

/** `chatctl apply`: prepare, then lock, plan, show, confirm, execute, unlock. */
export async function runApply(opts: ApplyOptions, io: AppIO): Promise<number> {
  if (opts.planFile !== undefined) return applySaved(opts, opts.planFile, io);
  return machineReadable(opts, io, async (human) => {
    const p = await prepare(specFileOf(opts), opts, human, { bundle: true });
    return changeStack(p, "apply", opts, human);
  });
}

/**
 * Runs a change; with --json, the text goes nowhere and `out` gets one JSON event
 * per line instead (the plan, each step, the summary; an error as one last event).
 */
export async function machineReadable(opts: ChangeOptions, io: AppIO, run: (io: AppIO) => Promise<ChangeOutcome>): Promise<number> {
  if (opts.json !== true) return (await run(io)).exitCode;
  if (!opts.autoApprove) throw new UserError("--json needs --auto-approve: a machine-readable run has nobody to ask");
  const events = createJsonEvents((line) => io.out(line));
  const human: AppIO = { ...io, out: () => {}, events };
  try {
    const outcome = await run(human);
    events.summary(outcome.plan, outcome.result, outcome.exitCode);
    return outcome.exitCode;
  } catch (err) {
    const message = describeFailure(err);
    if (message !== undefined) events.error(message.replace(/^error: /, ""));
    throw err;
  }
}

/**
 * Apply or destroy once the stack is prepared: lock, plan, show the plan, ask,
 * execute, unlock. The CLI's commands and the reliability tests both come through here.
 */
export async function changeStack(p: PreparedStack, mode: Plan["mode"], opts: ChangeOptions, io: AppIO): Promise<ChangeOutcome> {
  return withLock(p, io, mode, opts.lockTimeoutMs, async () => {
    const { plan } = await planStack(p, mode, { deleteData: opts.deleteData }).catch(explain);
    io.events?.plan(plan);
    renderPlan(plan, (line) => io.out(line), { color: io.color });
    for (const line of runtimeProvidedNote(p)) io.out(line); // empty for destroy: nothing is bundled
    refuseConflicts(plan);
    const roleMissing = roleIsMissing(plan);
    const settingRole = roleMissing && opts.setCloudwatchRole === true;
    if (!hasChanges(plan) && !settingRole) {
      if (mode === "apply") printUrl(io, plan.outputs);
      if (roleMissing) warnRoleMissing(io);
      return { exitCode: 0, plan };
    }
    if (!opts.autoApprove) {
      await io.confirm(mode === "apply" ? "\nDo you want to perform these actions?" : `\nDestroy these resources of stack ${p.spec.stack}? There is no undo.`);
    }
    // Before the stages: their access logs are written from the moment the role is set.
    if (settingRole) await setRoleReported(p, opts, io);
    if (!hasChanges(plan)) {
      printUrl(io, plan.outputs);
      return { exitCode: 0, plan };
    }
    const outcome = await execute(p, plan, opts, io);
    if (roleMissing && !settingRole) warnRoleMissing(io);
    return outcome;
  });
}

function roleIsMissing(plan: Plan): boolean {
  return plan.mode === "apply" && plan.account !== undefined && plan.account.apiGatewayCloudwatchRoleArn === null && plan.account.unreadable === undefined;
}

function warnRoleMissing(io: AppIO): void {
  io.err(
    `Access logs will not be written until this account and region name a CloudWatch Logs role for API Gateway (an account-wide setting): run again with ${SET_CLOUDWATCH_ROLE_FLAG}, or set one yourself (see the note above).`,
  );
}

async function setRoleReported(p: PreparedStack, opts: ChangeOptions, io: AppIO): Promise<void> {
  const sleep = opts.retry?.sleep;
  const outcome = await setCloudwatchRole(p, sleep ? { sleep } : {}).catch(explain);
  io.out("");
  if (outcome.kind === "already-set") {
    io.out(`API Gateway's CloudWatch Logs role is already set (${outcome.roleArn}): kept as it is.`);
  } else {
    const made = outcome.createdRole ? `created role ${CLOUDWATCH_ROLE_NAME} and ` : "";
    io.out(`API Gateway's CloudWatch Logs role (account-wide, region ${p.region}): ${made}set cloudwatchRoleArn to ${outcome.roleArn}.`);
  }
}

async function applySaved(opts: ApplyOptions, file: string, io: AppIO): Promise<number> {
  const saved = await loadPlan(file).catch(explain);
  // Without endpoint flags the plan goes back where it was made; with them, they must name that place.
  const target: ApplyOptions = {
    ...opts,
    awsConfig: (region) => opts.awsConfig(region, saved.endpoint),
    environment: opts.environment ?? saved.plan.environment,
  };
  const p = await prepare(saved.specPath, target, io, { bundle: saved.plan.mode === "apply" });
  const wrong = wrongTarget(saved, file, { endpoint: p.clients.config.endpoint, accountId: p.ctx.accountId, region: p.region });
  if (wrong !== undefined) throw new UserError(wrong);
  return withLock(p, io, saved.plan.mode, opts.lockTimeoutMs, async () => {
    const fresh = await planStack(p, saved.plan.mode, { deleteData: opts.deleteData }).catch(explain);
    try {
      assertFresh(saved, file, fresh);
    } catch (err) {
      explain(err);
    }
    refuseConflicts(saved.plan);
    // Read now, not from the file: the account setting is nobody's, and may have been set meanwhile.
    const roleMissing = roleIsMissing(fresh.plan);
    if (roleMissing && opts.setCloudwatchRole === true) await setRoleReported(p, opts, io);
    else if (roleMissing) warnRoleMissing(io);
    if (!hasChanges(saved.plan)) {
      io.out("No changes in the saved plan.");
      printUrl(io, saved.plan.outputs);
      return 0;
    }
    renderPlan(saved.plan, (line) => io.out(line), { color: io.color });
    return (await execute(p, saved.plan, opts, io)).exitCode;
  });
}

async function execute(p: PreparedStack, plan: Plan, opts: ChangeOptions, io: AppIO): Promise<ChangeOutcome> {
  const interrupt = interruptible(io);
  try {
    const result = await executeReported(p, plan, io, {
      signal: interrupt.signal,
      concurrency: opts.parallelism,
      ...(opts.retry ? { retry: opts.retry } : {}),
    });
    if (plan.mode === "apply") printUrl(io, result.outputs);
    if (!result.ok) io.err(`Run the same command again to finish: every step is safe to repeat.`);
    return { exitCode: result.ok ? 0 : 1, plan, result };
  } finally {
    interrupt.dispose();
  }
}

/** Executes the plan with every step's progress on `out`, then the summary. */
export async function executeReported(p: PreparedStack, plan: Plan, io: AppIO, opts: Omit<ExecuteOptions, "onEvent">): Promise<ApplyResult> {
  io.out("");
  const text = createProgressRenderer((line) => io.out(line), { color: io.color });
  const onEvent = io.events === undefined ? text : (e: ApplyEvent) => io.events?.event(e);
  const result = await executeStack(p, plan, { ...opts, onEvent });
  io.out("");
  io.out(summarizeApply(result));
  return result;
}

function printUrl(io: AppIO, outputs: Readonly<Record<string, Readonly<Record<string, string>>>>): void {
  const url = stackUrl(outputs);
  if (url) io.out(`\nWebSocket URL: ${url}`);
}
