import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { ApplyResult } from "../../src/apply/executor.js";
import { changeStack, type ChangeOutcome } from "../../src/app/apply.js";
import type { AppIO } from "../../src/app/io.js";
import { LOCAL_CREDENTIALS } from "../../src/local/endpoint.js";
import { DroppedConnection } from "../../src/local/faults.js";
import { loadOrCreateLocalCertificate } from "../../src/local/tls.js";
import { AwsError, type BeforeCall, type OpInput } from "../../src/local/service.js";
import { prepareStack, type PreparedStack } from "../../src/stack/prepare.js";
import { planStack, type RetrySettings } from "../../src/stack/run.js";
import { createClients } from "../../src/aws/clients.js";
import type { Plan } from "../../src/plan/types.js";
import { LOCK_TABLE } from "../../src/stack/lock.js";
import { startTestCloud, type TestCloud } from "./cloud.js";

export const REPO_ROOT = resolve(import.meta.dirname, "../..");

/** Operations that may change state (what "a write call" means in these tests). */
export const WRITE_OPERATION = /^(Create|Update|Delete|Put|Add|Remove|Tag|Untag)/;

// Generating the local TLS certificate is the slow part of starting a cloud: one, kept in the
// temp folder like the bundle cache, serves every test cloud. Made aside and renamed into
// place, so workers starting together never see half of it.
const CERT_CACHE = join(tmpdir(), "chatctl-test-tls");
let certReady: Promise<string> | undefined;
function certDir(): Promise<string> {
  certReady ??= (async () => {
    if (existsSync(CERT_CACHE)) return CERT_CACHE;
    const aside = mkdtempSync(join(tmpdir(), "chatctl-test-tls-"));
    await loadOrCreateLocalCertificate(aside);
    try {
      renameSync(aside, CERT_CACHE);
    } catch {
      rmSync(aside, { recursive: true, force: true }); // another worker was first
    }
    return CERT_CACHE;
  })();
  return certReady;
}

/** A fresh, empty local cloud that reuses the shared test certificate. */
export async function freshCloud(opts: { callDelayMs?: number } = {}): Promise<TestCloud> {
  return startTestCloud({ certDir: await certDir(), ...opts });
}

export interface RecordedCall {
  readonly service: string;
  readonly operation: string;
  readonly input: OpInput;
}

/** True for the stack lock's own DynamoDB traffic (its table and item), which is not part of the stack. */
export function isLockCall(c: RecordedCall): boolean {
  return c.service === "dynamodb" && c.input.TableName === LOCK_TABLE;
}

export function isStackWrite(c: RecordedCall): boolean {
  return WRITE_OPERATION.test(c.operation) && !isLockCall(c);
}

/**
 * Wraps a hook so every call (with its input) is recorded in order; `inner`
 * (a fault injector, say) runs after the recording.
 */
export function recording(inner?: BeforeCall): { hook: BeforeCall; calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  return {
    calls,
    hook: async (service, operation, input) => {
      calls.push({ service, operation, input });
      if (inner) await inner(service, operation, input);
    },
  };
}

export interface TargetCall {
  readonly service: string;
  readonly operation: string;
  /** 1-based among calls of this service and operation that pass `where` (the lock's traffic never counts). */
  readonly nth: number;
  /** Only calls whose input this accepts count (e.g. one function's CreateFunction). */
  readonly where?: (input: OpInput) => boolean;
}

/** Picks out the call a fault aims at. Calls that do not match are left alone. */
function matcher(target: TargetCall): (service: string, operation: string, input: OpInput) => boolean {
  let seen = 0;
  return (service, operation, input) => {
    if (service !== target.service || operation !== target.operation) return false;
    if (isLockCall({ service, operation, input })) return false;
    if (target.where && !target.where(input)) return false;
    seen++;
    return seen === target.nth;
  };
}

export type FaultKind =
  | { readonly type: "throttle"; readonly times: number }
  | { readonly type: "deny" }
  | { readonly type: "drop-before"; readonly times: number }
  | { readonly type: "drop-after" };

