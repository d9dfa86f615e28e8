import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { resolve } from "node:path";
import { createClients, type AwsClients, type AwsConfig } from "../aws/clients.js";
import { buildDesired, type CodeIdentity } from "../desired/graph.js";
import { UserError } from "../errors.js";
import type { Ctx, DesiredResource } from "../resources/kind.js";
import type { ChatSpec } from "../spec/schema.js";
import { loadSpec } from "../spec/loader.js";
import { formatDiagnostics, type Diagnostic } from "../spec/diagnostics.js";
import { bundleHandlers, BundleError } from "../bundle/index.js";

/** Everything a plan, apply, destroy or status of one stack starts from. */
export interface PreparedStack {
  readonly spec: ChatSpec;
  readonly specFile: string;
  readonly region: string;
  readonly clients: AwsClients;
  readonly ctx: Ctx;
  readonly desired: DesiredResource[];
  readonly warnings: readonly Diagnostic[];
  /** Per function, the `@aws-sdk/*` packages left to the Lambda runtime (see bundle/index.ts). */
  readonly runtimeProvided: Readonly<Record<string, readonly string[]>>;
  /** The environment this stack is, when the spec declares environments. */
  readonly environment?: string | undefined;
}

export interface PrepareOptions {
  /** AWS configuration for the region the spec resolves to. */
  readonly awsConfig: (specRegion: string) => AwsConfig;
  /** Destroy and status need names, not code: they skip bundling, so a broken handler never blocks them. */
  readonly bundle: boolean;
  readonly color: boolean;
  /** The environment to work on (--env / CHATCTL_ENV). */
  readonly environment?: string | undefined;
}

/** Thrown when chat.yaml has problems: the message is every diagnostic, formatted. */
export class SpecError extends UserError {
  constructor(readonly diagnostics: readonly Diagnostic[], color: boolean) {
    super(formatDiagnostics(diagnostics, { color }).replace(/\n+$/, ""), 1, true);
  }
}

/** A handler does not compile: the message is the compiler's, one line per problem, then what to do. */
export class HandlerBuildError extends UserError {
  constructor(readonly problems: readonly string[]) {
    super(`${problems.join("\n")}\nNothing was changed: fix the code above and run again.`, 1, true);
  }
}

export async function prepareStack(specFile: string, opts: PrepareOptions): Promise<PreparedStack> {
  const loaded = await loadSpec(resolve(specFile), { environment: opts.environment });
  if (!loaded.ok) throw new SpecError(loaded.diagnostics, opts.color);
  if (loaded.environment === undefined && loaded.environments.length > 0) {
    throw new UserError(`${specFile} defines environments ${loaded.environments.join(", ")}; choose one with --env NAME (or CHATCTL_ENV)`);
  }
  const { spec, region } = loaded;

  // A broken handler is refused before any AWS call; an environment pinned to
  // another account before anything of the stack is read.
  const { code, runtimeProvided } = opts.bundle ? await bundleAll(spec, loaded.dir) : { code: placeholderCode(spec), runtimeProvided: {} };
  const config = opts.awsConfig(region);
  const clients = createClients(config);
  const identity = await clients.sts().send(new GetCallerIdentityCommand({}));
  const accountId = identity.Account ?? "000000000000";
  const pinned = loaded.environment?.account;
  if (pinned !== undefined && pinned !== accountId) {
    throw new UserError(`environment ${loaded.environment?.name} belongs to account ${pinned}, but these credentials are for account ${accountId}; nothing was read or changed`);
  }

  const partition = identity.Arn?.split(":")[1] ?? "aws";
  const ctx: Ctx = { region: config.region, accountId, partition, stack: spec.stack, clients };
  const desired = buildDesired({ spec, region: config.region, accountId, partition, code });
  return { spec, specFile: loaded.file, region: config.region, clients, ctx, desired, warnings: loaded.warnings, runtimeProvided, environment: loaded.environment?.name };
}

interface Bundled {
  readonly code: Record<string, CodeIdentity>;
  readonly runtimeProvided: Record<string, readonly string[]>;
}

async function bundleAll(spec: ChatSpec, dir: string): Promise<Bundled> {
  const entries = Object.entries(spec.functions);
  const results = await bundleHandlers(entries.map(([, fn]) => resolve(dir, fn.handler)));
  // One diagnostic line -> the functions whose build reported it: a broken module four handlers import is printed once.
  const problems = new Map<string, string[]>();
  const code: Record<string, CodeIdentity> = {};
  const runtimeProvided: Record<string, readonly string[]> = {};
  results.forEach((r, i) => {
    const name = entries[i]?.[0] ?? "?";
    if (r.status === "fulfilled") {
      code[name] = { sha256: r.value.sha256, zipPath: r.value.zipPath };
      if (r.value.runtimeProvided.length > 0) runtimeProvided[name] = r.value.runtimeProvided;
    }
    else if (r.reason instanceof BundleError) for (const line of r.reason.message.split("\n")) problems.set(line, [...(problems.get(line) ?? []), name]);
    else throw r.reason;
  });
  if (problems.size > 0) {
    // The messages read like a compiler's (file:line:col: error: ...): printed as they are.
    throw new HandlerBuildError([...problems].map(([line, fns]) => (fns.length > 1 ? `${line} (in ${fns.length} functions: ${fns.join(", ")})` : line)));
  }
  return { code, runtimeProvided };
}

/**
 * The plan's account of what is not in the zips: the SDK packages handlers import
 * without installing, which the Lambda runtime provides. `unavailable` are those the
 * local runner cannot provide. Empty when every import is bundled.
 */
export function runtimeProvidedNote(p: Pick<PreparedStack, "runtimeProvided" | "spec">, unavailable: ReadonlySet<string> = new Set()): string[] {
  const users = new Map<string, string[]>();
  for (const [fn, pkgs] of Object.entries(p.runtimeProvided)) for (const pkg of pkgs) users.set(pkg, [...(users.get(pkg) ?? []), fn]);
  if (users.size === 0) return [];
  const runtimes = [...new Set(Object.keys(p.runtimeProvided).map((fn) => p.spec.functions[fn]?.runtime).filter((r) => r !== undefined))].sort();
  const width = Math.max(...[...users.keys()].map((k) => k.length));
  const lines = ["", `Not bundled: provided by the Lambda runtime (${runtimes.join(", ")} ships the AWS SDK v3; the project does not install these):`];
  for (const [pkg, fns] of [...users].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const missing = unavailable.has(pkg) ? `   not available in chatctl dev: npm install ${pkg}` : "";
    lines.push(`  ${pkg.padEnd(width)}  ${fns.sort().join(", ")}${missing}`);
  }
  return lines;
}

function placeholderCode(spec: ChatSpec): Record<string, CodeIdentity> {
  return Object.fromEntries(Object.keys(spec.functions).map((f) => [f, { sha256: "(not bundled)", zipPath: "" }]));
}
