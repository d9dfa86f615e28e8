import type { InvokeResult } from "../service.js";
import type { InvokeFunction } from "./directory.js";
import type { InvokeSource } from "./permission.js";

/** What a route's Lambda-proxy integration gave back: its parsed result, or the message API Gateway reports instead. */
export type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message: string };

export type Integrate = (functionName: string, event: object, what: string, source: InvokeSource) => Promise<Outcome>;

/**
 * Calls a route's function as API Gateway's Lambda-proxy integration does:
 * a failed invocation, an error the function returned and a timeout (29 s)
 * all become the message the client sees; the details go to the log.
 */
export function lambdaProxyIntegration(invoke: InvokeFunction, timeoutMs: number, log: (line: string) => void): Integrate {
  return async (functionName, event, what, source) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Outcome>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, message: "Endpoint request timed out" }), timeoutMs);
      timer.unref();
    });
    const call = (async (): Promise<Outcome> => {
      let result: InvokeResult;
      try {
        result = await invoke(functionName, event, source);
      } catch (err) {
        log(`${what}: invoking ${functionName} failed: ${err instanceof Error ? err.message : String(err)}`);
        return { ok: false, message: "Internal server error" };
      }
      const text = Buffer.from(result.payload).toString("utf8");
      if (result.functionError) {
        log(`${what}: ${functionName} ${failure(text)}`);
        return { ok: false, message: "Internal server error" };
      }
      try {
        return { ok: true, value: text.length > 0 ? (JSON.parse(text) as unknown) : null };
      } catch {
        return { ok: true, value: text };
      }
    })();
    try {
      return await Promise.race([call, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
}

/** "threw TypeError: x is not a function", from the error object Lambda returns; the first line of its message only. */
function failure(payload: string): string {
  try {
    const e = JSON.parse(payload) as { errorType?: unknown; errorMessage?: unknown };
    const type = typeof e.errorType === "string" ? e.errorType : "Error";
    const message = typeof e.errorMessage === "string" ? (e.errorMessage.split("\n")[0] ?? "") : "";
    return `threw ${type}${message ? `: ${message}` : ""}`;
  } catch {
    return `failed: ${payload.split("\n")[0] ?? ""}`;
  }
}
