import { GetAccountCommand, UpdateAccountCommand } from "@aws-sdk/client-api-gateway";
import { AttachRolePolicyCommand, CreateRoleCommand, GetRoleCommand } from "@aws-sdk/client-iam";
import { errorName, isAwsError } from "../aws/errors.js";
import type { AccountSettings } from "../plan/types.js";
import type { PreparedStack } from "./prepare.js";

// API Gateway writes a stage's access logs only once the account, in that region, names a
// role it may assume to push to CloudWatch Logs: the `cloudwatchRoleArn` of its account
// settings ("Set up CloudWatch logging for REST APIs in API Gateway",
// https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html; read
// with GetAccount, set with UpdateAccount's patch /cloudwatchRoleArn,
// https://docs.aws.amazon.com/apigateway/latest/api/API_UpdateAccount.html). It is one
// setting for the whole account and region, owned by no stack: chatctl reads it, sets it
// only when asked and only when none is set, and never changes or removes it.

/** The role `--set-cloudwatch-role` makes when the account has none. */
export const CLOUDWATCH_ROLE_NAME = "chatctl-apigateway-cloudwatch";

export const SET_CLOUDWATCH_ROLE_FLAG = "--set-cloudwatch-role";

function managedPolicyArn(partition: string): string {
  return `arn:${partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs`;
}

const TRUST_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "apigateway.amazonaws.com" }, Action: "sts:AssumeRole" }],
});

/** True when some stage of the stack writes access logs: only then does the account setting matter. */
export function usesAccessLogs(p: Pick<PreparedStack, "desired">): boolean {
  return p.desired.some((d) => d.kind === "apigw.stage" && typeof d.props === "object" && d.props !== null && (d.props as { accessLog?: unknown }).accessLog !== undefined);
}

/** What the plan says about the account's settings; undefined when the stack needs none of them. */
export async function readAccountSettings(p: PreparedStack): Promise<AccountSettings | undefined> {
  if (!usesAccessLogs(p)) return undefined;
  try {
    const account = await p.clients.apigwAccount().send(new GetAccountCommand({}));
    return { apiGatewayCloudwatchRoleArn: account.cloudwatchRoleArn ? account.cloudwatchRoleArn : null };
  } catch (err) {
    // A policy without apigateway:GET on /account must not block the plan: say what could not be read.
    if (isAwsError(err, "AccessDeniedException", "UnauthorizedException", "ForbiddenException")) {
      return { apiGatewayCloudwatchRoleArn: null, unreadable: errorName(err) ?? "AccessDenied" };
    }
    throw err;
  }
}

export type CloudwatchRoleOutcome =
  | { readonly kind: "already-set"; readonly roleArn: string }
  | { readonly kind: "set"; readonly roleArn: string; readonly createdRole: boolean };

export interface SetRoleOptions {
  readonly sleep?: (ms: number) => Promise<void>;
  /** UpdateAccount attempts while IAM makes the new role assumable (seconds on AWS). */
  readonly attempts?: number;
}

/**
 * Names a CloudWatch Logs role in the account's API Gateway settings when none is
 * named; one already named is kept, whatever it is.
 */
export async function setCloudwatchRole(p: PreparedStack, opts: SetRoleOptions = {}): Promise<CloudwatchRoleOutcome> {
  const apigw = p.clients.apigwAccount();
  const current = await apigw.send(new GetAccountCommand({}));
  if (current.cloudwatchRoleArn) return { kind: "already-set", roleArn: current.cloudwatchRoleArn };

  const iam = p.clients.iam();
  let roleArn: string | undefined;
  let createdRole = false;
  try {
    const made = await iam.send(
      new CreateRoleCommand({
        RoleName: CLOUDWATCH_ROLE_NAME,
        AssumeRolePolicyDocument: TRUST_POLICY,
        Description: "Lets API Gateway write access logs to CloudWatch Logs (account-wide; made by chatctl apply --set-cloudwatch-role)",
      }),
    );
    roleArn = made.Role?.Arn;
    createdRole = true;
  } catch (err) {
    // Made by an earlier run that stopped before UpdateAccount: use it.
    if (!isAwsError(err, "EntityAlreadyExistsException", "EntityAlreadyExists")) throw err;
  }
  roleArn ??= (await iam.send(new GetRoleCommand({ RoleName: CLOUDWATCH_ROLE_NAME }))).Role?.Arn;
  if (!roleArn) throw new Error(`IAM did not say the ARN of role ${CLOUDWATCH_ROLE_NAME}`);
  await iam.send(new AttachRolePolicyCommand({ RoleName: CLOUDWATCH_ROLE_NAME, PolicyArn: managedPolicyArn(p.ctx.partition) }));

  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const attempts = opts.attempts ?? 10;
  for (let attempt = 1; ; attempt++) {
    // Read again right before writing: another run may have set one meanwhile, and it wins.
    const again = await apigw.send(new GetAccountCommand({}));
    if (again.cloudwatchRoleArn) return { kind: "already-set", roleArn: again.cloudwatchRoleArn };
    try {
      await apigw.send(new UpdateAccountCommand({ patchOperations: [{ op: "replace", path: "/cloudwatchRoleArn", value: roleArn }] }));
      return { kind: "set", roleArn, createdRole };
    } catch (err) {
      // A role IAM has not yet made assumable is refused as "does not have required permissions".
      if (attempt >= attempts || !isAwsError(err, "BadRequestException")) throw err;
      await sleep(Math.min(2000 * attempt, 10_000));
    }
  }
}
