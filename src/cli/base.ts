import { Command, Option, UsageError } from "clipanion";
import type { Writable } from "node:stream";
import type { AwsConfig } from "../aws/clients.js";
import { resolveRegion } from "../aws/region.js";
import { UserError, describeFailure } from "../errors.js";
import { LOCAL_CREDENTIALS, findLocalCloud } from "../local/endpoint.js";

export function colorEnabled(stream: Writable, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0") return true;
  return (stream as Writable & { isTTY?: boolean }).isTTY === true;
}

/**
 * Options every command shares, and the one place where user mistakes become a
 * one-line message with exit 1 instead of a stack trace.
 */
export abstract class ChatctlCommand extends Command {
  region = Option.String("--region", { description: "AWS region (else the spec's region, AWS_REGION, AWS_DEFAULT_REGION, ap-northeast-1)" });
  profile = Option.String("--profile", { description: "AWS profile from ~/.aws/config (else AWS_PROFILE)" });
  endpointUrl = Option.String("--endpoint-url", { description: "Send every AWS call to this endpoint (any AWS-compatible service)" });
  local = Option.String("--local", {
    tolerateBoolean: true,
    description: "Talk to the running `chatctl dev` local cloud: this spec's (or this folder's) one, or the one on --local PORT (or a URL; also CHATCTL_LOCAL=PORT)",
  });

  /** The spec this command works on, which --local uses to find its dev server. */
  protected localSpecFile(): string | undefined {
    return undefined;
  }

  /**
   * The AWS configuration these flags describe; `specRegion` comes from chat.yaml when
   * there is one, `savedEndpoint` from a saved plan, used when no endpoint flag is given.
   */
  awsConfig(specRegion?: string, savedEndpoint?: string): AwsConfig {
    const region = this.region ?? specRegion ?? resolveRegion();
    if (this.local !== undefined && this.local !== false && this.endpointUrl) throw new UsageError("--local and --endpoint-url name two different endpoints; give one");
    if (this.local !== undefined && this.local !== false) {
      const found = findLocalCloud({ explicit: typeof this.local === "string" ? this.local : undefined, specFile: this.localSpecFile() });
      if (found.note) this.err(found.note);
      return { region, endpoint: found.url, credentials: LOCAL_CREDENTIALS };
    }
    const profile = this.profile ?? process.env.AWS_PROFILE;
    const endpointUrl = this.endpointUrl ?? savedEndpoint;
    return {
      region,
      ...(profile ? { profile } : {}),
      ...(endpointUrl ? { endpoint: endpointUrl } : {}),
      ...(endpointUrl && !hasEnvCredentials() && !profile ? { credentials: LOCAL_CREDENTIALS } : {}),
    };
  }

  get color(): boolean {
    return colorEnabled(this.context.stdout);
  }

  out(line = ""): void {
    this.context.stdout.write(`${line}\n`);
  }

  err(line = ""): void {
    this.context.stderr.write(`${line}\n`);
  }

  /**
   * Every command's failures pass here: a user's mistake becomes one line on
   * stderr and its exit code; anything else is our bug and keeps its stack.
   */
  override async validateAndExecute(): Promise<number> {
    try {
      return await super.validateAndExecute();
    } catch (error) {
      const message = describeCliFailure(error);
      if (message === undefined) throw error;
      this.context.stderr.write(`${message}\n`);
      return error instanceof UserError ? error.exitCode : 1;
    }
  }
}

function hasEnvCredentials(): boolean {
  return Boolean(process.env.AWS_ACCESS_KEY_ID && process.env.AWS_SECRET_ACCESS_KEY);
}

/** A user's mistake in one sentence, or undefined for our bug (see describeFailure). */
function describeCliFailure(error: unknown): string | undefined {
  if (error instanceof UsageError) return `error: ${error.message}`;
  return describeFailure(error);
}
