// Props of every resource kind: the contract between the desired graph (src/desired)
// and the kinds (src/resources/*). Strings may be Refs in the desired graph
// (see Unresolved in kind.ts); kinds always receive them resolved.

export interface PolicyStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Principal?: { Service: string };
  Action: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string>>;
}

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

export type Tags = Record<string, string>;

/** iam.role: one role per function, with one inline policy. */
export interface RoleProps {
  roleName: string;
  path: string; // "/chatctl/"
  description: string;
  assumeRolePolicy: PolicyDocument;
  inlinePolicyName: string; // "chatctl"
  inlinePolicy: PolicyDocument;
  tags: Tags;
}

/** logs.group: /aws/lambda/<function>, created ahead of the function so retention applies. */
export interface LogGroupProps {
  logGroupName: string;
  retentionDays: number;
  tags: Tags;
}

export interface KeyAttributeProps {
  name: string;
  type: "S" | "N" | "B";
}

/** dynamodb.table */
/** A global secondary index; projection "INCLUDE" carries its attributes. */
export interface IndexProps {
  name: string;
  partitionKey: KeyAttributeProps;
  sortKey?: KeyAttributeProps;
  projection: "ALL" | "KEYS_ONLY" | "INCLUDE";
  include?: string[];
}

export interface TableProps {
  tableName: string;
  partitionKey: KeyAttributeProps;
  sortKey?: KeyAttributeProps;
  billingMode: "PAY_PER_REQUEST" | "PROVISIONED";
  readCapacity?: number;
  writeCapacity?: number;
  ttlAttribute?: string;
  deletionProtection: boolean;
  /** Absent when the table has none (plans of tables without indexes stay as they were). Sorted by name. */
  indexes?: IndexProps[];
  tags: Tags;
}

/** lambda.function */
export interface FunctionProps {
  functionName: string;
  roleArn: string;
  runtime: string;
  handler: string; // "index.handler"
  memory: number;
  timeout: number;
  description: string;
  environment: Record<string, string>;
  code: {
    sha256: string; // base64 sha256 of the zip, as Lambda reports CodeSha256
    zipPath: string; // where the deterministic zip was written
  };
  tags: Tags;
}

/** lambda.permission: lets API Gateway invoke a function, scoped to one API. */
export interface PermissionProps {
  functionName: string;
  statementId: string;
  action: string; // "lambda:InvokeFunction"
  principal: string; // "apigateway.amazonaws.com"
  sourceArn: string; // arn:aws:execute-api:<region>:<account>:<apiId>/*
}

/** apigw.api: outputs apiId, apiEndpoint (wss://...), executeArn (arn:aws:execute-api:r:a:apiId). */
export interface ApiProps {
  name: string;
  protocolType: "WEBSOCKET";
  routeSelectionExpression: string;
  description?: string;
  tags: Tags;
}

/** apigw.integration: outputs integrationId. Found again by its description marker. */
export interface IntegrationProps {
  apiId: string;
  integrationType: "AWS_PROXY";
  integrationMethod: "POST";
  integrationUri: string; // arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<fn arn>/invocations
  description: string; // "chatctl:<logical id>"
}

/** apigw.route: outputs routeId. Found again by its route key. */
export interface RouteProps {
  apiId: string;
  routeKey: string;
  target: string; // "integrations/<integrationId>"
  authorizationType: "NONE" | "CUSTOM" | "AWS_IAM";
  authorizerId?: string; // with CUSTOM
}

/** apigw.authorizer: a Lambda REQUEST authorizer. Outputs authorizerId. Found again by its name. */
export interface AuthorizerProps {
  apiId: string;
  name: string; // "chatctl-<logical name>"
  authorizerType: "REQUEST";
  authorizerUri: string; // arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<fn arn>/invocations
  identitySource: string[];
}

/** apigw.stage: outputs stageName, invokeUrl (wss://...). */
export interface StageProps {
  apiId: string;
  stageName: string;
  description?: string;
  /** Default route throttling; absent means AWS's account-level limits. */
  throttling?: { rateLimit: number; burstLimit: number };
  /** Access logs: the log group's ARN (without ":*") and the line format. */
  accessLog?: { destinationArn: string; format: string };
  tags: Tags;
}

/**
 * apigw.deployment: the stage's current deployment. A new one is made whenever
 * the routes or integrations change; configHash names that configuration and
 * travels in the deployment's description. Outputs deploymentId.
 */
export interface DeploymentProps {
  apiId: string;
  stageName: string;
  configHash: string;
}
