import { describe, expect, it } from "vitest";
import { ref, type DesiredResource } from "../../src/resources/kind.js";
import { hasChanges, planChanges, summarize, type PlanInput } from "../../src/plan/planner.js";
import { fingerprintSnapshot, type ReadState, type StateSnapshot } from "../../src/plan/snapshot.js";
import type { Plan } from "../../src/plan/types.js";
import { actual, desired, diffOnlyKind, STACK } from "./fake-kinds.js";

const registry = {
  "iam.role": diffOnlyKind("iam.role"),
  "dynamodb.table": diffOnlyKind("dynamodb.table", ["key"]),
  "lambda.function": diffOnlyKind("lambda.function"),
  "apigw.api": diffOnlyKind("apigw.api", ["protocol"]),
  "apigw.route": diffOnlyKind("apigw.route", ["apiId"]),
  "apigw.integration": diffOnlyKind("apigw.integration"),
};

// role <- fn -> table ; api <- integration(fn) <- route
const role = desired("role.connect", "iam.role", { name: "my-chat-connect", policy: ref("table.connections", "arn") }, { dependsOn: ["table.connections"] });
const table = desired("table.connections", "dynamodb.table", { name: "my-chat-connections", key: "connectionId" }, { retainOnDestroy: false });
const fn = desired("function.connect", "lambda.function", { name: "my-chat-connect", roleArn: ref("role.connect", "arn"), timeout: 29 });
const api = desired("api", "apigw.api", { name: "my-chat", protocol: "WEBSOCKET" });
const integration = desired("integration.connect", "apigw.integration", { apiId: ref("api", "id"), uri: ref("function.connect", "arn") });
const route = desired("route.$connect", "apigw.route", { apiId: ref("api", "id"), target: ref("integration.connect", "id", "integrations/{}") });
const graph = [route, integration, api, fn, role, table];

function present(d: DesiredResource, physicalId: string, opts: Parameters<typeof actual>[2] = {}, attrs?: Record<string, unknown>): ReadState {
  const outputs = { id: physicalId, arn: `arn:${physicalId}`, ...opts.outputs };
  return { status: "present", actual: actual(physicalId, attrs ?? resolvedProps(d), { ...opts, outputs }) };
}

// What the world holds when everything matches: props with Refs replaced by the ids below.
const ids: Record<string, string> = {
  "table.connections": "tbl",
  "role.connect": "rol",
  "function.connect": "fn",
  api: "api1",
  "integration.connect": "int1",
  "route.$connect": "rt1",
};
function resolvedProps(d: DesiredResource): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(d.props as Record<string, unknown>)) {
    if (typeof v === "object" && v !== null && "$ref" in v) {
      const r = v as { $ref: string; output: string; format?: string };
      const value = r.output === "arn" ? `arn:${ids[r.$ref]}` : ids[r.$ref]!;
      out[k] = r.format ? r.format.replace("{}", value) : value;
    } else out[k] = v;
  }
  return out;
}

function snapshot(resources: Record<string, ReadState>, orphans: StateSnapshot["orphans"] = []): StateSnapshot {
  const outputs: Record<string, Record<string, string>> = {};
  for (const [id, s] of Object.entries(resources)) if (s.status === "present") outputs[id] = { ...s.actual.outputs };
  return { resources, outputs, orphans };
}

function allPresent(overrides: Record<string, ReadState> = {}): StateSnapshot {
  const resources: Record<string, ReadState> = {};
  for (const d of graph) resources[d.id] = present(d, ids[d.id]!);
  return snapshot({ ...resources, ...overrides });
}

function plan(state: StateSnapshot, extra: Partial<PlanInput> = {}): Plan {
  return planChanges({
    mode: "apply",
    stack: STACK,
    region: "ap-northeast-1",
    accountId: "123456789012",
    desired: graph,
    state,
    registry,
    options: { deleteData: false },
    createdAt: "2025-01-01T00:00:00.000Z",
    ...extra,
  });
}

