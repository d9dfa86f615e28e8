import type { ServiceModel, OpInput } from "../../src/local/service.js";

type CommandCtor = new (input: never) => unknown;
interface Stub {
  on(command: CommandCtor): { callsFake(fn: (input: OpInput) => Promise<unknown>): unknown };
}

/**
 * Serves every command of an SDK package from a service model through
 * aws-sdk-client-mock: `plug(mockClient(LambdaClient), model, await import("@aws-sdk/client-lambda"))`.
 * Commands the model does not know fail as AWS would fail an unknown operation.
 */
export function plug(mock: object, model: ServiceModel, sdk: Record<string, unknown>): void {
  // aws-sdk-client-mock matches by command class; the model by operation name.
  const stub = mock as Stub;
  for (const [exportName, value] of Object.entries(sdk)) {
    if (!exportName.endsWith("Command") || exportName === "Command" || typeof value !== "function") continue;
    const operation = exportName.slice(0, -"Command".length);
    stub.on(value as CommandCtor).callsFake((input: OpInput) => model.dispatch(operation, input));
  }
}
