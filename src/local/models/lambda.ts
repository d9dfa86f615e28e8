/**
 * The Lambda control plane, in memory: functions ($LATEST only), their code as
 * zip bytes, configuration, tags, resource policy, and the state machine AWS
 * puts functions through (State Pending -> Active after create, LastUpdateStatus
 * InProgress -> Successful after an update, updates refused meanwhile). Invoke
 * hands the function to a FunctionInvoker (the local runner); the model itself
 * runs no code.
 *
 * Input and output shapes are those of @aws-sdk/client-lambda commands.
 *
 * Not modelled (calls using them fail, or the field is ignored, as noted):
 * - versions, aliases, Publish (ignored: everything is $LATEST), qualifiers other
 *   than $LATEST (ResourceNotFoundException);
 * - container images (PackageType Image) and S3 code (InvalidParameterValueException);
 * - layers, VPC, EFS, dead-letter queues, KMS, X-Ray, SnapStart, code signing,
 *   function URLs, concurrency, event source mappings, event invoke configs
 *   (ignored on input, AWS defaults on output where the SDK shape has them);
 * - Code.Location in GetFunction is a URL of the right shape that serves nothing;
 * - Invoke's ClientContext (ignored) and the runtime's own errors beyond a missing
 *   handler file (the runner reports those: export not found, timeouts...);
 * - the Failed and Inactive states (never reached), and account quotas other than
 *   zip, payload and environment sizes.
 *
 * Runtimes follow Lambda's deprecation schedule (src/aws/lambda-rules.ts): from a
 * runtime's create-block date CreateFunction (or a change to it) is refused, from
 * its update-block date every update of a function on it is too
 * (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html#runtime-support-policy).
 */
import { createHash, randomUUID } from "node:crypto";
import { unzipSync } from "fflate";
import { AwsError, ServiceModel, type FunctionInvoker, type InvokeResult, type LocalFunction, type OpHandler, type OpInput, type OpOutput } from "../service.js";
import { RESERVED_LAMBDA_ENVIRONMENT, runtimePhase } from "../../aws/lambda-rules.js";
import { partitionOf } from "../../aws/region.js";
import { errorMessage } from "../../errors.js";
import { tagsProblem } from "../../aws/tag-rules.js";

export interface RoleDirectory {
  lookup(roleArn: string): { createdAt: number } | undefined;
}

export interface LambdaModelOptions {
  readonly region: string;
  readonly accountId: string;
  readonly invoker?: FunctionInvoker;
  /** When given, CreateFunction and role changes check the role exists and has propagated. */
  readonly roles?: RoleDirectory;
  /** How long after its creation a role still cannot be assumed by Lambda (IAM's eventual consistency). */
  readonly rolePropagationMs?: number;
  /** How long Pending -> Active and InProgress -> Successful take; 0 settles on the next read. */
  readonly stateTransitionMs?: number;
  /** ListFunctions page size cap, small in tests so pagination is exercised. */
  readonly pageSize?: number;
  /** The day runtimes are checked against Lambda's deprecation schedule; the clock's when omitted. */
  readonly today?: () => Date;
}

export const SUPPORTED_RUNTIMES = ["nodejs20.x", "nodejs22.x", "nodejs24.x"] as const;

const MAX_ZIP_BYTES = 50 * 1024 * 1024;
const MAX_UNZIPPED_BYTES = 250 * 1024 * 1024;
const MAX_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024;
const MAX_ENVIRONMENT_BYTES = 4 * 1024;
const DEFAULT_PAGE_SIZE = 50;
const LOG_TAIL_BYTES = 4 * 1024;
const FUNCTION_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const ROLE_ARN = /^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/;
const FUNCTION_ARN = /^arn:(aws[a-zA-Z-]*):lambda:([a-z0-9-]+):(\d{12}):function:([a-zA-Z0-9_-]+)(?::([a-zA-Z0-9$_-]+))?$/;
const PARTIAL_ARN = /^(\d{12}):function:([a-zA-Z0-9_-]+)(?::([a-zA-Z0-9$_-]+))?$/;
const NAME_WITH_QUALIFIER = /^([a-zA-Z0-9_-]+)(?::([a-zA-Z0-9$_-]+))?$/;
const STATEMENT_ID = /^[a-zA-Z0-9_.-]{1,100}$/;
const PERMISSION_ACTION = /^(lambda:[*]|lambda:[a-zA-Z]+|[*])$/;
const ENV_KEY = /^[a-zA-Z]([a-zA-Z0-9_])+$/;
const RESERVED_ENV_KEYS = RESERVED_LAMBDA_ENVIRONMENT;

export const ROLE_CANNOT_BE_ASSUMED = "The role defined for the function cannot be assumed by Lambda.";

