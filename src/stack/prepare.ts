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
}

export interface PrepareOptions {
  /** AWS configuration for the region the spec resolves to. */
  readonly awsConfig: (specRegion: string) => AwsConfig;
  /** Destroy and status need names, not code: they skip bundling, so a broken handler never blocks them. */
  readonly bundle: boolean;
  readonly color: boolean;
}

/** Thrown when chat.yaml has problems: the message is every diagnostic, formatted. */
export class SpecError extends UserError {
  constructor(readonly diagnostics: readonly Diagnostic[], color: boolean) {
    super(formatDiagnostics(diagnostics, { color }).replace(/\n+$/, ""), 1, true);
  }
}

export async function prepareStack(specFile: string, opts: PrepareOptions): Promise<PreparedStack> {
  const loaded = await loadSpec(resolve(specFile));
  if (!loaded.ok) throw new SpecError(loaded.diagnostics, opts.color);
  const { spec, region } = loaded;

  const code = opts.bundle ? await bundleAll(spec, loaded.dir) : placeholderCode(spec);

  const config = opts.awsConfig(region);
  const clients = createClients(config);
  const identity = await clients.sts().send(new GetCallerIdentityCommand({}));
  const accountId = identity.Account ?? "000000000000";
  const partition = identity.Arn?.split(":")[1] ?? "aws";
  const ctx: Ctx = { region: config.region, accountId, partition, stack: spec.stack, clients };
  const desired = buildDesired({ spec, region: config.region, accountId, partition, code });
  return { spec, specFile: loaded.file, region: config.region, clients, ctx, desired, warnings: loaded.warnings };
}

async function bundleAll(spec: ChatSpec, dir: string): Promise<Record<string, CodeIdentity>> {
  const entries = Object.entries(spec.functions);
  const results = await bundleHandlers(entries.map(([, fn]) => resolve(dir, fn.handler)));
  const problems: string[] = [];
  const code: Record<string, CodeIdentity> = {};
  results.forEach((r, i) => {
    const name = entries[i]?.[0] ?? "?";
    if (r.status === "fulfilled") code[name] = { sha256: r.value.sha256, zipPath: r.value.zipPath };
    else if (r.reason instanceof BundleError) problems.push(r.reason.message);
    else throw r.reason;
  });
  if (problems.length > 0) {
    // The messages read like a compiler's (file:line:col: error: ...): printed as they are.
    throw new UserError(`${problems.join("\n")}\nNothing was changed: fix the handler${problems.length > 1 ? "s" : ""} and run again.`, 1, true);
  }
  return code;
}

function placeholderCode(spec: ChatSpec): Record<string, CodeIdentity> {
  return Object.fromEntries(Object.keys(spec.functions).map((f) => [f, { sha256: "(not bundled)", zipPath: "" }]));
}
