import { describe, expect, it } from "vitest";
import { buildDesired, routingHash } from "../../src/desired/graph.js";
import { ChatSpec } from "../../src/spec/schema.js";
import { isRef, type DesiredResource, type Ref } from "../../src/resources/kind.js";
import type { AuthorizerProps, FunctionProps, LogGroupProps, PermissionProps, PolicyDocument, RoleProps, RouteProps, StageProps } from "../../src/resources/props.js";

const spec = ChatSpec.parse({
  stack: "my-chat",
  routes: { $connect: "connect", $disconnect: "disconnect", $default: "default", sendmessage: "sendmessage" },
  functions: {
    connect: { handler: "h/connect.ts", tables: ["connections"] },
    disconnect: { handler: "h/disconnect.ts", tables: ["connections"] },
    sendmessage: { handler: "h/sendmessage.ts", tables: ["connections"], manageConnections: true, timeout: 29 },
    default: { handler: "h/default.ts", manageConnections: true },
    cron: { handler: "h/cron.ts" },
  },
  tables: { connections: { partitionKey: "connectionId", ttlAttribute: "expiresAt" } },
  tags: { app: "chat" },
});

const code = Object.fromEntries(Object.keys(spec.functions).map((f) => [f, { sha256: `sha-${f}`, zipPath: `/tmp/${f}.zip` }]));
const desired = buildDesired({ spec, region: "ap-northeast-1", accountId: "123456789012", code });
const byId = new Map(desired.map((r) => [r.id, r]));

function get<P>(id: string): DesiredResource<P> {
  const r = byId.get(id);
  if (!r) throw new Error(`no ${id}`);
  return r as DesiredResource<P>;
}

/** Refs rendered as the ARN pattern they will become, so scope checks can read them. */
function show(v: string | Ref): string {
  return isRef(v) ? (v.format ?? "{}").replace("{}", `<${v.$ref}.${v.output}>`) : v;
}

function policyOf(fn: string): PolicyDocument {
  return get<RoleProps>(`role.${fn}`).props.inlinePolicy as PolicyDocument;
}

describe("the desired graph of the original chat architecture", () => {
  it("has every resource the stack needs, and nothing for functions no route uses", () => {
    expect(desired.map((r) => r.id).sort()).toEqual(
      [
        "api",
        "deployment",
        "stage",
        "table.connections",
        ...["connect", "disconnect", "sendmessage", "default", "cron"].flatMap((f) => [`role.${f}`, `logs.${f}`, `function.${f}`]),
        ...["connect", "disconnect", "sendmessage", "default"].flatMap((f) => [`permission.${f}`, `integration.${f}`]),
        "route.$connect",
        "route.$disconnect",
        "route.$default",
        "route.sendmessage",
      ].sort(),
    );
  });

  it("names every dependency that exists in the graph", () => {
    for (const r of desired) for (const d of r.dependsOn) expect(byId.has(d), `${r.id} -> ${d}`).toBe(true);
    expect(get("route.sendmessage").dependsOn).toContain("integration.sendmessage");
    expect(get("deployment").dependsOn).toEqual(expect.arrayContaining(["stage", "route.$connect", "route.sendmessage"]));
    expect(get("function.connect").dependsOn).toEqual(expect.arrayContaining(["role.connect", "logs.connect", "table.connections"]));
  });

  it("tags everything with the stack and its logical id", () => {
    for (const r of desired) {
      const tags = (r.props as { tags?: Record<string, string> }).tags;
      if (tags === undefined) continue; // routes, integrations, permissions, deployments cannot be tagged
      expect(tags).toMatchObject({ "chatctl:stack": "my-chat", "chatctl:id": r.id, app: "chat" });
    }
  });

  it("tells each function its table names through the environment", () => {
    const env = get<FunctionProps>("function.sendmessage").props.environment;
    expect(env).toMatchObject({ TABLE_CONNECTIONS: "my-chat-connections", TABLE_NAME: "my-chat-connections" });
    expect(get<FunctionProps>("function.default").props.environment).toEqual({
      CONNECTIONS_ENDPOINT: { $ref: "api", output: "apiId", format: "https://{}.execute-api.ap-northeast-1.amazonaws.com/prod" },
    });
  });

  it("gives functions with manageConnections the stage's management endpoint, and no others", () => {
    for (const r of desired.filter((d) => d.kind === "lambda.function")) {
      const fn = r.id.replace(/^function\./, "");
      const has = "CONNECTIONS_ENDPOINT" in ((r.props as FunctionProps).environment ?? {});
      expect(has, fn).toBe(spec.functions[fn]?.manageConnections === true);
    }
  });

  it("keeps the table on destroy unless the spec says otherwise", () => {
    expect(get("table.connections").retainOnDestroy).toBe(true);
  });
});

