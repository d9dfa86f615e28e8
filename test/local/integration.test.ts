import { describe, expect, it } from "vitest";
import type { InvokeFunction } from "../../src/local/gateway/directory.js";
import { lambdaProxyIntegration } from "../../src/local/gateway/integration.js";
import type { InvokeResult } from "../../src/local/service.js";

const source = { apiId: "a1", stage: "prod", routeKey: "$connect" };
const answer = (payload: string, functionError?: "Unhandled"): InvokeResult => ({ statusCode: 200, payload: Buffer.from(payload), ...(functionError ? { functionError } : {}) });

/** The integration over a fake invoke, with the lines it logged. */
function integrate(invoke: InvokeFunction, timeoutMs = 1_000) {
  const logged: string[] = [];
  return { run: lambdaProxyIntegration(invoke, timeoutMs, (l) => logged.push(l)), logged };
}

describe("the Lambda-proxy integration, as API Gateway reports each outcome", () => {
  it("hands back the function's parsed result, its text when not JSON, and null for an empty payload", async () => {
    const { run } = integrate(async (_fn, event) => answer(JSON.stringify({ statusCode: 200, got: event })));
    expect(await run("connect", { n: 1 }, "$connect c1", source)).toEqual({ ok: true, value: { statusCode: 200, got: { n: 1 } } });
    expect(await integrate(async () => answer("plain text")).run("f", {}, "x", source)).toEqual({ ok: true, value: "plain text" });
    expect(await integrate(async () => answer("")).run("f", {}, "x", source)).toEqual({ ok: true, value: null });
  });

  it("turns a function error and a failed invocation into Internal server error, with the reason in the log", async () => {
    const threw = integrate(async () => answer(JSON.stringify({ errorType: "TypeError", errorMessage: "x is not a function\nat line 2" }), "Unhandled"));
    expect(await threw.run("connect", {}, "$connect c1", source)).toEqual({ ok: false, message: "Internal server error" });
    expect(threw.logged).toEqual(["$connect c1: connect threw TypeError: x is not a function"]);
    const refused = integrate(async () => Promise.reject(new Error("AccessDeniedException: not allowed")));
    expect(await refused.run("connect", {}, "$connect c2", source)).toEqual({ ok: false, message: "Internal server error" });
    expect(refused.logged).toEqual(["$connect c2: invoking connect failed: AccessDeniedException: not allowed"]);
    const sync = integrate(() => {
      throw new Error("no runner");
    });
    expect(await sync.run("connect", {}, "$connect c3", source)).toEqual({ ok: false, message: "Internal server error" });
    expect(sync.logged).toEqual(["$connect c3: invoking connect failed: no runner"]);
  });

  it("answers Endpoint request timed out when the function outlasts the integration timeout, and ignores its late answer", async () => {
    let finish: (r: InvokeResult) => void = () => undefined;
    const { run, logged } = integrate(() => new Promise<InvokeResult>((resolve) => (finish = resolve)), 30);
    expect(await run("slow", {}, "message on c1", source)).toEqual({ ok: false, message: "Endpoint request timed out" });
    finish(answer("{}"));
    await new Promise((r) => setImmediate(r));
    expect(logged).toEqual([]);
  });
});
