import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  ListTagsCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  paginateListFunctions,
  type FunctionConfiguration,
  type Runtime,
  type UpdateFunctionConfigurationCommandInput,
} from "@aws-sdk/client-lambda";
import { TAG_ID, TAG_STACK, ownershipFromTags, type Actual, type Change, type Ctx, type ResolvedResource, type ResourceKind } from "./kind.js";
import { createOrAdopt, diffMaps } from "./common.js";
import { isAwsError } from "../aws/errors.js";
import type { FunctionProps, Tags } from "./props.js";

export interface FunctionAttributes {
  readonly runtime: string;
  readonly handler: string;
  readonly memory: number;
  readonly timeout: number;
  readonly description: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly roleArn: string;
  readonly codeSha256: string;
  /** The user's tags; chatctl's own (chatctl:*) are reported as ownership instead. */
  readonly tags: Readonly<Tags>;
}

/**
 * How the kind waits for Lambda's state machine (Pending -> Active after create,
 * InProgress -> Successful after an update). The first look is immediate; then
 * the interval grows by half each time up to the cap.
 */
export interface LambdaWaitOptions {
  readonly pollIntervalMs: number;
  readonly maxPollIntervalMs: number;
  readonly timeoutMs: number;
}

export const lambdaWaitOptions: LambdaWaitOptions = { pollIntervalMs: 250, maxPollIntervalMs: 2_000, timeoutMs: 10 * 60_000 };

const CONFIG_PATHS = new Set(["runtime", "handler", "memory", "timeout", "description", "roleArn"]);
const OWNERSHIP_TAG = /^chatctl:/;

