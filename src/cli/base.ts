import { Command, Option, UsageError } from "clipanion";
import type { Writable } from "node:stream";
import type { AwsConfig } from "../aws/clients.js";
import { resolveRegion } from "../aws/region.js";
import { UserError, errorMessage } from "../errors.js";
import { findLocalCloud } from "./local-endpoint.js";

/** Credentials the local cloud accepts; never used against AWS. */
export const LOCAL_CREDENTIALS = { accessKeyId: "chatctl-local", secretAccessKey: "chatctl-local" } as const;

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
  local = Option.Boolean("--local", false, { description: "Talk to the running `chatctl dev` local cloud" });

  /** The AWS configuration these flags describe; `specRegion` comes from chat.yaml when there is one. */
  awsConfig(specRegion?: string): AwsConfig {
    const region = this.region ?? specRegion ?? resolveRegion();
    if (this.local && this.endpointUrl) throw new UsageError("--local and --endpoint-url name two different endpoints; give one");
    if (this.local) {
      const info = findLocalCloud();
      return { region, endpoint: info.url, credentials: LOCAL_CREDENTIALS };
    }
    const profile = this.profile ?? process.env.AWS_PROFILE;
    return {
      region,
      ...(profile ? { profile } : {}),
      ...(this.endpointUrl ? { endpoint: this.endpointUrl } : {}),
      ...(this.endpointUrl && !hasEnvCredentials() && !profile ? { credentials: LOCAL_CREDENTIALS } : {}),
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
      const message = describeFailure(error);
      if (message === undefined) throw error;
      this.context.stderr.write(`${message}\n`);
      return error instanceof UserError ? error.exitCode : 1;
    }
  }
}

function hasEnvCredentials(): boolean {
  return Boolean(process.env.AWS_ACCESS_KEY_ID && process.env.AWS_SECRET_ACCESS_KEY);
}

/**
 * Failures a user can act on, in one sentence. Undefined means "our bug":
 * clipanion then prints the stack so it can be reported.
 */
export function describeFailure(error: unknown): string | undefined {
  if (error instanceof UsageError) return `error: ${error.message}`;
  if (error instanceof UserError) return error.formatted ? error.message : `error: ${error.message}`;
  if (!(error instanceof Error)) return undefined;
  const name = error.name;
  if (name === "CredentialsProviderError" || /Could not load credentials/.test(error.message)) {
    return "error: no AWS credentials found: set AWS_PROFILE (after `aws configure` or `aws sso login`) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; or run `chatctl dev` and add --local to reach it.";
  }
  if (name === "ExpiredTokenException" || name === "ExpiredToken") return "error: your AWS credentials have expired; refresh them (e.g. aws sso login) and try again.";
  if (name === "UnrecognizedClientException" || name === "InvalidClientTokenId" || name === "InvalidSignatureException") {
    return `error: AWS rejected the credentials (${name}). Check AWS_PROFILE / AWS_ACCESS_KEY_ID.`;
  }
  if (name === "AccessDeniedException" || name === "AccessDenied") return `error: access denied by AWS: ${error.message}`;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EAI_AGAIN" || name === "TimeoutError") {
    return `error: cannot reach the AWS endpoint (${code ?? name}): ${errorMessage(error)}. Offline? Try --local with chatctl dev running.`;
  }
  // Any other AWS service error is the service's own sentence: show it, without a stack.
  const metadata = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
  if (metadata && typeof metadata.httpStatusCode === "number") return `error: ${name}: ${error.message}`;
  return undefined;
}
