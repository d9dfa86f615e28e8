import { AwsError, ServiceModel, type OpHandler, type OpInput, type OpOutput } from "../service.js";

/**
 * API Gateway (v1) as far as chatctl needs it: the account settings of a region,
 * of which only `cloudwatchRoleArn` matters. API Gateway writes a stage's access
 * logs only once the account names a role it may assume to push to CloudWatch Logs
 * ("Set up CloudWatch logging for REST APIs in API Gateway",
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html;
 * WebSocket stages use the same account setting).
 *
 * GetAccount (GET /account) and UpdateAccount (PATCH /account with patch
 * operations, https://docs.aws.amazon.com/apigateway/latest/api/API_UpdateAccount.html).
 * UpdateAccount checks, as AWS does, that API Gateway can assume the role: the role
 * must exist and trust apigateway.amazonaws.com, else a BadRequestException.
 *
 * Not modelled: REST APIs and everything else of API Gateway v1; throttleSettings
 * and features are fixed; the managed policy's content is not checked.
 */

export interface ApiGatewayModelOptions {
  /** The trust policy of a role, or undefined when there is none (the IAM model's). */
  readonly trustPolicyOf?: (roleArn: string) => string | undefined;
}

const ROLE_ARN = /^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

export class ApiGatewayModel extends ServiceModel {
  readonly service = "apigateway";
  private cloudwatchRoleArn: string | undefined;

  constructor(private readonly opts: ApiGatewayModelOptions = {}) {
    super();
  }

  protected readonly operations: Readonly<Record<string, OpHandler>> = {
    GetAccount: () => this.account(),
    UpdateAccount: (i) => this.updateAccount(i),
  };

  private account(): OpOutput {
    return {
      ...(this.cloudwatchRoleArn !== undefined ? { cloudwatchRoleArn: this.cloudwatchRoleArn } : {}),
      throttleSettings: { burstLimit: 5000, rateLimit: 10000 },
      features: ["UsagePlans"],
      apiKeyVersion: "4",
    };
  }

  private updateAccount(i: OpInput): OpOutput {
    const ops = Array.isArray(i.patchOperations) ? (i.patchOperations as unknown[]) : [];
    for (const op of ops) {
      const { op: verb, path, value } = (op ?? {}) as { op?: unknown; path?: unknown; value?: unknown };
      if (path !== "/cloudwatchRoleArn") throw new AwsError("BadRequestException", `Invalid patch path '${String(path)}' specified for op '${String(verb)}'.`);
      if (verb === "remove" || (verb === "replace" && (value === undefined || value === ""))) {
        this.cloudwatchRoleArn = undefined;
        continue;
      }
      if (verb !== "replace" && verb !== "add") throw new AwsError("BadRequestException", `Invalid patch operation specified. Must be 'add'|'remove'|'replace'`);
      if (typeof value !== "string" || !ROLE_ARN.test(value)) throw new AwsError("BadRequestException", `Invalid ARN specified in the request`);
      const trust = this.opts.trustPolicyOf?.(value);
      if (this.opts.trustPolicyOf && (trust === undefined || !trust.includes("apigateway.amazonaws.com"))) {
        throw new AwsError("BadRequestException", "The role ARN does not have required permissions set to API Gateway");
      }
      this.cloudwatchRoleArn = value;
    }
    return this.account();
  }
}