interface Code {
  readonly zip: Uint8Array;
  readonly sha256: string;
  readonly files: ReadonlySet<string>;
}

interface Configuration {
  readonly runtime: string;
  readonly role: string;
  readonly handler: string;
  readonly description: string;
  readonly timeout: number;
  readonly memorySize: number;
  readonly environment: Readonly<Record<string, string>> | undefined;
  readonly architectures: readonly string[];
}

interface Statement {
  readonly Sid: string;
  readonly Effect: "Allow";
  readonly Principal: string | { Service: string } | { AWS: string };
  readonly Action: string;
  readonly Resource: string;
  readonly Condition?: Record<string, Record<string, string>>;
}

/**
 * The code and configuration invocations run. A new object whenever either changes, so
 * what is derived from them for every invocation (every $connect) is kept on it.
 */
interface Serving {
  readonly config: Configuration;
  readonly code: Code;
  local?: LocalFunction;
  /** Whether the zip holds the handler's module (.js, .mjs or .cjs). */
  handlerFound?: boolean;
}

interface FunctionRecord {
  readonly name: string;
  readonly arn: string;
  config: Configuration;
  code: Code;
  /** What invocations run: during an update AWS keeps serving the previous code and configuration. */
  serving: Serving | undefined;
  tags: Record<string, string>;
  statements: Statement[];
  revisionId: string;
  lastModified: string;
  phase: "creating" | "updating" | "settled";
  settlesAt: number;
}

function str(input: OpInput, key: string): string | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new AwsError("ValidationException", `1 validation error detected: Value at '${lowerFirst(key)}' must be a string`);
  return v;
}

function num(input: OpInput, key: string): number | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v)) throw new AwsError("ValidationException", `1 validation error detected: Value at '${lowerFirst(key)}' must be an integer`);
  return v;
}

function record(input: OpInput, key: string): Record<string, unknown> | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "object" || Array.isArray(v)) throw new AwsError("ValidationException", `1 validation error detected: Value at '${lowerFirst(key)}' must be a structure`);
  return v as Record<string, unknown>;
}

function stringMap(v: unknown, what: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" || Array.isArray(v)) throw new AwsError("ValidationException", `1 validation error detected: Value at '${what}' must be a map`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== "string") throw new AwsError("ValidationException", `1 validation error detected: Value at '${what}.${k}' must be a string`);
    out[k] = val;
  }
  return out;
}

// Payloads serialized here by JSON.stringify (the gateway's events): Invoke need not parse
// them again to know they are JSON; on every $connect that parse was the model's largest cost.
const SERIALIZED_JSON = new WeakSet<Uint8Array>();

/** A value as an Invoke payload, known to be JSON without parsing it back. */
export function jsonPayload(value: unknown): Uint8Array {
  const payload = Buffer.from(JSON.stringify(value) ?? "null", "utf8");
  SERIALIZED_JSON.add(payload);
  return payload;
}

