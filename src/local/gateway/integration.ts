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
  const outcomeOf = (functionName: string, what: string, result: InvokeResult): Outcome => {
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
  };
  // One promise and one timer per call, settled by whichever comes first (not Promise.race
  // over two more promises: every $connect and every message comes through here).
  return (functionName, event, what, source) =>
    new Promise<Outcome>((resolve) => {
      const timer = setTimeout(() => resolve({ ok: false, message: "Endpoint request timed out" }), timeoutMs);
      timer.unref();
      let call: Promise<InvokeResult>;
      try {
        call = invoke(functionName, event, source);
      } catch (err) {
        call = Promise.reject(err); // an invoker that throws before its promise fails the same way
      }
      call.then(
        (result) => {
          clearTimeout(timer);
          resolve(outcomeOf(functionName, what, result));
        },
        (err: unknown) => {
          clearTimeout(timer);
          log(`${what}: invoking ${functionName} failed: ${err instanceof Error ? err.message : String(err)}`);
          resolve({ ok: false, message: "Internal server error" });
        },
      );
    });
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
