import { CreateRoleCommand, DeleteRoleCommand, DeleteRolePolicyCommand, GetRoleCommand, PutRolePolicyCommand } from "@aws-sdk/client-iam";
import { createHash } from "node:crypto";
import {
  CreateFunctionCommand,
  GetFunctionConfigurationCommand,
  UpdateFunctionCodeCommand,
  type CreateFunctionCommandInput,
  type FunctionConfiguration,
  type Runtime,
} from "@aws-sdk/client-lambda";
import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import type { AwsClients } from "../aws/clients.js";
import { UserError, errorMessage } from "../errors.js";
import { DEFAULT_NODE_RUNTIME as DEFAULT_RUNTIME, FUNCTION_NAME_PATTERN, runtimeAdvice, runtimePhase } from "../aws/lambda-rules.js";
import { INLINE_POLICY_NAME, ROLE_PATH } from "../spec/names.js";
import { assertSafeId, realSleep, type Sleep } from "./common.js";
import { errorName, isAwsError, isNotFound } from "../aws/errors.js";

export interface FunctionCode {
  readonly zip: Uint8Array;
  /** Set when an entry was bundled: the bundle's handler, which then replaces the one given. */
  readonly bundledHandler?: string;
  readonly source: string;
}

const ENTRY_EXTENSIONS = new Set([".ts", ".mts", ".cts", ".js", ".mjs", ".cjs"]);

/** A .zip is uploaded as it is; a .ts/.js entry is bundled first (src/bundle). */
export async function loadCode(source: string): Promise<FunctionCode> {
  const ext = extname(source).toLowerCase();
  if (ext === ".zip") {
    try {
      return { zip: await readFile(source), source };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UserError(`cannot read ${source}: ${code === "ENOENT" ? "no such file" : (code ?? errorMessage(err))}`);
    }
  }
  if (!ENTRY_EXTENSIONS.has(ext)) throw new UserError(`${source} is neither a .zip nor a handler entry (.ts, .js, .mjs, .cjs)`);
  const { bundleHandler, BundleError } = await import("../bundle/index.js");
  try {
    const bundle = await bundleHandler(source);
    return { zip: bundle.zip, bundledHandler: bundle.handler, source };
  } catch (err) {
    if (err instanceof BundleError) throw new UserError(`cannot bundle ${source}:\n${err.message}`);
    throw err;
  }
}

const MAX_ROLE_NAME = 64;

/**
 * `chatctl-<function>`. Role names are at most 64 characters and function names
 * may be 64 themselves: a longer one keeps its head and ends in a hash of the whole
 * function name, so two functions that share their first 56 characters never share
 * (and overwrite the policy of) one role.
 */
export function defaultRoleName(functionName: string): string {
  const plain = `chatctl-${functionName}`;
  if (plain.length <= MAX_ROLE_NAME) return plain;
  const hash = createHash("sha256").update(functionName).digest("hex").slice(0, 8);
  return `${plain.slice(0, MAX_ROLE_NAME - hash.length - 1)}-${hash}`;
}

const LAMBDA_TRUST = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
});

/** What AWSLambdaBasicExecutionRole grants, narrowed to this function's log group. */
export function basicLogsPolicy(functionName: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: [`arn:aws:logs:*:*:log-group:/aws/lambda/${functionName}`, `arn:aws:logs:*:*:log-group:/aws/lambda/${functionName}:*`],
      },
    ],
  });
}

/** A role the function can run as; an existing role of that name is reused. No chatctl:stack tag: no stack owns it. */
export async function ensureFunctionRole(clients: AwsClients, functionName: string): Promise<{ roleArn: string; roleName: string; created: boolean }> {
  const roleName = defaultRoleName(functionName);
  let roleArn: string;
  let created = false;
  try {
    const out = await clients.iam().send(
      new CreateRoleCommand({
        RoleName: roleName,
        Path: ROLE_PATH,
        AssumeRolePolicyDocument: LAMBDA_TRUST,
        Description: `Runs the Lambda function ${functionName} (made by chatctl lambda-create)`,
      }),
    );
    roleArn = out.Role?.Arn ?? "";
    created = true;
  } catch (err) {
    if (!isAwsError(err, "EntityAlreadyExistsException", "EntityAlreadyExists")) throw err;
    roleArn = (await clients.iam().send(new GetRoleCommand({ RoleName: roleName }))).Role?.Arn ?? "";
  }
  await clients.iam().send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: INLINE_POLICY_NAME, PolicyDocument: basicLogsPolicy(functionName) }));
  return { roleArn, roleName, created };
}