/** The throttling error each service really answers with. */
export function throttlingName(service: string): string {
  switch (service) {
    case "iam":
    case "sts":
      return "Throttling";
    case "lambda":
    case "apigatewayv2":
      return "TooManyRequestsException";
    default:
      return "ThrottlingException"; // logs, dynamodb
  }
}

/**
 * A hook that faults one call (and, with `times`, the retries of that same
 * request, by the SDK or the executor). "drop-after" is the nasty one: the call takes effect,
 * then the answer is lost, as when a connection dies on the way back; the
 * client cannot tell it from a call that never landed.
 */
export function faultAt(cloud: TestCloud, target: TargetCall, kind: FaultKind): { hook: BeforeCall; fired: () => number } {
  const isTarget = matcher(target);
  let armed = 0; // calls still to fault after the target (the SDK retrying the same request)
  let fired = 0;
  let passthrough = false;
  let targetInput: string | undefined;
  const hook: BeforeCall = async (service, operation, input) => {
    if (passthrough) return;
    const hit = isTarget(service, operation, input);
    if (hit) {
      armed = kind.type === "throttle" || kind.type === "drop-before" ? kind.times : 1;
      targetInput = JSON.stringify(input);
    }
    // Only the same request again (a retry of it) is faulted, never a sibling's call of the same operation.
    if (armed === 0 || service !== target.service || operation !== target.operation || JSON.stringify(input) !== targetInput) return;
    armed--;
    fired++;
    switch (kind.type) {
      case "throttle":
        throw new AwsError(throttlingName(service), `Rate exceeded (fault injected into ${service}.${operation})`, 400);
      case "deny":
        throw new AwsError(
          "AccessDeniedException",
          `User: arn:aws:iam::000000000000:user/ci is not authorized to perform: ${service}:${operation} (fault injected)`,
          400,
        );
      case "drop-before":
        throw new DroppedConnection(service, operation);
      case "drop-after":
        passthrough = true;
        try {
          await applyDirectly(cloud, service, operation, input);
        } finally {
          passthrough = false;
        }
        throw new DroppedConnection(service, operation);
    }
  };
  return { hook, fired: () => fired };
}

/** Performs a call on the model behind the wire, as if it had arrived (used to lose only its answer). */
async function applyDirectly(cloud: TestCloud, service: string, operation: string, input: OpInput): Promise<void> {
  try {
    if (service === "dynamodb") {
      await dynamo(cloud, operation, input);
      return;
    }
    const model = (cloud.models as unknown as Record<string, { peek(op: string, input: OpInput): Promise<unknown> }>)[service];
    if (!model) throw new Error(`no model for ${service}`);
    await model.peek(operation, input);
  } catch {
    // The call failing on its own is fine: then only the answer (an error) is lost.
  }
}

/** Everything of one kind that exists in the local cloud (lock table excluded), by name. */
export interface Inventory {
  readonly apis: string[];
  readonly integrations: string[]; // "<api name> <integration uri>"
  readonly routes: string[]; // "<api name> <route key>"
  readonly stages: string[];
  readonly roles: string[];
  readonly rolePolicies: string[];
  readonly functions: string[];
  readonly permissions: string[]; // "<function> <statement id>"
  readonly logGroups: string[];
  readonly tables: string[];
}

type Items = { Items?: Array<Record<string, unknown>> };

