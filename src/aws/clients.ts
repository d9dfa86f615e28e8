import { APIGatewayClient } from "@aws-sdk/client-api-gateway";
import { ApiGatewayV2Client } from "@aws-sdk/client-apigatewayv2";
import { ApiGatewayManagementApiClient } from "@aws-sdk/client-apigatewaymanagementapi";
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { IAMClient } from "@aws-sdk/client-iam";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import { isRetryable, notAnAwsAnswer } from "./errors.js";

export { DEFAULT_REGION, resolveRegion } from "./region.js";

export interface AwsConfig {
  readonly region: string;
  readonly profile?: string;
  /** One endpoint for every service (the local cloud, or any AWS-compatible endpoint). */
  readonly endpoint?: string;
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** SDK-level retries; the executor does its own on top, so keep this small. */
  readonly maxAttempts?: number;
}

/** Lazily built, memoized SDK clients sharing one configuration. */
export interface AwsClients {
  readonly config: AwsConfig;
  apigw(): ApiGatewayV2Client;
  /** API Gateway v1: only for its account settings (the CloudWatch Logs role of access logs). */
  apigwAccount(): APIGatewayClient;
  lambda(): LambdaClient;
  iam(): IAMClient;
  logs(): CloudWatchLogsClient;
  sts(): STSClient;
  dynamodb(): DynamoDBClient;
  /** The @connections API of one stage: https://{apiId}.execute-api.{region}.amazonaws.com/{stage}. */
  management(endpoint: string): ApiGatewayManagementApiClient;
}

/** Retries Get* commands (safe to repeat) on a client whose SDK retries are off. */
function withReadRetries(client: ApiGatewayV2Client, attempts: number): ApiGatewayV2Client {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (!/^Get/.test(context.commandName ?? "")) return next(args);
      for (let attempt = 1; ; attempt++) {
        try {
          return await next(args);
        } catch (err) {
          if (attempt >= attempts || !isRetryable(err).retry) throw err;
          await new Promise((r) => setTimeout(r, 100 * 2 ** (attempt - 1) * (0.5 + Math.random())));
        }
      }
    },
    { step: "initialize", name: "chatctlRetryReads" },
  );
  return client;
}

interface MiddlewareClient {
  readonly middlewareStack: {
    add(
      mw: (next: (args: unknown) => Promise<unknown>, context: Record<string, unknown>) => (args: unknown) => Promise<unknown>,
      options: { step: "initialize"; name: string },
    ): void;
  };
}

/**
 * A body the SDK cannot read (an HTML error page, a proxy's text) becomes one
 * sentence naming the service, operation, HTTP status and endpoint, instead of
 * the parser's "Unexpected token '<'".
 */
function explainForeignAnswers<C>(client: C): C {
  (client as unknown as MiddlewareClient).middlewareStack.add(
    (next, context) => async (args) => {
      try {
        return await next(args);
      } catch (err) {
        throw notAnAwsAnswer(err, context) ?? err;
      }
    },
    { step: "initialize", name: "chatctlExplainForeignAnswers" },
  );
  return client;
}

export function createClients(config: AwsConfig): AwsClients {
  const base = {
    region: config.region,
    ...(config.profile ? { profile: config.profile } : {}),
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(config.credentials ? { credentials: config.credentials } : {}),
    maxAttempts: config.maxAttempts ?? 3,
  };
  const cache = new Map<string, unknown>();
  function memo<T>(key: string, make: () => T): T {
    let c = cache.get(key) as T | undefined;
    if (c === undefined) {
      c = make();
      cache.set(key, c);
    }
    return c;
  }
  return {
    config,
    // API Gateway names nothing uniquely: a CreateApi whose answer was lost and that the
    // SDK then sent again makes a second API. Its writes are tried once (the executor
    // retries whole steps, and the kinds look for an earlier attempt before creating);
    // its reads are retried as every other client's are.
    apigw: () => memo("apigw", () => explainForeignAnswers(withReadRetries(new ApiGatewayV2Client({ ...base, maxAttempts: 1 }), base.maxAttempts))),
    apigwAccount: () => memo("apigwAccount", () => explainForeignAnswers(new APIGatewayClient(base))),
    lambda: () => memo("lambda", () => explainForeignAnswers(new LambdaClient(base))),
    iam: () => memo("iam", () => explainForeignAnswers(new IAMClient(base))),
    logs: () => memo("logs", () => explainForeignAnswers(new CloudWatchLogsClient(base))),
    sts: () => memo("sts", () => explainForeignAnswers(new STSClient(base))),
    dynamodb: () => memo("dynamodb", () => explainForeignAnswers(new DynamoDBClient(base))),
    management: (endpoint: string) =>
      memo(`management:${endpoint}`, () => explainForeignAnswers(new ApiGatewayManagementApiClient({ ...base, endpoint: config.endpoint ?? endpoint }))),
  };
}
