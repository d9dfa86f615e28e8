import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSpec } from "../../src/spec/loader.js";
import { TempProject } from "./helpers.js";

const specsDir = fileURLToPath(new URL("../../specs/", import.meta.url));
const EXAMPLES = ["chat.yaml", "minimal.yaml", "custom-routes.yaml", "authorized.yaml"] as const;

let project: TempProject;
beforeAll(() => {
  project = new TempProject();
});
afterAll(() => project.remove());

async function loadCopy(name: string) {
  const text = readFileSync(`${specsDir}${name}`, "utf8");
  const result = await loadSpec(project.write(`specs/${name}`, text), { env: {} });
  if (!result.ok) throw new Error(`${name}:\n${JSON.stringify(result.diagnostics, null, 2)}`);
  return result;
}

describe("example specs", () => {
  it.each(EXAMPLES)("%s starts with the yaml-language-server modeline", (name) => {
    const firstLine = readFileSync(`${specsDir}${name}`, "utf8").split("\n")[0];
    expect(firstLine).toBe("# yaml-language-server: $schema=../schema/chat.schema.json");
  });

  it.each(EXAMPLES)("%s loads without problems (handlers stubbed in a copy)", async (name) => {
    expect((await loadCopy(name)).warnings).toEqual([]);
  });

  it("chat.yaml reproduces the original script.sh architecture", async () => {
    const { spec, region } = await loadCopy("chat.yaml");
    expect(spec.stack).toBe("my-chat");
    expect(region).toBe("ap-northeast-1");
    expect(spec.routes).toEqual({ $connect: "connect", $disconnect: "disconnect", $default: "default", sendmessage: "sendmessage", join: "sendmessage" });
    expect(Object.keys(spec.tables)).toEqual(["connections"]);
    expect(spec.tables.connections).toMatchObject({
      partitionKey: "connectionId",
      ttlAttribute: "expiresAt",
      indexes: [{ name: "byRoom", partitionKey: "room", sortKey: "connectionId", projection: "KEYS_ONLY" }],
    });
    for (const name of ["connect", "disconnect", "default", "sendmessage", "broadcast"]) {
      expect(spec.functions[name]?.handler).toBe(`../handlers/${name}.ts`);
    }
    expect(spec.functions.sendmessage).toMatchObject({ manageConnections: true, tables: ["connections"], invokes: ["broadcast"] });
    expect(spec.api).toEqual({ routeSelectionExpression: "$request.body.action", stage: "prod" });
  });

  it("minimal.yaml relies on defaults", async () => {
    const { spec } = await loadCopy("minimal.yaml");
    expect(spec.api).toEqual({ routeSelectionExpression: "$request.body.action", stage: "prod" });
    expect(spec.functions.default).toMatchObject({ runtime: "nodejs22.x", memory: 256, timeout: 10 });
    expect(spec.tables).toEqual({});
  });

  it("custom-routes.yaml selects routes by $request.body.type and has an extra route", async () => {
    const { spec } = await loadCopy("custom-routes.yaml");
    expect(spec.api.routeSelectionExpression).toBe("$request.body.type");
    expect(spec.routes.ping).toBe("default");
  });

  it("authorized.yaml guards $connect with a query-string authorizer, throttles and logs access", async () => {
    const { spec } = await loadCopy("authorized.yaml");
    expect(spec.routes.$connect).toEqual({ function: "connect", authorizer: "tickets" });
    expect(spec.authorizers.tickets).toEqual({ function: "authorize", identitySources: ["route.request.querystring.ticket"] });
    expect(spec.api.throttling).toEqual({ rateLimit: 100, burstLimit: 200 });
    expect(spec.api.accessLog).toEqual({ retentionDays: 30 });
  });

  // The examples point at the project's real handlers; this holds once handlers/ is in place.
  it.each(EXAMPLES)("%s loads in place, against the real handlers", async (name) => {
    const handlersPresent = ["connect", "disconnect", "default", "sendmessage", "broadcast"].every((h) =>
      existsSync(fileURLToPath(new URL(`../../handlers/${h}.ts`, import.meta.url))),
    );
    expect(handlersPresent, "handlers/*.ts are missing").toBe(true);
    const result = await loadSpec(`${specsDir}${name}`, { env: {} });
    expect(result.ok ? [] : result.diagnostics).toEqual([]);
  });
});