describe("least privilege", () => {
  it("never grants a wildcard action or a bare '*' resource", () => {
    for (const r of desired.filter((d) => d.kind === "iam.role")) {
      const doc = (r.props as RoleProps).inlinePolicy as PolicyDocument;
      for (const st of doc.Statement) {
        const actions = Array.isArray(st.Action) ? st.Action : [st.Action];
        for (const a of actions) expect(a, `${r.id} action`).not.toMatch(/\*/);
        const resources = (Array.isArray(st.Resource) ? st.Resource : [st.Resource ?? "*"]) as (string | Ref)[];
        for (const res of resources.map(show)) {
          expect(res, `${r.id} resource`).not.toBe("*");
          expect(res.split(":")[4], `${r.id} resource names the account`).not.toBe("*");
        }
      }
    }
  });

  it("scopes logs to the function's own log group", () => {
    const logs = policyOf("connect").Statement.find((s) => s.Sid === "WriteOwnLogs");
    expect(logs?.Resource).toEqual(["arn:aws:logs:ap-northeast-1:123456789012:log-group:/aws/lambda/my-chat-connect:*"]);
  });

  it("scopes DynamoDB to the tables the function names, and nothing when it names none", () => {
    const ddb = policyOf("connect").Statement.find((s) => s.Sid === "UseOwnTables");
    expect((ddb?.Resource as (string | Ref)[]).map(show)).toEqual(["<table.connections.tableArn>", "<table.connections.tableArn>/index/*"]);
    expect(policyOf("default").Statement.find((s) => s.Sid === "UseOwnTables")).toBeUndefined();
  });

  it("lets only manageConnections functions post to connections, and only on this API's stage", () => {
    const mc = policyOf("sendmessage").Statement.find((s) => s.Sid === "ManageOwnConnections");
    expect((mc?.Resource as (string | Ref)[]).map(show)).toEqual(["<api.executeArn>/prod/*/@connections/*"]);
    expect(policyOf("connect").Statement.some((s) => s.Sid === "ManageOwnConnections")).toBe(false);
  });

  it("lets API Gateway invoke functions only from this API", () => {
    const p = get<PermissionProps>("permission.connect").props;
    expect(p.principal).toBe("apigateway.amazonaws.com");
    expect(show(p.sourceArn)).toBe("<api.executeArn>/*");
  });
});

describe("routingHash", () => {
  it("changes when a route changes, not when anything else does", () => {
    const base = routingHash(spec);
    expect(routingHash({ ...spec, functions: { ...spec.functions } })).toBe(base);
    expect(routingHash({ ...spec, routes: { ...spec.routes, typing: "sendmessage" } })).not.toBe(base);
    expect(routingHash({ ...spec, api: { ...spec.api, routeSelectionExpression: "$request.body.type" } })).not.toBe(base);
  });
});