function bytes(v: unknown): Uint8Array | undefined {
  if (v === undefined || v === null) return undefined;
  if (v instanceof Uint8Array) return v;
  if (typeof v === "string") return new TextEncoder().encode(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  throw new AwsError("InvalidRequestContentException", "Could not read the request payload: expected bytes");
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

function required<T>(v: T | undefined, member: string): T {
  if (v === undefined) {
    throw new AwsError("ValidationException", `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`);
  }
  return v;
}

function awsTimestamp(ms: number): string {
  // Lambda writes LastModified as "2024-05-01T12:00:00.000+0000", not ISO's "Z".
  return new Date(ms).toISOString().replace("Z", "+0000");
}

/** The SDK hands Invoke's Payload out as a Uint8Array with transformToString; so does the model. */
function payloadBlob(data: Uint8Array): Uint8Array & { transformToString(encoding?: string): string } {
  const out = new Uint8Array(data);
  return Object.assign(out, {
    transformToString(encoding = "utf-8"): string {
      return encoding === "base64" ? Buffer.from(out).toString("base64") : new TextDecoder(encoding).decode(out);
    },
  });
}

function handlerModule(handler: string): string {
  const dot = handler.lastIndexOf(".");
  return dot > 0 ? handler.slice(0, dot) : handler;
}

export class LambdaModel extends ServiceModel {
  readonly service = "lambda";
  private readonly region: string;
  private readonly accountId: string;
  private readonly partition: string;
  private invoker: FunctionInvoker | undefined;
  private readonly roles: RoleDirectory | undefined;
  private readonly rolePropagationMs: number;
  private readonly stateTransitionMs: number;
  private readonly pageSize: number;
  private readonly today: () => Date;
  private readonly functions = new Map<string, FunctionRecord>();

  constructor(options: LambdaModelOptions) {
    super();
    this.region = options.region;
    this.accountId = options.accountId;
    this.partition = partitionOf(options.region);
    this.invoker = options.invoker;
    this.roles = options.roles;
    this.rolePropagationMs = options.rolePropagationMs ?? 0;
    this.stateTransitionMs = options.stateTransitionMs ?? 0;
    this.today = options.today ?? (() => new Date());
    this.pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  }

  protected readonly operations: Readonly<Record<string, OpHandler>> = {
    CreateFunction: (i) => this.createFunction(i),
    GetFunction: (i) => this.getFunction(i),
    GetFunctionConfiguration: (i) => this.configurationOf(this.find(i)),
    UpdateFunctionCode: (i) => this.updateFunctionCode(i),
    UpdateFunctionConfiguration: (i) => this.updateFunctionConfiguration(i),
    DeleteFunction: (i) => this.deleteFunction(i),
    ListFunctions: (i) => this.listFunctions(i),
    AddPermission: (i) => this.addPermission(i),
    RemovePermission: (i) => this.removePermission(i),
    GetPolicy: (i) => this.getPolicy(i),
    TagResource: (i) => this.tagResource(i),
    UntagResource: (i) => this.untagResource(i),
    ListTags: (i) => this.listTags(i),
    Invoke: (i) => this.invoke(i),
  };

  // ---- for the local cloud (not AWS operations) ----

  /** The function as invocations see it now (during an update: the previous code and configuration). */
  localFunction(nameOrArn: string): LocalFunction | undefined {
    const name = this.nameOf(nameOrArn);
    const fn = name === undefined ? undefined : this.functions.get(name);
    if (!fn) return undefined;
    this.settle(fn);
    return fn.serving ? this.servingLocal(fn, fn.serving) : undefined;
  }

  functionNames(): string[] {
    return [...this.functions.keys()].sort();
  }

  setInvoker(invoker: FunctionInvoker): void {
    this.invoker = invoker;
  }

  // ---- operations ----

  private createFunction(input: OpInput): OpOutput {
    const name = required(str(input, "FunctionName"), "functionName");
    if (!FUNCTION_NAME.test(name)) throw this.invalidName(name);
    if (str(input, "PackageType") === "Image") {
      throw new AwsError("InvalidParameterValueException", "Container image functions are not supported by the chatctl local cloud; use a .zip file archive.");
    }
    const codeInput = required(record(input, "Code"), "code");
    const code = this.codeFrom(codeInput["ZipFile"], codeInput);
    const architectures = input["Architectures"];
    const config = this.validConfig({
      runtime: required(str(input, "Runtime"), "runtime"),
      role: required(str(input, "Role"), "role"),
      handler: required(str(input, "Handler"), "handler"),
      description: str(input, "Description") ?? "",
      timeout: num(input, "Timeout") ?? 3,
      memorySize: num(input, "MemorySize") ?? 128,
      environment: this.environmentFrom(record(input, "Environment")),
      architectures: Array.isArray(architectures) && architectures.length > 0 ? architectures.map(String) : ["x86_64"],
    });
    if (this.functions.has(name)) throw new AwsError("ResourceConflictException", `Function already exist: ${name}`, 409);
    this.checkRuntimeOpen(config.runtime, "create");
    checkTagText(stringMap(input["Tags"], "tags"));
    this.checkRoleAssumable(config.role);
    const now = Date.now();
    const fn: FunctionRecord = {
      name,
      arn: this.functionArn(name),
      config,
      code,
      serving: undefined,
      tags: stringMap(input["Tags"], "tags"),
      statements: [],
      revisionId: randomUUID(),
      lastModified: awsTimestamp(now),
      phase: "creating",
      settlesAt: now + this.stateTransitionMs,
    };
    this.functions.set(name, fn);
    // AWS answers CreateFunction with the function still Pending, whatever the delay.
    return this.configurationOf(fn, false);
  }

  private getFunction(input: OpInput): OpOutput {
    const fn = this.find(input);
    const out: OpOutput = {
      Configuration: this.configurationOf(fn),
      Code: {
        RepositoryType: "S3",
        Location: `https://awslambda-${this.region}-tasks.s3.${this.region}.amazonaws.com/snapshots/${this.accountId}/${fn.name}-${fn.revisionId}`,
      },
    };
    if (Object.keys(fn.tags).length > 0) out["Tags"] = { ...fn.tags };
    return out;
  }

  private updateFunctionCode(input: OpInput): OpOutput {
    const fn = this.find(input);
    const code = this.codeFrom(input["ZipFile"], input);
    this.checkRevision(fn, str(input, "RevisionId"));
    this.checkRuntimeOpen(fn.config.runtime, "update");
    if (input["DryRun"] === true) return this.configurationOf(fn);
    this.checkNotBusy(fn);
    fn.code = code;
    if (Array.isArray(input["Architectures"]) && input["Architectures"].length > 0) {
      fn.config = { ...fn.config, architectures: input["Architectures"].map(String) };
    }
    this.startUpdate(fn);
    return this.configurationOf(fn, false);
  }

  private updateFunctionConfiguration(input: OpInput): OpOutput {
    const fn = this.find(input);
    const environmentInput = record(input, "Environment");
    const next = this.validConfig({
      runtime: str(input, "Runtime") ?? fn.config.runtime,
      role: str(input, "Role") ?? fn.config.role,
      handler: str(input, "Handler") ?? fn.config.handler,
      description: str(input, "Description") ?? fn.config.description,
      timeout: num(input, "Timeout") ?? fn.config.timeout,
      memorySize: num(input, "MemorySize") ?? fn.config.memorySize,
      environment: environmentInput === undefined ? fn.config.environment : this.environmentFrom(environmentInput),
      architectures: fn.config.architectures,
    });
    this.checkRevision(fn, str(input, "RevisionId"));
    // Moving to a runtime counts as creating on it; staying on one as updating it.
    this.checkRuntimeOpen(next.runtime, next.runtime === fn.config.runtime ? "update" : "create");
    this.checkNotBusy(fn);
    if (next.role !== fn.config.role) this.checkRoleAssumable(next.role);
    fn.config = next;
    this.startUpdate(fn);
    return this.configurationOf(fn, false);
  }

  private deleteFunction(input: OpInput): OpOutput {
    const fn = this.find(input);
    this.functions.delete(fn.name);
    return { StatusCode: 204 };
  }

  private listFunctions(input: OpInput): OpOutput {
    const maxItems = num(input, "MaxItems");
    if (maxItems !== undefined && (maxItems < 1 || maxItems > 10000)) {
      throw new AwsError("InvalidParameterValueException", "MaxItems must be between 1 and 10000.");
    }
    const names = this.functionNames();
    const marker = str(input, "Marker");
    let start = 0;
    if (marker !== undefined) {
      const after = Buffer.from(marker, "base64url").toString("utf8");
      if (!FUNCTION_NAME.test(after)) throw new AwsError("InvalidParameterValueException", "Invalid marker.");
      start = names.findIndex((n) => n > after);
      if (start < 0) start = names.length;
    }
    const size = Math.min(maxItems ?? DEFAULT_PAGE_SIZE, this.pageSize);
    const page = names.slice(start, start + size);
    const out: OpOutput = { Functions: page.map((n) => this.configurationOf(this.functions.get(n) as FunctionRecord)) };
    const last = page.at(-1);
    if (last !== undefined && start + size < names.length) out["NextMarker"] = Buffer.from(last, "utf8").toString("base64url");
    return out;
  }

  private addPermission(input: OpInput): OpOutput {
    const fn = this.find(input);
    const sid = required(str(input, "StatementId"), "statementId");
    const action = required(str(input, "Action"), "action");
    const principal = required(str(input, "Principal"), "principal");
    if (!STATEMENT_ID.test(sid)) {
      throw new AwsError(
        "ValidationException",
        `1 validation error detected: Value '${sid}' at 'statementId' failed to satisfy constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_.]+)`,
      );
    }
    if (!PERMISSION_ACTION.test(action)) {
      throw new AwsError(
        "ValidationException",
        `1 validation error detected: Value '${action}' at 'action' failed to satisfy constraint: Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])`,
      );
    }
    this.checkRevision(fn, str(input, "RevisionId"));
    if (fn.statements.some((s) => s.Sid === sid)) {
      throw new AwsError(
        "ResourceConflictException",
        "The statement id (" + sid + ") provided already exists. Please specify a new statement id, or remove the existing statement.",
        409,
      );
    }
    const condition: Record<string, Record<string, string>> = {};
    const sourceArn = str(input, "SourceArn");
    const sourceAccount = str(input, "SourceAccount");
    const orgId = str(input, "PrincipalOrgID");
    if (sourceAccount !== undefined) condition["StringEquals"] = { "AWS:SourceAccount": sourceAccount };
    if (orgId !== undefined) condition["StringEquals"] = { ...condition["StringEquals"], "aws:PrincipalOrgID": orgId };
    if (sourceArn !== undefined) condition["ArnLike"] = { "AWS:SourceArn": sourceArn };
    const statement: Statement = {
      Sid: sid,
      Effect: "Allow",
      Principal: this.principalOf(principal),
      Action: action,
      Resource: fn.arn,
      ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
    };
    fn.statements.push(statement);
    fn.revisionId = randomUUID();
    return { Statement: JSON.stringify(statement) };
  }

  private removePermission(input: OpInput): OpOutput {
    const fn = this.find(input);
    const sid = required(str(input, "StatementId"), "statementId");
    this.checkRevision(fn, str(input, "RevisionId"));
    const index = fn.statements.findIndex((s) => s.Sid === sid);
    if (index < 0) throw new AwsError("ResourceNotFoundException", `Statement ${sid} is not found in resource policy.`, 404);
    fn.statements.splice(index, 1);
    fn.revisionId = randomUUID();
    return {};
  }

  private getPolicy(input: OpInput): OpOutput {
    const fn = this.find(input);
    if (fn.statements.length === 0) throw new AwsError("ResourceNotFoundException", "The resource you requested does not exist.", 404);
    return {
      Policy: JSON.stringify({ Version: "2012-10-17", Id: "default", Statement: fn.statements }),
      RevisionId: fn.revisionId,
    };
  }

  private tagResource(input: OpInput): OpOutput {
    const fn = this.byResourceArn(input);
    const tags = stringMap(input["Tags"], "tags");
    const merged = { ...fn.tags, ...tags };
    if (Object.keys(merged).length > 50) throw new AwsError("InvalidParameterValueException", "Number of tags exceeds resource tag limit.");
    for (const key of Object.keys(tags)) {
      if (key.toLowerCase().startsWith("aws:")) throw new AwsError("InvalidParameterValueException", `Tag keys starting with 'aws:' are reserved for system use: ${key}`);
    }
    checkTagText(tags);
    fn.tags = merged;
    return {};
  }

  private untagResource(input: OpInput): OpOutput {
    const fn = this.byResourceArn(input);
    const keys = input["TagKeys"];
    if (!Array.isArray(keys)) required(undefined, "tagKeys");
    for (const key of keys as unknown[]) delete fn.tags[String(key)];
    return {};
  }

  private listTags(input: OpInput): OpOutput {
    return { Tags: { ...this.byResourceArn(input).tags } };
  }

  private async invoke(input: OpInput): Promise<OpOutput> {
    const fn = this.find(input);
    const invocationType = str(input, "InvocationType") ?? "RequestResponse";
    if (!["RequestResponse", "Event", "DryRun"].includes(invocationType)) {
      throw new AwsError(
        "ValidationException",
        `1 validation error detected: Value '${invocationType}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]`,
      );
    }
    const payload = bytes(input["Payload"]) ?? new Uint8Array();
    if (payload.byteLength > MAX_SYNC_PAYLOAD_BYTES) {
      throw new AwsError(
        "RequestTooLargeException",
        `Request must be smaller than ${MAX_SYNC_PAYLOAD_BYTES} bytes for the InvokeFunction operation`,
        413,
      );
    }
    if (payload.byteLength > 0 && !SERIALIZED_JSON.has(payload)) {
      try {
        JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString("utf8"));
      } catch (err) {
        throw new AwsError("InvalidRequestContentException", `Could not parse request body into json: ${errorMessage(err)}`);
      }
    }
    this.settle(fn);
    if (fn.phase === "creating" || !fn.serving) {
      throw new AwsError(
        "ResourceConflictException",
        "The operation cannot be performed at this time. The function is currently in the following state: Pending",
        409,
      );
    }
    if (invocationType === "DryRun") return { StatusCode: 204, ExecutedVersion: "$LATEST" };
    const serving = fn.serving;
    const local = this.servingLocal(fn, serving);
    const invoker = this.invoker;
    if (!invoker) {
      throw new AwsError("ServiceException", "The chatctl local Lambda runner is not attached to this Lambda model; cannot invoke functions.", 500);
    }
    const run = (): Promise<InvokeResult> => {
      serving.handlerFound ??= hasHandlerModule(local.handler, serving.code.files);
      const missing = serving.handlerFound ? undefined : this.importModuleError(local);
      return missing ? Promise.resolve(missing) : invoker.invoke(local, payload);
    };
    if (invocationType === "Event") {
      // Asynchronous invocation: AWS queues it and answers 202 at once; the outcome only shows in the logs.
      void run().catch(() => undefined);
      return { StatusCode: 202, Payload: payloadBlob(new Uint8Array()) };
    }
    let result: InvokeResult;
    try {
      result = await run();
    } catch (err) {
      throw new AwsError("ServiceException", `The local Lambda runner failed: ${errorMessage(err)}`, 500);
    }
    const out: OpOutput = { StatusCode: result.statusCode, ExecutedVersion: "$LATEST", Payload: payloadBlob(result.payload) };
    if (result.functionError) out["FunctionError"] = result.functionError;
    if (str(input, "LogType") === "Tail") {
      const log = Buffer.from(result.logTail ?? "", "utf8");
      out["LogResult"] = log.subarray(Math.max(0, log.length - LOG_TAIL_BYTES)).toString("base64");
    }
    return out;
  }

  // ---- rules ----

  /** Resolves a FunctionName (name, partial ARN or ARN, optional qualifier) plus the Qualifier member. */
  private find(input: OpInput): FunctionRecord {
    const raw = required(str(input, "FunctionName"), "functionName");
    const parsed = this.parseFunctionName(raw);
    if (!parsed) throw this.invalidName(raw);
    const qualifier = str(input, "Qualifier") ?? parsed.qualifier;
    const fn = parsed.here ? this.functions.get(parsed.name) : undefined;
    if (!fn || (qualifier !== undefined && qualifier !== "$LATEST")) {
      const arn = parsed.here ? this.functionArn(parsed.name) + (qualifier !== undefined ? `:${qualifier}` : "") : raw;
      throw new AwsError("ResourceNotFoundException", `Function not found: ${arn}`, 404);
    }
    this.settle(fn);
    return fn;
  }

  private byResourceArn(input: OpInput): FunctionRecord {
    const arn = required(str(input, "Resource"), "resource");
    const m = FUNCTION_ARN.exec(arn);
    if (!m) throw new AwsError("ValidationException", `1 validation error detected: Value '${arn}' at 'resource' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?`);
    const fn = m[2] === this.region && m[3] === this.accountId ? this.functions.get(m[4] as string) : undefined;
    if (!fn) throw new AwsError("ResourceNotFoundException", `Function not found: ${arn}`, 404);
    this.settle(fn);
    return fn;
  }

  private parseFunctionName(raw: string): { name: string; qualifier: string | undefined; here: boolean } | undefined {
    const full = FUNCTION_ARN.exec(raw);
    // Another account's or region's function does not exist here.
    if (full) return { name: full[4] as string, qualifier: full[5], here: full[2] === this.region && full[3] === this.accountId };
    const partial = PARTIAL_ARN.exec(raw);
    if (partial) return { name: partial[2] as string, qualifier: partial[3], here: partial[1] === this.accountId };
    const plain = NAME_WITH_QUALIFIER.exec(raw);
    if (plain && (plain[1] as string).length <= 64) return { name: plain[1] as string, qualifier: plain[2], here: true };
    return undefined;
  }

  private nameOf(nameOrArn: string): string | undefined {
    const parsed = this.parseFunctionName(nameOrArn);
    return parsed?.here ? parsed.name : undefined;
  }

  private invalidName(name: string): AwsError {
    return new AwsError(
      "ValidationException",
      `1 validation error detected: Value '${name}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?`,
    );
  }

  private codeFrom(zipInput: unknown, codeInput: Record<string, unknown>): Code {
    const zip = bytes(zipInput);
    if (zip === undefined) {
      if (codeInput["S3Bucket"] !== undefined || codeInput["ImageUri"] !== undefined) {
        throw new AwsError("InvalidParameterValueException", "The chatctl local cloud accepts code only as ZipFile bytes, not from S3 or an image.");
      }
      throw new AwsError("InvalidParameterValueException", "Please provide a source for function code.");
    }
    if (zip.byteLength > MAX_ZIP_BYTES) {
      throw new AwsError("RequestEntityTooLargeException", `Request must be smaller than ${MAX_ZIP_BYTES} bytes for the CreateFunction operation`, 413);
    }
    const files = new Set<string>();
    let unzippedBytes = 0;
    try {
      // Only the directory is read: the names are all the model needs until the runner unpacks the code.
      unzipSync(zip, {
        filter: (file) => {
          files.add(file.name);
          unzippedBytes += file.originalSize;
          return false;
        },
      });
    } catch {
      throw new AwsError("InvalidParameterValueException", "Could not unzip uploaded file. Please check your file, then try to upload again.");
    }
    if (files.size === 0) throw new AwsError("InvalidParameterValueException", "Could not unzip uploaded file. Please check your file, then try to upload again.");
    if (unzippedBytes > MAX_UNZIPPED_BYTES) {
      throw new AwsError("InvalidParameterValueException", `Unzipped size must be smaller than ${MAX_UNZIPPED_BYTES} bytes`);
    }
    return { zip: new Uint8Array(zip), sha256: createHash("sha256").update(zip).digest("base64"), files };
  }

  private environmentFrom(env: Record<string, unknown> | undefined): Record<string, string> | undefined {
    if (env === undefined) return undefined;
    const variables = stringMap(env["Variables"], "environment.variables");
    const reserved = Object.keys(variables).filter((k) => RESERVED_ENV_KEYS.has(k));
    if (reserved.length > 0) {
      throw new AwsError(
        "InvalidParameterValueException",
        `Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${reserved.join(", ")}`,
      );
    }
    for (const key of Object.keys(variables)) {
      if (!ENV_KEY.test(key)) {
        throw new AwsError(
          "ValidationException",
          `1 validation error detected: Value at 'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]`,
        );
      }
    }
    const measured = JSON.stringify(variables);
    if (Buffer.byteLength(measured, "utf8") > MAX_ENVIRONMENT_BYTES) {
      throw new AwsError(
        "InvalidParameterValueException",
        `Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: ${measured}`,
      );
    }
    return Object.keys(variables).length > 0 ? variables : undefined;
  }

  private validConfig(c: Configuration): Configuration {
    if (!(SUPPORTED_RUNTIMES as readonly string[]).includes(c.runtime)) {
      throw new AwsError(
        "InvalidParameterValueException",
        `The runtime parameter of ${c.runtime} is not supported by the chatctl local cloud. Supported runtimes: ${SUPPORTED_RUNTIMES.join(", ")}.`,
      );
    }
    if (!ROLE_ARN.test(c.role)) {
      throw new AwsError(
        "ValidationException",
        `1 validation error detected: Value '${c.role}' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+`,
      );
    }
    if (c.handler.length === 0 || c.handler.length > 128 || /\s/.test(c.handler)) {
      throw new AwsError(
        "ValidationException",
        `1 validation error detected: Value '${c.handler}' at 'handler' failed to satisfy constraint: Member must satisfy regular expression pattern: [^\\s]+`,
      );
    }
    if (c.timeout < 1 || c.timeout > 900) {
      const bound = c.timeout < 1 ? "greater than or equal to 1" : "less than or equal to 900";
      throw new AwsError("ValidationException", `1 validation error detected: Value '${c.timeout}' at 'timeout' failed to satisfy constraint: Member must have value ${bound}`);
    }
    if (c.memorySize < 128 || c.memorySize > 10240) {
      const bound = c.memorySize < 128 ? "greater than or equal to 128" : "less than or equal to 10240";
      throw new AwsError("ValidationException", `1 validation error detected: Value '${c.memorySize}' at 'memorySize' failed to satisfy constraint: Member must have value ${bound}`);
    }
    if (c.description.length > 256) {
      throw new AwsError("ValidationException", "1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 256");
    }
    for (const arch of c.architectures) {
      if (arch !== "x86_64" && arch !== "arm64") {
        throw new AwsError("ValidationException", `1 validation error detected: Value '[${arch}]' at 'architectures' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64]]`);
      }
    }
    return c;
  }

  private checkRuntimeOpen(runtime: string, what: "create" | "update"): void {
    const phase = runtimePhase(runtime, this.today());
    if (phase === "update-blocked" || (what === "create" && phase === "create-blocked")) {
      throw new AwsError(
        "InvalidParameterValueException",
        `The runtime parameter of ${runtime} is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions.`,
      );
    }
  }

  private checkRoleAssumable(roleArn: string): void {
    if (!this.roles) return;
    const role = this.roles.lookup(roleArn);
    if (!role || Date.now() - role.createdAt < this.rolePropagationMs) {
      throw new AwsError("InvalidParameterValueException", ROLE_CANNOT_BE_ASSUMED);
    }
  }

  private checkRevision(fn: FunctionRecord, revisionId: string | undefined): void {
    if (revisionId !== undefined && revisionId !== fn.revisionId) {
      throw new AwsError(
        "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
        412,
      );
    }
  }

  private checkNotBusy(fn: FunctionRecord): void {
    if (fn.phase === "creating") {
      throw new AwsError(
        "ResourceConflictException",
        "The operation cannot be performed at this time. The function is currently in the following state: Pending",
        409,
      );
    }
    if (fn.phase === "updating") {
      throw new AwsError("ResourceConflictException", `The operation cannot be performed at this time. An update is in progress for resource: ${fn.arn}`, 409);
    }
  }

  private startUpdate(fn: FunctionRecord): void {
    const now = Date.now();
    fn.phase = "updating";
    fn.settlesAt = now + this.stateTransitionMs;
    fn.revisionId = randomUUID();
    fn.lastModified = awsTimestamp(now);
  }

  /** Time-driven transitions happen lazily, when someone looks: no timers to leak. */
  private settle(fn: FunctionRecord): void {
    if (fn.phase !== "settled" && Date.now() >= fn.settlesAt) {
      fn.phase = "settled";
      fn.serving = { config: fn.config, code: fn.code };
    }
  }

  private principalOf(principal: string): Statement["Principal"] {
    if (principal === "*") return "*";
    if (/^\d{12}$/.test(principal)) return { AWS: `arn:${this.partition}:iam::${principal}:root` };
    if (principal.startsWith("arn:")) return { AWS: principal };
    return { Service: principal };
  }

  private functionArn(name: string): string {
    return `arn:${this.partition}:lambda:${this.region}:${this.accountId}:function:${name}`;
  }

  private configurationOf(fn: FunctionRecord, settleFirst = true): OpOutput {
    if (settleFirst) this.settle(fn);
    const c = fn.config;
    const out: OpOutput = {
      FunctionName: fn.name,
      FunctionArn: fn.arn,
      Runtime: c.runtime,
      Role: c.role,
      Handler: c.handler,
      CodeSize: fn.code.zip.byteLength,
      Description: c.description,
      Timeout: c.timeout,
      MemorySize: c.memorySize,
      LastModified: fn.lastModified,
      CodeSha256: fn.code.sha256,
      Version: "$LATEST",
      TracingConfig: { Mode: "PassThrough" },
      RevisionId: fn.revisionId,
      PackageType: "Zip",
      Architectures: [...c.architectures],
      EphemeralStorage: { Size: 512 },
      SnapStart: { ApplyOn: "None", OptimizationStatus: "Off" },
      LoggingConfig: { LogFormat: "Text", LogGroup: `/aws/lambda/${fn.name}` },
    };
    if (c.environment !== undefined) out["Environment"] = { Variables: { ...c.environment } };
    if (fn.phase === "creating") {
      Object.assign(out, { State: "Pending", StateReason: "The function is being created.", StateReasonCode: "Creating" });
    } else if (fn.phase === "updating") {
      Object.assign(out, { State: "Active", LastUpdateStatus: "InProgress", LastUpdateStatusReason: "The function is being created.", LastUpdateStatusReasonCode: "Creating" });
    } else {
      Object.assign(out, { State: "Active", LastUpdateStatus: "Successful" });
    }
    return out;
  }

  private servingLocal(fn: FunctionRecord, serving: Serving): LocalFunction {
    return (serving.local ??= this.toLocal(fn, serving.config, serving.code));
  }

  private toLocal(fn: FunctionRecord, config: Configuration, code: Code): LocalFunction {
    return {
      functionName: fn.name,
      functionArn: fn.arn,
      runtime: config.runtime,
      handler: config.handler,
      timeoutSeconds: config.timeout,
      memoryMb: config.memorySize,
      environment: { ...(config.environment ?? {}) },
      codeSha256: code.sha256,
      zip: code.zip,
    };
  }

  /** Lambda accepts any zip and fails only when it loads the handler; so does the model. */
  private importModuleError(fn: LocalFunction): InvokeResult {
    const module = handlerModule(fn.handler);
    const errorMessage = `Error: Cannot find module '${module}'\nRequire stack:\n- /var/runtime/index.mjs`;
    const body = {
      errorType: "Runtime.ImportModuleError",
      errorMessage,
      trace: [`Runtime.ImportModuleError: ${errorMessage}`, "    at _loadUserApp (file:///var/runtime/index.mjs:1087:17)"],
    };
    const requestId = randomUUID();
    return {
      statusCode: 200,
      payload: new TextEncoder().encode(JSON.stringify(body)),
      functionError: "Unhandled",
      logTail:
        `${new Date().toISOString()}\tundefined\tERROR\tUncaught Exception \t${JSON.stringify(body)}\n` +
        `INIT_REPORT Init Duration: 1.00 ms\tPhase: init\tStatus: error\tError Type: Runtime.ImportModuleError\n` +
        `START RequestId: ${requestId} Version: $LATEST\nEND RequestId: ${requestId}\n` +
        `REPORT RequestId: ${requestId}\tDuration: 1.00 ms\tBilled Duration: 1 ms\tMemory Size: ${fn.memoryMb} MB\tMax Memory Used: 1 MB\tStatus: error\tError Type: Runtime.ImportModuleError\n`,
    };
  }
}

/** Lambda validates tags as every tagging service does (src/aws/tag-rules.ts). */
function checkTagText(tags: Record<string, string>): void {
  const problem = tagsProblem(Object.entries(tags));
  if (problem !== undefined) throw new AwsError("ValidationException", `1 validation error detected: Value at 'tags' failed to satisfy constraint: ${problem}`);
}

function hasHandlerModule(handler: string, files: ReadonlySet<string>): boolean {
  const module = handlerModule(handler);
  return [".js", ".mjs", ".cjs"].some((ext) => files.has(module + ext));
}