/** Lists the whole local cloud straight from its models (not recorded, never faulted). */
export async function inventory(cloud: TestCloud): Promise<Inventory> {
  const gw = cloud.models.apigatewayv2;
  const apis = ((await gw.peek("GetApis", {})) as Items).Items ?? [];
  const integrations: string[] = [];
  const routes: string[] = [];
  const stages: string[] = [];
  for (const api of apis) {
    const ApiId = api.ApiId as string;
    for (const i of ((await gw.peek("GetIntegrations", { ApiId })) as Items).Items ?? []) integrations.push(`${String(api.Name)} ${String(i.IntegrationUri)}`);
    for (const r of ((await gw.peek("GetRoutes", { ApiId })) as Items).Items ?? []) routes.push(`${String(api.Name)} ${String(r.RouteKey)}`);
    for (const s of ((await gw.peek("GetStages", { ApiId })) as Items).Items ?? []) stages.push(`${String(api.Name)} ${String(s.StageName)}`);
  }
  const roles = (((await cloud.models.iam.peek("ListRoles", {})) as { Roles?: Array<{ RoleName: string }> }).Roles ?? []).map((r) => r.RoleName);
  const rolePolicies: string[] = [];
  for (const RoleName of roles) {
    const names = ((await cloud.models.iam.peek("ListRolePolicies", { RoleName })) as { PolicyNames?: string[] }).PolicyNames ?? [];
    for (const n of names) rolePolicies.push(`${RoleName} ${n}`);
  }
  const functions = cloud.models.lambda.functionNames();
  const permissions: string[] = [];
  for (const FunctionName of functions) {
    let policy: { Statement?: Array<{ Sid: string }> } = {};
    try {
      policy = JSON.parse(((await cloud.models.lambda.peek("GetPolicy", { FunctionName })) as { Policy: string }).Policy) as typeof policy;
    } catch {
      // no policy at all: no permission
    }
    for (const s of policy.Statement ?? []) permissions.push(`${FunctionName} ${s.Sid}`);
  }
  const logGroups = (((await cloud.models.logs.peek("DescribeLogGroups", {})) as { logGroups?: Array<{ logGroupName: string }> }).logGroups ?? []).map(
    (g) => g.logGroupName,
  );
  const tables = (await dynamo(cloud, "ListTables", {}) as { TableNames?: string[] }).TableNames?.filter((t) => t !== LOCK_TABLE) ?? [];
  const sort = (a: string[]) => a.sort();
  return {
    apis: sort(apis.map((a) => String(a.Name))),
    integrations: sort(integrations),
    routes: sort(routes),
    stages: sort(stages),
    roles: sort(roles),
    rolePolicies: sort(rolePolicies),
    functions: sort(functions),
    permissions: sort(permissions),
    logGroups: sort(logGroups),
    tables: sort(tables),
  };
}

/** A DynamoDB call straight to the backend (recorded, and seen by the hook: call it with no fault armed). */
export async function dynamo(cloud: TestCloud, operation: string, input: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await cloud.dynamodb.wire.handle({
    method: "POST",
    path: "/",
    rawPath: "/",
    query: new URLSearchParams(),
    headers: {
      "x-amz-target": `DynamoDB_20120810.${operation}`,
      "content-type": "application/x-amz-json-1.0",
      authorization: `AWS4-HMAC-SHA256 Credential=chatctl-local/20200101/${cloud.region}/dynamodb/aws4_request, SignedHeaders=host, Signature=0`,
      "x-amz-date": "20200101T000000Z",
    },
    body: Buffer.from(JSON.stringify(input)),
  });
  const text = typeof res.body === "string" ? res.body : res.body.toString("utf8");
  const parsed = JSON.parse(text || "{}") as Record<string, unknown>;
  if (res.status >= 400) throw new Error(`${operation}: ${text}`);
  return parsed;
}

/**
 * What specs/chat.yaml (stack my-chat, five functions, one table) makes, exactly
 * once each. Four functions are routed (join goes to sendmessage); broadcast is
 * only invoked by sendmessage, so it has no integration and no permission.
 */
export function chatStackInventory(): Inventory {
  const routed = ["connect", "default", "disconnect", "sendmessage"];
  const fns = [...routed, "broadcast"];
  const routeKeys = ["$connect", "$default", "$disconnect", "join", "sendmessage"];
  return {
    apis: ["my-chat"],
    integrations: routed.map((f) => `my-chat arn:aws:apigateway:ap-northeast-1:lambda:path/2015-03-31/functions/arn:aws:lambda:ap-northeast-1:000000000000:function:my-chat-${f}/invocations`).sort(),
    routes: routeKeys.map((k) => `my-chat ${k}`).sort(),
    stages: ["my-chat prod"],
    roles: fns.map((f) => `my-chat-${f}`).sort(),
    rolePolicies: fns.map((f) => `my-chat-${f} chatctl`).sort(),
    functions: fns.map((f) => `my-chat-${f}`).sort(),
    permissions: routed.map((f) => `my-chat-${f} chatctl-apigateway`).sort(),
    logGroups: fns.map((f) => `/aws/lambda/my-chat-${f}`).sort(),
    tables: ["my-chat-connections"],
  };
}

