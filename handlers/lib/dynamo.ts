import { DynamoDBClient } from "@aws-sdk/client-dynamodb";

let cached: { key: string; client: DynamoDBClient } | undefined;

/**
 * One client per warm Lambda sandbox, so its keep-alive connections are reused
 * across invocations. The SDK reads region, credentials and AWS_ENDPOINT_URL(_DYNAMODB)
 * from the environment; a change there (tests, the local runner) builds a new client.
 */
export function dynamo(env: NodeJS.ProcessEnv = process.env): DynamoDBClient {
  const key = [env.AWS_REGION, env.AWS_ENDPOINT_URL_DYNAMODB, env.AWS_ENDPOINT_URL, env.AWS_ACCESS_KEY_ID, env.AWS_SESSION_TOKEN].join("\n");
  if (!cached || cached.key !== key) {
    cached?.client.destroy();
    // The handlers never change a command's or the client's middleware, so the stack is
    // resolved once per command class instead of on every send (the SDK's cacheMiddleware
    // option; it was ~8% of a $connect's CPU in the local runner's worker).
    cached = { key, client: new DynamoDBClient({ cacheMiddleware: true }) };
  }
  return cached.client;
}
