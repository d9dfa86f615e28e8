import { describe, expect, it } from "vitest";
import { buildDesired, routingHash } from "../../src/desired/graph.js";
import { ChatSpec } from "../../src/spec/schema.js";
import { isRef, type DesiredResource, type Ref } from "../../src/resources/kind.js";
import type { FunctionProps, PermissionProps, PolicyDocument, RoleProps } from "../../src/resources/props.js";

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
    expect(get<FunctionProps>("function.default").props.environment).toEqual({});
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