/** Counts per kind: the shape to compare when names are checked separately. */
export function counts(inv: Inventory): Record<keyof Inventory, number> {
  return Object.fromEntries(Object.entries(inv).map(([k, v]) => [k, (v as string[]).length])) as Record<keyof Inventory, number>;
}

/**
 * A copy of specs/ and handlers/ in a temp folder that bundles like the real
 * one (node_modules linked), for tests that edit a spec or a handler.
 */
export interface TempProject {
  readonly dir: string;
  /** Absolute path of specs/<name>. */
  spec(name: string): string;
  readSpec(name: string): string;
  /** Writes specs/<name>; returns its absolute path. */
  writeSpec(name: string, text: string): string;
  edit(rel: string, change: (text: string) => string): void;
  remove(): void;
}

export function tempProject(): TempProject {
  const dir = mkdtempSync(join(tmpdir(), "chatctl-project-"));
  cpSync(join(REPO_ROOT, "specs"), join(dir, "specs"), { recursive: true });
  cpSync(join(REPO_ROOT, "handlers"), join(dir, "handlers"), { recursive: true });
  cpSync(join(REPO_ROOT, "schema"), join(dir, "schema"), { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "chat-copy", private: true, type: "module" }));
  symlinkSync(join(REPO_ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  return {
    dir,
    spec: (name) => join(dir, "specs", name),
    readSpec: (name) => readFileSync(join(dir, "specs", name), "utf8"),
    writeSpec(name, text) {
      writeFileSync(join(dir, "specs", name), text);
      return join(dir, "specs", name);
    },
    edit(rel, change) {
      const file = join(dir, rel);
      writeFileSync(file, change(readFileSync(file, "utf8")));
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface CoreRun extends ChangeOutcome {
  readonly prepared: PreparedStack;
}

// Bundling is checked on every prepare (each input file hashed): do it once per spec and mode,
// then point the same desired graph at each fresh cloud.
const preparedOnce = new Map<string, PreparedStack>();

/** The stack of `specFile` prepared as the CLI would, aimed at `cloud`. */
export async function preparedFor(cloud: TestCloud, specFile: string, mode: "apply" | "destroy", sdkMaxAttempts = 3): Promise<PreparedStack> {
  const awsConfig = (region: string) => ({ region, endpoint: cloud.url, credentials: LOCAL_CREDENTIALS, maxAttempts: sdkMaxAttempts });
  const key = `${resolve(specFile)}\0${mode}`;
  const template = preparedOnce.get(key);
  if (template === undefined) {
    const prepared = await prepareStack(specFile, { awsConfig, bundle: mode === "apply", color: false });
    preparedOnce.set(key, prepared);
    return prepared;
  }
  const clients = createClients(awsConfig(template.region));
  return { ...template, clients, ctx: { ...template.ctx, clients } };
}

/** Forgets prepared stacks (after editing a spec or a handler). */
export function forgetPrepared(): void {
  preparedOnce.clear();
}

/** A terminal that shows nothing and approves everything (as --auto-approve). */
const SILENT: AppIO = { out: () => {}, err: () => {}, color: false, confirm: async () => {} };

export interface CoreOptions {
  readonly deleteData?: boolean;
  /** The executor's tries per step call (its default when absent). */
  readonly maxAttempts?: number;
  /** The SDK's own tries per call; 1 turns them off, so every fault reaches the executor. */
  readonly sdkMaxAttempts?: number;
}

/**
 * Apply (or destroy) through the application layer, as `chatctl apply --auto-approve`
 * does once prepared, but with retries that do not wait, for faults that need the
 * executor's every attempt.
 */
async function changeThroughApp(cloud: TestCloud, specFile: string, mode: "apply" | "destroy", opts: CoreOptions): Promise<CoreRun> {
  const prepared = await preparedFor(cloud, specFile, mode, opts.sdkMaxAttempts);
  const retry: RetrySettings = {
    ...(opts.maxAttempts !== undefined ? { maxAttempts: opts.maxAttempts } : {}),
    backoff: () => 1,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  };
  const outcome = await changeStack(prepared, mode, { autoApprove: true, deleteData: opts.deleteData ?? false, lockTimeoutMs: 0, parallelism: 8, retry }, SILENT);
  return { prepared, ...outcome };
}

/** A run with something to do: its executor result (the plan being empty is a mistake of the test). */
export async function runCore(cloud: TestCloud, specFile: string, mode: "apply" | "destroy", opts: CoreOptions = {}): Promise<CoreRun & { readonly result: ApplyResult }> {
  const run = await changeThroughApp(cloud, specFile, mode, opts);
  if (run.result === undefined) throw new Error(`runCore: the ${mode} plan of ${specFile} has nothing to do`);
  return { ...run, result: run.result };
}

/** Runs again, fault-free or not: the root failures' messages (none also when there was nothing to do). */
export async function rerunErrors(cloud: TestCloud, specFile: string, mode: "apply" | "destroy", opts: CoreOptions = {}): Promise<string[]> {
  const run = await changeThroughApp(cloud, specFile, mode, opts);
  return run.result?.errors.map((e) => e.message) ?? [];
}

/** The plan a fresh look at the account gives now (apply mode unless told). */
export async function planNow(cloud: TestCloud, specFile: string, mode: "apply" | "destroy" = "apply", deleteData = false): Promise<Plan> {
  const prepared = await preparedFor(cloud, specFile, mode);
  return (await planStack(prepared, mode, { deleteData })).plan;
}

/** Steps that would change something, as "action kind name" lines (empty: converged). */
export function pendingChanges(plan: Plan): string[] {
  return plan.steps.filter((s) => s.action !== "noop").map((s) => `${s.action} ${s.kind} ${s.name}`);
}

/** Output that shows a crash rather than a message: a JavaScript stack trace. */
export const STACK_TRACE = /^\s+at .+[(:]\d+/m;

/** Runs `body` on a fresh cloud that is stopped afterwards, whatever happens. */
export async function withCloud<T>(body: (cloud: TestCloud) => Promise<T>, opts: { callDelayMs?: number } = {}): Promise<T> {
  const cloud = await freshCloud(opts);
  try {
    return await body(cloud);
  } finally {
    cloud.setBeforeCall(undefined);
    await cloud.stop();
  }
}

/** Tally of the stack's write calls, "service.Operation" -> count. */
export function writeTally(calls: readonly RecordedCall[]): Record<string, number> {
  const tally: Record<string, number> = {};
  for (const c of calls.filter(isStackWrite)) tally[`${c.service}.${c.operation}`] = (tally[`${c.service}.${c.operation}`] ?? 0) + 1;
  return tally;
}

/** "service.Operation" + position -> the call a fault aims at. */
export function targetOf(key: string, nth = 1): TargetCall {
  const [service, operation] = key.split(".") as [string, string];
  return { service, operation, nth };
}

/** An empty inventory: what a fresh cloud holds. */
export function emptyInventory(): Inventory {
  return { apis: [], integrations: [], routes: [], stages: [], roles: [], rolePolicies: [], functions: [], permissions: [], logGroups: [], tables: [] };
}

export interface ChildRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The built CLI (dist/), as a user runs it; undefined when dist/ has not been built. */
export function builtCli(): string | undefined {
  const main = join(REPO_ROOT, "dist", "cli", "main.js");
  return existsSync(main) ? join(REPO_ROOT, "bin", "chatctl.js") : undefined;
}

/**
 * Runs the built CLI as a child process. `onStdout` sees the output as it comes
 * (and may kill the child); the promise settles when the child has exited.
 */
export function spawnCli(argv: readonly string[], opts: { onStdout?: (soFar: string, child: ChildProcess) => void; timeoutMs?: number } = {}): Promise<ChildRun> {
  const bin = builtCli();
  if (bin === undefined) throw new Error("dist/cli/main.js is missing: run tsc first");
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [bin, ...argv], {
      cwd: REPO_ROOT,
      env: { ...process.env, NO_COLOR: "1", AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      opts.onStdout?.(stdout, child);
    });
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}