export interface CreateFunctionOptions {
  readonly name: string;
  readonly code: FunctionCode;
  readonly handler: string;
  readonly runtime: string;
  readonly roleArn?: string;
  readonly timeout?: number;
  readonly memory?: number;
  readonly sleep?: Sleep;
  /** Told about each wait, so people see why nothing happens for a few seconds. */
  readonly onProgress?: (message: string) => void;
  /** The day the runtime is checked against Lambda's deprecation schedule; today when omitted. */
  readonly today?: Date;
}

export interface CreatedFunction {
  readonly functionName: string;
  readonly functionArn: string;
  readonly roleArn: string;
  readonly roleCreated: boolean;
  readonly handler: string;
  readonly runtime: string;
  readonly codeSha256: string;
  readonly state: string;
}

/** Backoff while a new role propagates through IAM: about a minute in all, as AWS usually needs 5-15 s. */
const ROLE_RETRY_DELAYS_MS = [1000, 2000, 3000, 5000, 8000, 10_000, 10_000, 10_000, 10_000];

function roleNotReady(err: unknown): boolean {
  return errorName(err) === "InvalidParameterValueException" && /cannot be assumed by Lambda/i.test(errorMessage(err));
}

/** What Lambda would refuse about the name and runtime, refused before anything (a role) is made. */
function checkCreatable(opts: CreateFunctionOptions, today: Date): void {
  assertSafeId("function name", opts.name);
  if (!FUNCTION_NAME_PATTERN.test(opts.name)) {
    throw new UserError(`function name '${opts.name}' must be 1 to 64 letters, digits, '-' or '_' (it has ${opts.name.length} characters)`);
  }
  if (opts.code.bundledHandler && !opts.runtime.startsWith("nodejs")) {
    throw new UserError(`${opts.code.source} is bundled for Node.js, but the runtime is ${opts.runtime}; use a nodejs runtime (e.g. ${DEFAULT_RUNTIME})`);
  }
  const phase = runtimePhase(opts.runtime, today);
  if (phase === "create-blocked" || phase === "update-blocked") {
    throw new UserError(`runtime ${opts.runtime} cannot be used for new functions: ${runtimeAdvice(opts.runtime, today) ?? ""}`);
  }
}

export async function createFunction(clients: AwsClients, opts: CreateFunctionOptions): Promise<CreatedFunction> {
  checkCreatable(opts, opts.today ?? new Date());
  const sleep = opts.sleep ?? realSleep;
  const handler = opts.code.bundledHandler ?? opts.handler;
  let roleArn = opts.roleArn;
  let roleCreated = false;
  let roleName: string | undefined;
  if (!roleArn) {
    const role = await ensureFunctionRole(clients, opts.name);
    roleArn = role.roleArn;
    roleCreated = role.created;
    roleName = role.roleName;
  }
  try {
    return await createWithRole(clients, opts, roleArn, roleCreated, handler, sleep);
  } catch (err) {
    // A role made for a function Lambda then refused would be left for nobody.
    if (roleCreated && roleName !== undefined) await removeRole(clients, roleName);
    throw err;
  }
}

async function removeRole(clients: AwsClients, roleName: string): Promise<void> {
  try {
    await clients.iam().send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: INLINE_POLICY_NAME }));
    await clients.iam().send(new DeleteRoleCommand({ RoleName: roleName }));
  } catch {
    // Best effort: the refusal that brought us here is what the user must see.
  }
}