describe("an authorized stack: authorizer, IAM, stage settings, extra permissions", () => {
  const authorized = ChatSpec.parse({
    stack: "my-chat",
    api: { throttling: { rateLimit: 10, burstLimit: 20 }, accessLog: { retentionDays: 30 } },
    routes: { $connect: { function: "connect", authorizer: "tickets" }, $default: "default" },
    authorizers: { tickets: { function: "authorize", identitySources: ["route.request.querystring.ticket"] } },
    functions: {
      connect: { handler: "h/connect.ts" },
      default: { handler: "h/default.ts", permissions: [{ actions: ["sqs:SendMessage", "s3:GetObject"], resources: ["arn:aws:sqs:ap-northeast-1:123456789012:jobs", "arn:aws:s3:::files/*"] }] },
      authorize: { handler: "h/authorize.ts" },
    },
  });
  const authCode = Object.fromEntries(Object.keys(authorized.functions).map((f) => [f, { sha256: `sha-${f}`, zipPath: `/tmp/${f}.zip` }]));
  const graph = buildDesired({ spec: authorized, region: "ap-northeast-1", accountId: "123456789012", code: authCode });
  const find = <P>(id: string): DesiredResource<P> => {
    const r = graph.find((g) => g.id === id);
    if (!r) throw new Error(`no ${id}`);
    return r as DesiredResource<P>;
  };

  it("makes a REQUEST authorizer invoking the function, with the identity sources", () => {
    const a = find<AuthorizerProps>("authorizer.tickets");
    expect(a.name).toBe("chatctl-tickets");
    expect(a.props.authorizerType).toBe("REQUEST");
    expect(a.props.identitySource).toEqual(["route.request.querystring.ticket"]);
    expect(show(a.props.authorizerUri as string | Ref)).toBe(
      "arn:aws:apigateway:ap-northeast-1:lambda:path/2015-03-31/functions/<function.authorize.functionArn>/invocations",
    );
    expect(a.dependsOn).toEqual(["api", "function.authorize", "permission.authorizer.authorize"]);
  });

  it("lets API Gateway invoke the authorizer function only as this API's authorizer, and routes nothing to it", () => {
    const p = find<PermissionProps>("permission.authorizer.authorize").props;
    expect(show(p.sourceArn)).toBe("<api.executeArn>/authorizers/*");
    expect(p.statementId).toBe("chatctl-apigateway-authorizer");
    expect(graph.some((g) => g.id === "permission.authorize" || g.id === "integration.authorize")).toBe(false);
  });

  it("authorizes $connect with it (CUSTOM + its id) and leaves other routes open", () => {
    const connect = find<RouteProps>("route.$connect");
    expect(connect.props.authorizationType).toBe("CUSTOM");
    expect(show(connect.props.authorizerId as string | Ref)).toBe("<authorizer.tickets.authorizerId>");
    expect(connect.dependsOn).toContain("authorizer.tickets");
    expect(find<RouteProps>("route.$default").props).not.toHaveProperty("authorizerId");
    expect(find("deployment").dependsOn).toContain("authorizer.tickets");
  });

  it("throttles the stage with both bounds and logs access to the stack's own log group", () => {
    const stage = find<StageProps>("stage").props;
    expect(stage.throttling).toEqual({ rateLimit: 10, burstLimit: 20 });
    expect(stage.accessLog?.destinationArn).toBe("arn:aws:logs:ap-northeast-1:123456789012:log-group:/aws/apigateway/my-chat/prod/access");
    expect(Object.keys(JSON.parse((stage.accessLog?.format as string | undefined) ?? "{}") as object)).toEqual(
      expect.arrayContaining(["requestId", "connectionId", "eventType", "routeKey", "status", "integrationError"]),
    );
    expect(find<LogGroupProps>("logs.access").props).toMatchObject({ logGroupName: "/aws/apigateway/my-chat/prod/access", retentionDays: 30 });
  });

  it("grants extra permissions as named, without wildcard actions", () => {
    const extra = (find<RoleProps>("role.default").props.inlinePolicy as PolicyDocument).Statement.filter((s) => s.Sid?.startsWith("Extra"));
    expect(extra).toEqual([{ Sid: "Extra1", Effect: "Allow", Action: ["s3:GetObject", "sqs:SendMessage"], Resource: ["arn:aws:s3:::files/*", "arn:aws:sqs:ap-northeast-1:123456789012:jobs"] }]);
    for (const r of graph.filter((d) => d.kind === "iam.role")) {
      for (const st of ((r.props as RoleProps).inlinePolicy as PolicyDocument).Statement) {
        for (const a of Array.isArray(st.Action) ? st.Action : [st.Action]) expect(a, `${r.id} action`).not.toMatch(/\*/);
      }
    }
  });

  it("redeploys when authorization changes, not for a plain spec", () => {
    const base = routingHash(authorized);
    expect(routingHash({ ...authorized, routes: { ...authorized.routes, $connect: { function: "connect", authorization: "iam" } } })).not.toBe(base);
    expect(routingHash({ ...authorized, authorizers: { tickets: { function: "authorize", identitySources: ["route.request.header.Authorization"] } } })).not.toBe(base);
    // A spec without authorization hashes as before the field existed: no needless redeployment on upgrade.
    expect(routingHash(spec)).toBe(routingHash({ ...spec, authorizers: {} }));
  });
});
