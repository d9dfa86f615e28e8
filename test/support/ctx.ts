import { createClients } from "../../src/aws/clients.js";
import type { Ctx } from "../../src/resources/kind.js";
import { FaultInjector } from "../../src/local/faults.js";
import type { BeforeCall } from "../../src/local/service.js";

export const TEST_REGION = "ap-northeast-1";

/** What resource kinds get in unit tests: real SDK clients, which aws-sdk-client-mock intercepts. */
export function kindCtx(overrides: Partial<Omit<Ctx, "clients">> = {}): Ctx {
  const region = overrides.region ?? TEST_REGION;
  return {
    region,
    accountId: "123456789012",
    partition: "aws",
    stack: "my-chat",
    ...overrides,
    clients: createClients({ region, credentials: { accessKeyId: "x", secretAccessKey: "y" } }),
  };
}

/** A model hook that throttles the first call of one operation, as API Gateway answers 429. */
export function throttledOnce(operation: string): BeforeCall {
  return new FaultInjector({ rules: [{ operation, nth: 1, error: { name: "TooManyRequestsException", message: "Too Many Requests", status: 429 } }] }).before;
}

/** The error a call fails with (a test fails when it does not fail). */
export async function errorOf(p: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof Error) return err;
    throw new Error(`failed with something that is not an Error: ${String(err)}`);
  }
  throw new Error("expected the call to fail");
}