async function createWithRole(
  clients: AwsClients,
  opts: CreateFunctionOptions,
  roleArn: string,
  roleCreated: boolean,
  handler: string,
  sleep: Sleep,
): Promise<CreatedFunction> {
  const input: CreateFunctionCommandInput = {
    FunctionName: opts.name,
    Runtime: opts.runtime as Runtime, // new runtimes appear before our SDK knows them; Lambda validates
    Role: roleArn,
    Handler: handler,
    Code: { ZipFile: opts.code.zip },
    ...(opts.timeout !== undefined ? { Timeout: opts.timeout } : {}),
    ...(opts.memory !== undefined ? { MemorySize: opts.memory } : {}),
  };
  let created: FunctionConfiguration | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      created = await clients.lambda().send(new CreateFunctionCommand(input));
      break;
    } catch (err) {
      if (errorName(err) === "ResourceConflictException") {
        throw new UserError(`function ${opts.name} already exists in ${clients.config.region}; update its code with: chatctl lambda-update ${opts.name} <zip|entry>`);
      }
      const delay = ROLE_RETRY_DELAYS_MS[attempt];
      if (!roleNotReady(err) || delay === undefined) {
        if (roleNotReady(err)) throw new UserError(`Lambda still cannot assume role ${roleArn} after a minute: check its trust policy allows lambda.amazonaws.com`);
        throw err;
      }
      opts.onProgress?.(`waiting for role ${roleArn} to reach Lambda (IAM is eventually consistent)...`);
      await sleep(delay);
    }
  }
  const settled = await waitUntilSettled(clients, opts.name, sleep);
  return {
    functionName: created.FunctionName ?? opts.name,
    functionArn: created.FunctionArn ?? "",
    roleArn,
    roleCreated,
    handler,
    runtime: opts.runtime,
    codeSha256: settled.CodeSha256 ?? created.CodeSha256 ?? "",
    state: settled.State ?? "",
  };
}

/** Polls until the function is Active and no update is in progress (a few seconds on AWS). */
async function waitUntilSettled(clients: AwsClients, name: string, sleep: Sleep, timeoutMs = 5 * 60_000): Promise<FunctionConfiguration> {
  let waited = 0;
  for (let delay = 250; ; delay = Math.min(delay * 2, 2000)) {
    const c = await clients.lambda().send(new GetFunctionConfigurationCommand({ FunctionName: name }));
    if (c.State === "Failed" || c.LastUpdateStatus === "Failed") {
      throw new UserError(`function ${name} failed to become ready: ${c.StateReason ?? c.LastUpdateStatusReason ?? "no reason given"}`);
    }
    if ((c.State === undefined || c.State === "Active") && c.LastUpdateStatus !== "InProgress") return c;
    if (waited >= timeoutMs) throw new UserError(`function ${name} is still ${c.State}/${c.LastUpdateStatus} after ${Math.round(timeoutMs / 1000)} s`);
    await sleep(delay);
    waited += delay;
  }
}

export interface UpdatedFunction {
  readonly functionName: string;
  readonly functionArn: string;
  readonly codeSha256: string;
  readonly previousCodeSha256: string;
  readonly outcome: "updated" | "unchanged";
  /** Set when the bundle's handler is not the function's: the code would not be found. */
  readonly handlerMismatch?: { readonly function: string; readonly bundle: string };
}

export async function updateFunctionCode(clients: AwsClients, name: string, code: FunctionCode, sleep: Sleep = realSleep): Promise<UpdatedFunction> {
  assertSafeId("function name", name);
  let before: FunctionConfiguration;
  try {
    before = await waitUntilSettled(clients, name, sleep);
  } catch (err) {
    if (isNotFound(err)) throw new UserError(`no function ${name} in ${clients.config.region}; create it with: chatctl lambda-create ${name} <zip|entry> <handler> <runtime>`);
    throw err;
  }
  let after: FunctionConfiguration | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      after = await clients.lambda().send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: code.zip }));
      break;
    } catch (err) {
      // Someone else's update is still being applied; ours goes in after it.
      if (errorName(err) !== "ResourceConflictException" || attempt >= 8) throw err;
      await sleep(Math.min(500 * 2 ** attempt, 5000));
    }
  }
  await waitUntilSettled(clients, name, sleep);
  const previous = before.CodeSha256 ?? "";
  const now = after.CodeSha256 ?? "";
  return {
    functionName: name,
    functionArn: after.FunctionArn ?? before.FunctionArn ?? "",
    codeSha256: now,
    previousCodeSha256: previous,
    outcome: now === previous ? "unchanged" : "updated",
    ...(code.bundledHandler && before.Handler && before.Handler !== code.bundledHandler
      ? { handlerMismatch: { function: before.Handler, bundle: code.bundledHandler } }
      : {}),
  };
}