const actions = (p: Plan) => Object.fromEntries(p.steps.map((s) => [s.id, s.action]));
const step = (p: Plan, id: string) => p.steps.find((s) => s.id === id)!;

describe("planChanges", () => {
  it("creates everything that is absent, parents first, with Refs left as Refs", () => {
    const state = snapshot(Object.fromEntries(graph.map((d) => [d.id, { status: "absent" } as ReadState])));
    const p = plan(state);
    expect(p.steps.map((s) => `${s.action} ${s.id}`)).toEqual([
      "create api",
      "create table.connections",
      "create role.connect",
      "create function.connect",
      "create integration.connect",
      "create route.$connect",
    ]);
    expect(step(p, "function.connect").changes).toEqual([
      { path: "name", before: undefined, after: "my-chat-connect" },
      { path: "roleArn", before: undefined, after: ref("role.connect", "arn") },
      { path: "timeout", before: undefined, after: 29 },
    ]);
    expect(step(p, "route.$connect").dependsOn).toEqual(["api", "integration.connect"]);
    expect(summarize(p)).toEqual({ create: 6, update: 0, replace: 0, delete: 0, noop: 0 });
    expect(hasChanges(p)).toBe(true);
  });

  it("is a no-op when everything matches", () => {
    const p = plan(allPresent());
    expect(new Set(p.steps.map((s) => s.action))).toEqual(new Set(["noop"]));
    expect(hasChanges(p)).toBe(false);
    expect(p.outputs["api"]).toEqual({ id: "api1", arn: "arn:api1" });
  });

  it("updates in place, and replaces when a change forces it, carrying the reason", () => {
    const p = plan(
      allPresent({
        "function.connect": present(fn, "fn", {}, { ...resolvedProps(fn), timeout: 10 }),
        "table.connections": present(table, "tbl", { holdsData: false }, { ...resolvedProps(table), key: "id" }),
      }),
    );
    expect(step(p, "function.connect")).toMatchObject({ action: "update", changes: [{ path: "timeout", before: 10, after: 29 }] });
    expect(step(p, "table.connections")).toMatchObject({ action: "replace", reason: "key changed" });
  });

  it("turns resources that take a replaced resource's outputs into updates with unknown values", () => {
    const p = plan(allPresent({ api: present(api, "api1", {}, { ...resolvedProps(api), protocol: "HTTP" }) }));
    expect(step(p, "api").action).toBe("replace");
    // The route's apiId forces replacement in its own kind: the cascade follows the kind's rules.
    expect(step(p, "route.$connect")).toMatchObject({ action: "replace", changes: [{ path: "apiId", before: "api1", after: ref("api", "id"), forcesReplacement: true }] });
    // The integration's kind does not diff apiId as replacing: an update whose new value is unknown.
    expect(step(p, "integration.connect")).toMatchObject({ action: "update", changes: [{ path: "apiId", before: "api1", after: ref("api", "id") }] });
    expect(step(p, "integration.connect").dependsOn).toContain("api");
    expect(step(p, "function.connect").action).toBe("noop");
  });

  it("never lets the stand-in for a value known after apply reach a change, even inside JSON text", () => {
    // A kind that shows its policy as JSON text, as iam.role does: the stand-in's NULs come out escaped.
    const jsonRole = {
      ...diffOnlyKind("iam.role"),
      diff: (d: { props: unknown }, a: { attributes: unknown }) => {
        const want = JSON.stringify({ Resource: (d.props as { policy: unknown }).policy }, null, 2);
        const have = JSON.stringify({ Resource: (a.attributes as { policy: unknown }).policy }, null, 2);
        return want === have ? [] : [{ path: "policy", before: have, after: want }];
      },
    };
    const changedKey = present(table, "tbl", {}, { name: "my-chat-connections", key: "id" });
    const p = plan(allPresent({ "table.connections": changedKey }), { registry: { ...registry, "iam.role": jsonRole } });
    expect(step(p, "table.connections").action).toBe("replace");
    const policy = step(p, "role.connect").changes.find((c) => c.path === "policy");
    expect(JSON.stringify(policy)).not.toMatch(/chatctl-unknown|\\u0000|\u0000/);
    expect(policy?.after).toMatchObject({ $ref: "table.connections", output: "arn" });
  });

  it("does not update what takes an output a replacement keeps (derived from props, like a table's ARN from its name)", () => {
    const tableKind = { ...diffOnlyKind("dynamodb.table", ["key"]), knownOutputs: () => ({ arn: "arn:tbl" }) };
    const changedKey = present(table, "tbl", {}, { name: "my-chat-connections", key: "id" });
    const p = plan(allPresent({ "table.connections": changedKey }), { registry: { ...registry, "dynamodb.table": tableKind } });
    expect(step(p, "table.connections").action).toBe("replace");
    expect(actions(p)).toMatchObject({ "role.connect": "noop", "function.connect": "noop" });
  });

  it("reports a resource with our name but another owner as a conflict, never a step", () => {
    const p = plan(
      allPresent({
        "role.connect": present(role, "rol", { stack: "other" }),
        "function.connect": present(fn, "fn", { stack: null }),
        api: present(api, "api1", { stack: "other" }),
        "route.$connect": present(route, "rt1", { parent: true }),
      }),
    );
    expect(p.conflicts.map((c) => c.message)).toEqual([
      "an API named my-chat-api exists and is not managed by stack my-chat (it carries chatctl:stack=other)",
      "a function named my-chat-connect exists and is not managed by stack my-chat (it carries no chatctl tag)",
      "a role named my-chat-connect exists and is not managed by stack my-chat (it carries chatctl:stack=other)",
      "a route named my-chat-$connect exists and is not managed by stack my-chat (it belongs to API my-chat-api, which is not)",
    ]);
    expect(p.conflicts.map((c) => c.owner)).toEqual(["other", undefined, "other", "other"]);
    const touched = p.steps.map((s) => s.id);
    for (const c of p.conflicts) expect(touched).not.toContain(c.id);
  });

  it("deletes orphans (no longer in chat.yaml) after what may still point at them", () => {
    const orphanIntegration = { kind: "apigw.integration", logicalId: "integration.old", actual: actual("int9", { apiId: "api1" }, { parent: true }) };
    const orphanRoute = { kind: "apigw.route", logicalId: "route.old", actual: actual("rt9", { apiId: "api1" }, { parent: true }) };
    const state = allPresent({ "route.$connect": present(route, "rt1", { parent: true }, { apiId: "api1", target: "integrations/int9" }) });
    const withOrphans = plan({ ...state, orphans: [orphanIntegration, orphanRoute] });
    expect(step(withOrphans, "integration.old")).toMatchObject({ action: "delete", reason: "no longer in chat.yaml", name: "int9" });
    expect(step(withOrphans, "route.$connect").action).toBe("update");
    // The old integration goes only once no route can use it: after the update and the orphan route's delete.
    expect(step(withOrphans, "integration.old").dependsOn).toEqual(["route.$connect", "route.old"]);
    const order = withOrphans.steps.map((s) => s.id);
    expect(order.indexOf("integration.old")).toBeGreaterThan(order.indexOf("route.$connect"));
  });

  it("deletes a dropped route and integration before the deployment that must no longer carry them, and the function after it", () => {
    const deployment = {
      ...desired("deployment", "apigw.deployment", { apiId: ref("api", "id"), hash: "new" }, { dependsOn: ["route.$connect"] }),
      captures: ["apigw.route", "apigw.integration"],
    };
    const withDeployment = [...graph, deployment];
    const state = allPresent({ deployment: present(deployment, "dep1", { parent: true }, { apiId: "api1", hash: "old" }) });
    const orphans = [
      { kind: "apigw.route", logicalId: "route.ping", actual: actual("rt9", { apiId: "api1" }, { parent: true }) },
      { kind: "apigw.integration", logicalId: "integration.ping", actual: actual("int9", { apiId: "api1" }, { parent: true }) },
      { kind: "lambda.function", logicalId: "function.ping", actual: actual("fn9", {}) },
    ];
    const p = plan({ ...state, orphans }, { desired: withDeployment, registry: { ...registry, "apigw.deployment": diffOnlyKind("apigw.deployment") } });
    expect(step(p, "deployment").action).toBe("update");
    const order = p.steps.map((s) => s.id);
    expect(order.indexOf("route.ping")).toBeLessThan(order.indexOf("deployment"));
    expect(order.indexOf("integration.ping")).toBeLessThan(order.indexOf("deployment"));
    expect(order.indexOf("function.ping")).toBeGreaterThan(order.indexOf("deployment"));
    expect(step(p, "deployment").dependsOn).toEqual(expect.arrayContaining(["integration.ping", "route.ping"]));
    expect(step(p, "function.ping").dependsOn).toContain("deployment");
  });

  it("makes a new deployment when what it captures changes although the routing hash did not (drift repaired out of band)", () => {
    const deployment = {
      ...desired("deployment", "apigw.deployment", { apiId: ref("api", "id"), hash: "same" }, { dependsOn: ["route.$connect"] }),
      captures: ["apigw.route", "apigw.integration"],
    };
    const registryWithDeployment = { ...registry, "apigw.deployment": diffOnlyKind("apigw.deployment") };
    const deployed = present(deployment, "dep1", { parent: true }, { apiId: "api1", hash: "same" });
    const unchanged = plan(allPresent({ deployment: deployed }), { desired: [...graph, deployment], registry: registryWithDeployment });
    expect(step(unchanged, "deployment").action).toBe("noop");

    const drifted = present(integration, "int1", { parent: true }, { ...resolvedProps(integration), uri: "arn:aws:lambda:us-east-1:1:function:other" });
    const p = plan(allPresent({ deployment: deployed, "integration.connect": drifted }), { desired: [...graph, deployment], registry: registryWithDeployment });
    expect(step(p, "integration.connect").action).toBe("update");
    expect(step(p, "deployment")).toMatchObject({ action: "update", reason: expect.stringContaining("apigw.integration") });
    const order = p.steps.map((s) => s.id);
    expect(order.indexOf("integration.connect")).toBeLessThan(order.indexOf("deployment"));
  });

  it("keeps what holds data unless deleteData is given", () => {
    const orphanTable = { kind: "dynamodb.table", logicalId: "table.old", actual: actual("old-tbl", {}, { holdsData: true }) };
    const changedKey = present(table, "tbl", { holdsData: true }, { ...resolvedProps(table), key: "id" });
    const kept = plan({ ...allPresent({ "table.connections": changedKey }), orphans: [orphanTable] });
    expect(kept.kept).toEqual([
      { id: "table.connections", kind: "dynamodb.table", name: "my-chat-connections", reason: "must be replaced (key changed) but holds items; pass --delete-data to replace it" },
      { id: "table.old", kind: "dynamodb.table", name: "old-tbl", reason: "holds items; pass --delete-data to delete it" },
    ]);
    expect(kept.steps.map((s) => s.id)).not.toContain("table.old");
    expect(step(kept, "table.connections")).toBeUndefined();

    const deleting = plan({ ...allPresent({ "table.connections": changedKey }), orphans: [orphanTable] }, { options: { deleteData: true } });
    expect(step(deleting, "table.old")).toMatchObject({ action: "delete", destroysData: true });
    expect(step(deleting, "table.connections")).toMatchObject({ action: "replace", destroysData: true });
    expect(deleting.kept).toEqual([]);
  });

  it("keeps what AWS would refuse to delete, whatever the flags, and says why", () => {
    const blocked = "deletion protection is on (set deletionProtection: false and apply first)";
    const orphanTable = { kind: "dynamodb.table", logicalId: "table.old", actual: actual("old-tbl", {}, { deletionBlocked: blocked }) };
    const changedKey = present(table, "tbl", { deletionBlocked: blocked }, { ...resolvedProps(table), key: "id" });
    const p = plan({ ...allPresent({ "table.connections": changedKey }), orphans: [orphanTable] }, { options: { deleteData: true } });
    expect(p.kept).toEqual([
      { id: "table.connections", kind: "dynamodb.table", name: "my-chat-connections", reason: `must be replaced (key changed) but ${blocked}` },
      { id: "table.old", kind: "dynamodb.table", name: "old-tbl", reason: blocked },
    ]);
    expect(p.steps.filter((s) => s.id.startsWith("table."))).toEqual([]);

    const destroying = plan(allPresent({ "table.connections": present(table, "tbl", { deletionBlocked: blocked }) }), { mode: "destroy", options: { deleteData: true } });
    expect(destroying.kept).toContainEqual({ id: "table.connections", kind: "dynamodb.table", name: "my-chat-connections", reason: blocked });
    expect(step(destroying, "table.connections")).toBeUndefined();
  });

  it("destroys everything of ours in reverse dependency order, keeping retained and foreign resources", () => {
    const retained = desired("table.connections", "dynamodb.table", { name: "my-chat-connections", key: "connectionId" }, { retainOnDestroy: true });
    const desiredGraph = graph.map((d) => (d.id === retained.id ? retained : d));
    const state = allPresent({ "role.connect": present(role, "rol", { stack: "other" }) });
    const p = plan(state, { mode: "destroy", desired: desiredGraph });
    expect(p.steps.map((s) => `${s.action} ${s.id}`)).toEqual([
      "delete route.$connect",
      "delete integration.connect",
      "delete api",
      "delete function.connect",
    ]);
    expect(step(p, "api").dependsOn).toEqual(["integration.connect", "route.$connect"]);
    expect(step(p, "function.connect").dependsOn).toEqual(["integration.connect"]);
    expect(p.kept).toEqual([
      { id: "role.connect", kind: "iam.role", name: "my-chat-connect", reason: "not managed by stack my-chat (it carries chatctl:stack=other)" },
      { id: "table.connections", kind: "dynamodb.table", name: "my-chat-connections", reason: "onDestroy is retain" },
    ]);
    expect(p.conflicts).toEqual([]);
  });

  it("plans nothing to destroy when nothing exists", () => {
    const state = snapshot(Object.fromEntries(graph.map((d) => [d.id, { status: "absent" } as ReadState])));
    const p = plan(state, { mode: "destroy" });
    expect(p.steps).toEqual([]);
    expect(hasChanges(p)).toBe(false);
  });

  it("creates children whose parent is missing (unknown-parent)", () => {
    const resources: Record<string, ReadState> = {};
    for (const d of graph) resources[d.id] = present(d, ids[d.id]!);
    resources["api"] = { status: "absent" };
    resources["route.$connect"] = { status: "unknown-parent", missing: [ref("api", "id")] };
    resources["integration.connect"] = { status: "unknown-parent", missing: [ref("api", "id")] };
    const p = plan(snapshot(resources));
    expect(actions(p)).toMatchObject({ api: "create", "integration.connect": "create", "route.$connect": "create", "function.connect": "noop" });
  });

  it("orders steps deterministically whatever the input order", () => {
    const state = snapshot(Object.fromEntries(graph.map((d) => [d.id, { status: "absent" } as ReadState])));
    const a = plan(state).steps.map((s) => s.id);
    const b = plan(state, { desired: [...graph].reverse() }).steps.map((s) => s.id);
    expect(b).toEqual(a);
  });
});

describe("fingerprint", () => {
  it("changes when anything read changes, and not with key order", () => {
    const base = allPresent();
    const same = snapshot(Object.fromEntries(Object.entries(base.resources).reverse()));
    expect(fingerprintSnapshot(same)).toBe(fingerprintSnapshot(base));
    const drifted = allPresent({ "function.connect": present(fn, "fn", {}, { ...resolvedProps(fn), timeout: 10 }) });
    expect(fingerprintSnapshot(drifted)).not.toBe(fingerprintSnapshot(base));
    const retagged = allPresent({ "function.connect": present(fn, "fn", { stack: "other" }) });
    expect(fingerprintSnapshot(retagged)).not.toBe(fingerprintSnapshot(base));
    expect(plan(base).fingerprint).toBe(fingerprintSnapshot(base));
  });
});