function userTags(tags: Readonly<Record<string, string>> | undefined): Tags {
  return Object.fromEntries(Object.entries(tags ?? {}).filter(([k]) => !OWNERSHIP_TAG.test(k)));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function functionArnOf(ctx: Pick<Ctx, "partition" | "region" | "accountId">, functionName: string): string {
  return `arn:${ctx.partition}:lambda:${ctx.region}:${ctx.accountId}:function:${functionName}`;
}

function toActual(config: FunctionConfiguration, tags: Readonly<Record<string, string>> | undefined): Actual<FunctionAttributes> {
  const name = config.FunctionName ?? "";
  const arn = config.FunctionArn ?? "";
  return {
    physicalId: arn,
    attributes: {
      runtime: config.Runtime ?? "",
      handler: config.Handler ?? "",
      memory: config.MemorySize ?? 128,
      timeout: config.Timeout ?? 3,
      description: config.Description ?? "",
      environment: { ...(config.Environment?.Variables ?? {}) },
      roleArn: config.Role ?? "",
      codeSha256: config.CodeSha256 ?? "",
      tags: userTags(tags),
    },
    outputs: { functionArn: arn, functionName: name },
    ownership: ownershipFromTags(tags),
  };
}

async function readZip(props: FunctionProps): Promise<Uint8Array> {
  const zip = new Uint8Array(await readFile(props.code.zipPath));
  const sha256 = createHash("sha256").update(zip).digest("base64");
  if (sha256 !== props.code.sha256) {
    // The plan promised one code identity; uploading another would make the plan lie.
    throw new Error(
      `function ${props.functionName}: the zip at ${props.code.zipPath} has sha256 ${sha256}, but the plan was made for ${props.code.sha256}; run the plan again`,
    );
  }
  return zip;
}

export function createLambdaFunctionKind(waitOptions: Partial<LambdaWaitOptions> = {}) {
  const wait: LambdaWaitOptions = { ...lambdaWaitOptions, ...waitOptions };

  /** Polls GetFunctionConfiguration until `done`; a Failed state or update ends the wait with Lambda's reason. */
  async function waitFor(ctx: Ctx, functionName: string, what: string, done: (c: FunctionConfiguration) => boolean): Promise<FunctionConfiguration> {
    const deadline = Date.now() + wait.timeoutMs;
    let interval = wait.pollIntervalMs;
    for (;;) {
      const c = await ctx.clients.lambda().send(new GetFunctionConfigurationCommand({ FunctionName: functionName }));
      if (c.State === "Failed") {
        throw new Error(`function ${functionName} failed to become active: ${c.StateReasonCode ?? "Failed"}: ${c.StateReason ?? "no reason given"}`);
      }
      if (c.LastUpdateStatus === "Failed") {
        throw new Error(`function ${functionName}: the update failed: ${c.LastUpdateStatusReasonCode ?? "Failed"}: ${c.LastUpdateStatusReason ?? "no reason given"}`);
      }
      if (done(c)) return c;
      if (Date.now() + interval > deadline) {
        throw new Error(`function ${functionName} did not become ${what} within ${Math.round(wait.timeoutMs / 1000)} s (State ${c.State}, LastUpdateStatus ${c.LastUpdateStatus})`);
      }
      await sleep(interval);
      interval = Math.min(Math.round(interval * 1.5), wait.maxPollIntervalMs);
    }
  }

  const isActive = (c: FunctionConfiguration): boolean => c.State === "Active";
  const isSettled = (c: FunctionConfiguration): boolean => c.State === "Active" && c.LastUpdateStatus !== "InProgress";

  /**
   * Runs one update; if Lambda is still busy with an earlier one (a re-run after
   * a crash, someone else's change), waits for it and tries again.
   */
  async function updateWhenSettled(ctx: Ctx, functionName: string, send: () => Promise<FunctionConfiguration>): Promise<void> {
    let out: FunctionConfiguration;
    try {
      out = await send();
    } catch (err) {
      if (!isAwsError(err, "ResourceConflictException")) throw err;
      await waitFor(ctx, functionName, "ready for an update", isSettled);
      out = await send();
    }
    if (!isSettled(out)) await waitFor(ctx, functionName, "updated", isSettled);
  }

  async function read(ctx: Ctx, d: ResolvedResource<FunctionProps>): Promise<Actual<FunctionAttributes> | undefined> {
    try {
      const out = await ctx.clients.lambda().send(new GetFunctionCommand({ FunctionName: d.props.functionName }));
      if (!out.Configuration) return undefined;
      return toActual(out.Configuration, out.Tags);
    } catch (err) {
      if (isAwsError(err, "ResourceNotFoundException")) return undefined;
      throw err;
    }
  }

  async function mustRead(ctx: Ctx, d: ResolvedResource<FunctionProps>): Promise<Actual<FunctionAttributes>> {
    const actual = await read(ctx, d);
    if (!actual) throw new Error(`function ${d.props.functionName} disappeared while chatctl was working on it`);
    return actual;
  }

  function ownTags(ctx: Ctx, d: ResolvedResource<FunctionProps>): Tags {
    return { ...userTags(d.props.tags), [TAG_STACK]: ctx.stack, [TAG_ID]: d.id };
  }

  function diff(d: ResolvedResource<FunctionProps>, a: Actual<FunctionAttributes>): Change[] {
    const p = d.props;
    const changes: Change[] = [];
    if (p.code.sha256 !== a.attributes.codeSha256) changes.push({ path: "code.sha256", before: a.attributes.codeSha256, after: p.code.sha256 });
    const scalar = (path: string, before: unknown, after: unknown): void => {
      if (before !== after) changes.push({ path, before, after });
    };
    scalar("runtime", a.attributes.runtime, p.runtime);
    scalar("handler", a.attributes.handler, p.handler);
    scalar("memory", a.attributes.memory, p.memory);
    scalar("timeout", a.attributes.timeout, p.timeout);
    scalar("description", a.attributes.description, p.description);
    scalar("roleArn", a.attributes.roleArn, p.roleArn);
    changes.push(...diffMaps("environment", a.attributes.environment, p.environment));
    changes.push(...diffMaps("tags", a.attributes.tags, userTags(p.tags)));
    return changes;
  }

  async function update(ctx: Ctx, d: ResolvedResource<FunctionProps>, a: Actual<FunctionAttributes>, changes: readonly Change[]): Promise<Actual<FunctionAttributes>> {
    const p = d.props;
    const lambda = ctx.clients.lambda();
    const name = p.functionName;
    const has = (test: (path: string) => boolean): boolean => changes.some((c) => test(c.path));

    // Lambda refuses a second update while the first is InProgress, so code and
    // configuration go one after the other, each waited for.
    if (has((path) => path === "code.sha256" || path.startsWith("code."))) {
      const zip = await readZip(p);
      await updateWhenSettled(ctx, name, () => lambda.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: zip })));
    }

    const configInput: UpdateFunctionConfigurationCommandInput = { FunctionName: name };
    if (has((path) => path === "runtime")) configInput.Runtime = p.runtime as Runtime;
    if (has((path) => path === "handler")) configInput.Handler = p.handler;
    if (has((path) => path === "memory")) configInput.MemorySize = p.memory;
    if (has((path) => path === "timeout")) configInput.Timeout = p.timeout;
    if (has((path) => path === "description")) configInput.Description = p.description;
    if (has((path) => path === "roleArn")) configInput.Role = p.roleArn;
    // Variables are replaced as a whole: send them all, not only the changed keys.
    if (has((path) => path === "environment" || path.startsWith("environment."))) configInput.Environment = { Variables: { ...p.environment } };
    if (Object.keys(configInput).length > 1) {
      await updateWhenSettled(ctx, name, () => lambda.send(new UpdateFunctionConfigurationCommand(configInput)));
    }

    if (has((path) => path.startsWith("tags."))) {
      const wanted = ownTags(ctx, d);
      const current = a.attributes.tags;
      const removed = Object.keys(current).filter((k) => !(k in wanted));
      const changed = Object.fromEntries(Object.entries(wanted).filter(([k, v]) => current[k] !== v));
      if (Object.keys(changed).length > 0) await lambda.send(new TagResourceCommand({ Resource: a.physicalId, Tags: changed }));
      if (removed.length > 0) await lambda.send(new UntagResourceCommand({ Resource: a.physicalId, TagKeys: removed }));
    }
    return mustRead(ctx, d);
  }

  return {
    kind: "lambda.function",

    knownOutputs(ctx: Ctx, d: ResolvedResource<FunctionProps>): Record<string, string> {
      return { functionArn: functionArnOf(ctx, d.props.functionName), functionName: d.props.functionName };
    },

    read,
    diff,
    update,

    async create(ctx: Ctx, d: ResolvedResource<FunctionProps>): Promise<Actual<FunctionAttributes>> {
      const p = d.props;
      const zip = await readZip(p);
      return createOrAdopt<FunctionProps, FunctionAttributes, FunctionConfiguration>({ read, diff, update }, ctx, d, {
        create: () =>
          ctx.clients.lambda().send(
            new CreateFunctionCommand({
              FunctionName: p.functionName,
              Role: p.roleArn,
              Runtime: p.runtime as Runtime,
              Handler: p.handler,
              Code: { ZipFile: zip },
              Description: p.description,
              Timeout: p.timeout,
              MemorySize: p.memory,
              Environment: { Variables: { ...p.environment } },
              Tags: ownTags(ctx, d),
              PackageType: "Zip",
            }),
          ),
        created: async (out) => {
          if (!isActive(out)) await waitFor(ctx, p.functionName, "active", isActive);
          return mustRead(ctx, d);
        },
        isTaken: (err) => isAwsError(err, "ResourceConflictException"),
        // It exists already (an earlier run got this far): take it from where it is.
        find: () => mustRead(ctx, d),
        adopt: (existing) => {
          const owner = existing.ownership.by === "tags" ? existing.ownership.stack : undefined;
          if (owner !== ctx.stack) {
            throw new Error(`function ${p.functionName} already exists and is not owned by stack ${ctx.stack} (owner: ${owner ?? "none"}); chatctl leaves it alone`);
          }
          return true;
        },
        converge: async (existing) => {
          await waitFor(ctx, p.functionName, "active", isActive);
          const changes = diff(d, existing);
          return changes.length === 0 ? existing : update(ctx, d, existing, changes);
        },
      });
    },

    async health(ctx: Ctx, a: Actual<FunctionAttributes>): Promise<string> {
      const c = await ctx.clients.lambda().send(new GetFunctionConfigurationCommand({ FunctionName: a.outputs.functionName ?? a.physicalId }));
      return [c.State, c.LastUpdateStatus && c.LastUpdateStatus !== "Successful" ? `last update ${c.LastUpdateStatus}` : undefined].filter(Boolean).join(", ");
    },

    async delete(ctx: Ctx, a: Actual<FunctionAttributes>): Promise<void> {
      try {
        await ctx.clients.lambda().send(new DeleteFunctionCommand({ FunctionName: a.outputs["functionName"] ?? a.physicalId }));
      } catch (err) {
        if (!isAwsError(err, "ResourceNotFoundException")) throw err;
      }
    },

    async list(ctx: Ctx): Promise<Array<Actual<FunctionAttributes> & { readonly logicalId: string }>> {
      const lambda = ctx.clients.lambda();
      const found: Array<Actual<FunctionAttributes> & { readonly logicalId: string }> = [];
      for await (const page of paginateListFunctions({ client: lambda }, {})) {
        for (const config of page.Functions ?? []) {
          if (!config.FunctionArn) continue;
          let tags: Record<string, string> | undefined;
          try {
            tags = (await lambda.send(new ListTagsCommand({ Resource: config.FunctionArn }))).Tags;
          } catch (err) {
            if (isAwsError(err, "ResourceNotFoundException")) continue; // deleted between the list and the look
            throw err;
          }
          if (tags?.[TAG_STACK] !== ctx.stack) continue;
          found.push({ ...toActual(config, tags), logicalId: tags[TAG_ID] ?? "" });
        }
      }
      return found;
    },
  } satisfies ResourceKind<FunctionProps, FunctionAttributes>;
}

export const lambdaFunction = createLambdaFunctionKind();
