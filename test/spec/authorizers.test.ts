import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TempProject, find, problems, where } from "./helpers.js";

// Authorizers, IAM authorization, stage settings and extra permissions in chat.yaml:
// what is refused at plan, where, and in which words.

let project: TempProject;
beforeAll(() => {
  project = new TempProject();
});
afterAll(() => project.remove());

const AUTHORIZED = `stack: my-chat
routes:
  $connect: { function: connect, authorizer: auth }
  $default: default
authorizers:
  auth:
    function: authorize
    identitySources: [route.request.querystring.token]
functions:
  connect:
    handler: ../handlers/connect.ts
  default:
    handler: ../handlers/default.ts
  authorize:
    handler: ../handlers/authorize.ts
`;

async function load(text: string) {
  const result = await project.load(text);
  return result;
}

describe("authorizers in chat.yaml", () => {
  it("accepts the long form on $connect, the short form elsewhere, and the header default", async () => {
    const result = await load(AUTHORIZED.replace("    identitySources: [route.request.querystring.token]\n", ""));
    if (!result.ok) throw new Error(JSON.stringify(result.diagnostics));
    expect(result.spec.routes.$connect).toEqual({ function: "connect", authorizer: "auth" });
    expect(result.spec.authorizers.auth?.identitySources).toEqual(["route.request.header.Authorization"]);
    // The authorizer's function is used: no "no route uses this function" warning.
    expect(result.warnings).toEqual([]);
  });

  it("refuses an authorizer on a route other than $connect, at the key", async () => {
    const diag = find(problems(await load(AUTHORIZED.replace("$default: default", "$default: { function: default, authorizer: auth }"))), "only on $connect");
    expect(diag.summary).toBe("routes.$default.authorizer: authorizer is allowed only on $connect");
    expect(where(diag)).toBe("4:34");
  });

  it("refuses an unknown authorizer and an unknown authorizer function, with the likely name", async () => {
    const unknown = find(problems(await load(AUTHORIZED.replace("authorizer: auth }", "authorizer: ath }"))), "no authorizer");
    expect(unknown.summary).toBe('routes.$connect.authorizer: no authorizer named "ath" (did you mean "auth"?)');
    expect(where(unknown)).toBe("3:46");
    const fn = find(problems(await load(AUTHORIZED.replace("function: authorize", "function: authorise"))), "no function");
    expect(fn.summary).toBe('authorizers.auth.function: no function named "authorise" (did you mean "authorize"?)');
    expect(where(fn)).toBe("7:15");
  });

  it("refuses identity sources that are not header, querystring, context or stageVariables", async () => {
    const diag = find(problems(await load(AUTHORIZED.replace("route.request.querystring.token", "$request.header.Authorization"))), "identitySources");
    expect(diag.summary).toContain("route.request.header.<name>, route.request.querystring.<name>, context.<name> or stageVariables.<name>");
    expect(where(diag)).toBe("8:23");
  });

  it("refuses JWT: WebSocket APIs take REQUEST authorizers only", async () => {
    const diag = find(problems(await load(AUTHORIZED.replace("    function: authorize\n", "    function: authorize\n    type: JWT\n"))), "JWT");
    expect(diag.summary).toContain("WebSocket APIs support only REQUEST authorizers");
  });

  it("takes authorization: iam on $connect, but not together with an authorizer", async () => {
    const iam = await load(AUTHORIZED.replace("{ function: connect, authorizer: auth }", "{ function: connect, authorization: iam }"));
    if (!iam.ok) throw new Error(JSON.stringify(iam.diagnostics));
    expect(iam.spec.routes.$connect).toEqual({ function: "connect", authorization: "iam" });
    const both = find(problems(await load(AUTHORIZED.replace("authorizer: auth }", "authorizer: auth, authorization: iam }"))), "either");
    expect(both.summary).toBe("routes.$connect.authorization: use either authorizer or authorization: iam, not both");
  });
});

describe("stage settings and extra permissions", () => {
  const WITH_API = AUTHORIZED.replace("stack: my-chat\n", "stack: my-chat\napi:\n  throttling: { rateLimit: 10, burstLimit: 20 }\n  accessLog: true\n");

  it("accepts throttling with both bounds and accessLog: true", async () => {
    const result = await load(WITH_API);
    if (!result.ok) throw new Error(JSON.stringify(result.diagnostics));
    expect(result.spec.api.throttling).toEqual({ rateLimit: 10, burstLimit: 20 });
    expect(result.spec.api.accessLog).toBe(true);
  });

  it("refuses throttling with one bound only (AWS would leave the other at 0 and throttle everything)", async () => {
    const diags = problems(await load(WITH_API.replace("{ rateLimit: 10, burstLimit: 20 }", "{ rateLimit: 10 }")));
    expect(where(find(diags, "burstLimit"))).toBe("3:3");
  });

  it("refuses a wildcard action and warns about a wildcard resource", async () => {
    const grant = (actions: string, resources: string) =>
      AUTHORIZED.replace("    handler: ../handlers/default.ts\n", `    handler: ../handlers/default.ts\n    permissions: [{ actions: [${actions}], resources: [${resources}] }]\n`);
    const star = find(problems(await load(grant("s3:*", "arn:aws:s3:::my-bucket/*"))), "whole service");
    expect(star.path).toBe("functions.default.permissions[0].actions[0]");
    const result = await load(grant("sqs:SendMessage", '"*"'));
    if (!result.ok) throw new Error(JSON.stringify(result.diagnostics));
    expect(result.warnings.map((w) => w.summary)).toEqual(['functions.default.permissions[0].resources[0]: resource "*" grants the actions on every resource of that kind']);
  });
});
