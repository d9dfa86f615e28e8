import { ApiGatewayManagementApiClient, DeleteConnectionCommand, PostToConnectionCommand } from "@aws-sdk/client-apigatewaymanagementapi";
import { PutItemCommand, TagResourceCommand } from "@aws-sdk/client-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createClients } from "../../src/aws/clients.js";
import { opsCommands } from "../../src/cli/ops-commands.js";
import { TAG_STACK } from "../../src/resources/kind.js";
import { ConnectionsModel } from "../../src/local/models/connections.js";
import { openConnection } from "../support/connections.js";
import { plug } from "../support/plug.js";
import { run, type RunResult } from "./cli-helper.js";
import { accountId, credentials, makeModels, modelFunction, plugClasses, region, startLocalDynamo, tinyZip, type LocalDynamo, type Models } from "./world.js";

let dynamo: LocalDynamo;
let models: Models;
let unplug: () => void;
const management = mockClient(ApiGatewayManagementApiClient);
let connections: ConnectionsModel;
let dir: string;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  dir = await mkdtemp(join(tmpdir(), "chatctl-ops-cli-"));
});
afterAll(async () => {
  management.restore();
  await dynamo.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  models = makeModels();
  unplug = await plugClasses(models);
  connections = new ConnectionsModel();
  plug(management, connections, await import("@aws-sdk/client-apigatewaymanagementapi"));
});
afterEach(() => {
  unplug();
  management.reset();
});

/** A user mistake: exit 1, one line on stderr, nothing on stdout, no stack trace. */
function expectOneLineError(r: RunResult, text: string): void {
  expect(r.code).toBe(1);
  expect(r.stdout).toBe("");
  expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(r.stderr).toContain(`error: ${text}`);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

async function stack(name: string): Promise<string> {
  const api = await models.apigw.dispatch("CreateApi", { Name: name, ProtocolType: "WEBSOCKET", RouteSelectionExpression: "$request.body.action", Tags: { [TAG_STACK]: name } });
  await models.apigw.dispatch("CreateStage", { ApiId: String(api.ApiId), StageName: "prod", Tags: { [TAG_STACK]: name } });
  return String(api.ApiId);
}

const ddb = () => createClients({ region, endpoint: dynamo.url, credentials }).dynamodb();

describe("every command, under its old and its grouped name, with a runnable example", () => {
  it("registers both names and shows an example in --help", async () => {
    const names = opsCommands.map((c) => (c.paths ?? []).map((p) => p.join(" ")));
    for (const old of ["ws-create", "ws-delete", "ws-list", "ws-add-route", "ws-deploy", "ws-get-url", "connections-list", "connection-send", "connection-disconnect", "lambda-create", "lambda-update", "lambda-logs", "dynamodb-create", "dynamodb-scan"]) {
      const entry = names.find((paths) => paths.includes(old));
      expect(entry, old).toBeDefined();
      expect(entry?.some((p) => p.includes(" ")), `${old} has a grouped name`).toBe(true);
    }
    for (const c of opsCommands) {
      const path = c.paths?.[0] ?? [];
      const help = await run([...path, "--help"]);
      expect(help.code, path.join(" ")).toBe(0);
      expect(help.stdout).toContain("$ chatctl ");
      expect(c.usage?.examples?.length, path.join(" ")).toBeGreaterThan(0);
    }
  });
});

describe("ws commands", () => {
  it("creates, lists (aligned, and as JSON), deploys and prints the URL", async () => {
    const created = await run(["ws", "create", "my-chat-api", "--json"]);
    expect(created.code).toBe(0);
    const api = JSON.parse(created.stdout) as { apiId: string; apiEndpoint: string };
    await stack("my-chat");

    const list = await run(["ws-list"]);
    expect(list.code).toBe(0);
    const lines = list.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+NAME\s+STACK\s+CREATED\s+ENDPOINT$/);
    // Aligned: every row's NAME column starts where the header's does.
    const nameAt = lines[0]?.indexOf("NAME") ?? -1;
    for (const line of lines.slice(1)) expect(line.slice(nameAt).startsWith("my-chat")).toBe(true);
    expect(list.stdout).toContain(" - ");
    const json = JSON.parse((await run(["ws", "list", "--json"])).stdout) as Array<{ name: string; stack: string | null }>;
    expect(json.map((a) => [a.name, a.stack])).toEqual([
      ["my-chat", "my-chat"],
      ["my-chat-api", null],
    ]);

    const fn = await modelFunction(models, "default-handler");
    const route = await run(["ws-add-route", api.apiId, "$default", fn]);
    expect(route.code).toBe(0);
    expect(route.stdout).toMatch(/integration\s+\S+\s+created/);
    const deploy = await run(["ws", "deploy", api.apiId, "prod"]);
    expect(deploy.stdout).toContain(`${api.apiEndpoint}/prod`);
    const url = await run(["ws-get-url", api.apiId, "prod"]);
    expect(url).toEqual({ code: 0, stdout: `wss://${api.apiId}.execute-api.${region}.amazonaws.com/prod\n`, stderr: "" });
  });

  it("a wrong id, a wrong region, an id with path characters: one sentence, exit 1", async () => {
    await run(["ws-create", "somewhere"]);
    expectOneLineError(await run(["ws-get-url", "abcdefghij", "prod"]), "no API with id, stack or name 'abcdefghij' in ap-northeast-1; APIs there: ");
    const otherRegion = makeModels();
    unplug();
    unplug = await plugClasses(otherRegion);
    expectOneLineError(await run(["ws", "url", "abcdefghij", "--region", "eu-west-1"]), "no API 'abcdefghij' in eu-west-1: there are no APIs in this region (wrong --region?)");
    const callsBefore = otherRegion.apigw.calls.length;
    expectOneLineError(await run(["ws-delete", "../apis"]), "API id '../apis' contains a character that cannot be part of an id");
    expect(otherRegion.apigw.calls).toHaveLength(callsBefore);
  });
});

describe("connection commands", () => {
  it("sends through a stack name (3 arguments) and through api-id and stage (4)", async () => {
    const apiId = await stack("my-chat");
    const client = openConnection(connections, "conn1=");
    const viaStack = await run(["connection-send", "my-chat", "conn1=", "hi"]);
    expect(viaStack).toEqual({ code: 0, stdout: `sent 2 bytes to conn1= (${apiId}/prod)\n`, stderr: "" });
    const viaId = await run(["connection", "send", apiId, "prod", "conn1=", '{"message":"Hello"}', "--json"]);
    expect(JSON.parse(viaId.stdout)).toEqual({ apiId, stage: "prod", connectionId: "conn1=", bytes: 19 });
    const piped = await run(["connection", "send", "my-chat", "conn1=", "-"], {}, "from stdin");
    expect(piped.stdout).toContain("sent 10 bytes");
    expect(client.received.map((b) => b.toString())).toEqual(["hi", '{"message":"Hello"}', "from stdin"]);
    expect((await run(["connection-disconnect", apiId, "prod", "conn1="])).stdout).toBe(`disconnected conn1= (${apiId}/prod)\n`);
    expect(client.ended).toBe(true);
    openConnection(connections, "conn2=");
    expect(JSON.parse((await run(["connection", "disconnect", "my-chat", "conn2=", "--json"])).stdout)).toEqual({ apiId, stage: "prod", connectionId: "conn2=", disconnected: true });
    expect(management.commandCalls(DeleteConnectionCommand)).toHaveLength(2);
  });

  it("names the missing argument when api-id and stage are given but the message (or connection id) is not", async () => {
    const apiId = await stack("my-chat");
    management.on(PostToConnectionCommand).resolves({});
    expectOneLineError(
      await run(["connection-send", apiId, "prod", "conn1="]),
      `missing <message>: 'prod' is a stage of API ${apiId}, not a connection id; usage: chatctl connection-send <api-id> <stage> <connection-id> <message>`,
    );
    expectOneLineError(await run(["connection-disconnect", apiId, "prod"]), "missing <connection-id>: 'prod' is a stage of API");
    expectOneLineError(await run(["connection-info", apiId, "prod"]), "missing <connection-id>: 'prod' is a stage of API");
    expect(management.commandCalls(PostToConnectionCommand)).toHaveLength(0);
  });

  it("a gone connection, an empty pipe, a missing file: one sentence, exit 1", async () => {
    await stack("my-chat");
    expectOneLineError(await run(["connection-send", "my-chat", "gone=", "hi"]), "connection gone= is gone (it closed or never existed)");
    expectOneLineError(await run(["connection-send", "my-chat", "gone=", "-"], {}, ""), "no message on standard input");
    expectOneLineError(await run(["connection-send", "my-chat", "gone=", `@${join(dir, "nope.json")}`]), "cannot read message file");
    expect(management.commandCalls(PostToConnectionCommand)).toHaveLength(1);
    const disconnect = await run(["connection", "disconnect", "my-chat", "gone=", "extra", "args", "here"]);
    expect(disconnect.code).toBe(1);
    expect(disconnect.stdout).toContain("<api-id|stack> <stage|connection-id> [connection-id]");
  });

  it("lists connections of a stack's table as an aligned table and as JSON", async () => {
    const table = await run(["dynamodb-create", "cli-chat-connections", "connectionId", "--endpoint-url", dynamo.url, "--json"]);
    expect(table.code).toBe(0);
    const { tableArn } = JSON.parse(table.stdout) as { tableArn: string };
    await ddb().send(new TagResourceCommand({ ResourceArn: tableArn, Tags: [{ Key: TAG_STACK, Value: "cli-chat" }] }));
    const now = Date.now();
    for (const [id, ago, ua] of [
      ["short=", 5, "wscat"],
      ["a-much-longer-id=", 7200, "Mozilla/5.0 (X11; Linux x86_64)"],
    ] as const) {
      await ddb().send(
        new PutItemCommand({
          TableName: "cli-chat-connections",
          Item: { connectionId: { S: id }, connectedAt: { N: String(now - ago * 1000) }, sourceIp: { S: "203.0.113.9" }, userAgent: { S: ua } },
        }),
      );
    }
    const listed = await run(["connections", "list", "cli-chat", "--endpoint-url", dynamo.url]);
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^CONNECTION ID\s+AGE\s+SOURCE IP\s+USER AGENT$/);
    expect(lines[1]).toMatch(/^a-much-longer-id=\s+2h 00m\s+203\.0\.113\.9\s+Mozilla\/5\.0 \(X11; Linux x86_64\)$/);
    expect(lines[2]).toMatch(/^short=\s+\d+s\s+203\.0\.113\.9\s+wscat$/);
    const ageAt = lines[0]?.indexOf("AGE");
    expect(lines[1]?.indexOf("2h")).toBe(ageAt);
    expect(listed.stderr).toContain("2 connections in cli-chat-connections");

    const json = JSON.parse((await run(["connections-list", "cli-chat-connections", "--json", "--endpoint-url", dynamo.url])).stdout) as {
      table: string;
      connections: Array<{ connectionId: string }>;
    };
    expect(json.connections.map((c) => c.connectionId)).toEqual(["a-much-longer-id=", "short="]);

    expectOneLineError(await run(["connections-list", "no-such-table", "--endpoint-url", dynamo.url]), "no table or stack 'no-such-table' in ap-northeast-1; tables there: ");
  });
});

describe("dynamodb-scan", () => {
  it("prints top-level attributes, keys first, and plain JSON with --json", async () => {
    await run(["dynamodb", "create", "cli-scan", "id", "--endpoint-url", dynamo.url]);
    await ddb().send(new PutItemCommand({ TableName: "cli-scan", Item: { id: { S: "a" }, n: { N: "1" }, m: { M: { x: { BOOL: true } } } } }));
    await ddb().send(new PutItemCommand({ TableName: "cli-scan", Item: { id: { S: "b" }, z: { S: "only here" } } }));
    const table = await run(["dynamodb-scan", "cli-scan", "--endpoint-url", dynamo.url]);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^id\s+m\s+n\s+z$/);
    expect(lines.slice(1).sort()).toEqual([expect.stringMatching(/^a\s+\{"x":true\}\s+1\s+-$/), expect.stringMatching(/^b\s+-\s+-\s+only here$/)]);
    const json = JSON.parse((await run(["dynamodb", "scan", "cli-scan", "--json", "--limit", "5", "--endpoint-url", dynamo.url])).stdout) as unknown[];
    expect(json).toHaveLength(2);
    expect(json).toContainEqual({ id: "a", m: { x: true }, n: 1 });
  });
});

describe("lambda commands", () => {
  it("creates from a zip, updates, and reads logs as text and JSON", async () => {
    const zip = join(dir, "f.zip");
    await writeFile(zip, tinyZip());
    const created = await run(["lambda-create", "cli-fn", zip, "index.handler", "nodejs22.x"]);
    expect(created.code).toBe(0);
    expect(created.stdout).toContain(`created role arn:aws:iam::${accountId}:role/chatctl/chatctl-cli-fn`);
    expect(created.stdout).toMatch(/created function cli-fn\n\s+arn\s+arn:aws:lambda:/);
    const same = await run(["lambda", "update", "cli-fn", zip]);
    expect(same.stdout).toMatch(/^unchanged cli-fn code /);

    const missingHandler = await run(["lambda-create", "cli-fn2", zip]);
    expectOneLineError(missingHandler, "a .zip needs its handler and runtime");

    const now = Date.now();
    await models.logs.dispatch("CreateLogGroup", { logGroupName: "/aws/lambda/cli-fn" });
    await models.logs.dispatch("CreateLogStream", { logGroupName: "/aws/lambda/cli-fn", logStreamName: "2026/01/01/[$LATEST]0123456789abcdef" });
    await models.logs.dispatch("PutLogEvents", {
      logGroupName: "/aws/lambda/cli-fn",
      logStreamName: "2026/01/01/[$LATEST]0123456789abcdef",
      logEvents: [{ timestamp: now - 1000, message: "hello from the function\n" }],
    });
    const logs = await run(["lambda-logs", "cli-fn", "5"]);
    expect(logs.stdout).toBe(`${new Date(now - 1000).toISOString()} 012345  hello from the function\n`);
    const json = JSON.parse((await run(["lambda", "logs", "cli-fn", "--json"])).stdout) as Array<{ message: string }>;
    expect(json.map((e) => e.message)).toEqual(["hello from the function"]);
    expectOneLineError(await run(["lambda-logs", "nobody"]), "no logs for nobody: log group /aws/lambda/nobody does not exist");
    expectOneLineError(await run(["lambda-logs", "cli-fn", "soon"]), "minutes must be a positive number, not 'soon'");
  });

  it("notes that the handler argument is not used when an entry is bundled", async () => {
    const entry = join(dir, "h.ts");
    await writeFile(entry, "export const handler = async () => ({ statusCode: 200 });\n");
    const created = await run(["lambda", "create", "cli-bundled", entry, "main.run", "--json"]);
    expect(created.code).toBe(0);
    expect(created.stderr).toContain("the handler 'main.run' is ignored");
    expect(JSON.parse(created.stdout)).toMatchObject({ handler: "index.handler", runtime: "nodejs22.x" });
  });
});

describe("lambda-create checks before it makes anything", () => {
  const roles = async () => ((await models.iam.dispatch("ListRoles", {})).Roles as Array<{ RoleName: string }>).map((r) => r.RoleName);

  it("bundles a .ts entry for the spec's default runtime, nodejs22.x", async () => {
    const entry = join(dir, "plain.ts");
    await writeFile(entry, "export const handler = async () => ({ statusCode: 200 });\n");
    const created = await run(["lambda-create", "cli-default-runtime", entry, "--json"]);
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ runtime: "nodejs22.x" });
  });

  it("refuses a name Lambda would refuse, and a runtime it no longer takes, leaving no role behind", async () => {
    const zip = join(dir, "refused.zip");
    await writeFile(zip, tinyZip());
    expectOneLineError(await run(["lambda-create", "f".repeat(65), zip, "index.handler", "nodejs22.x"]), `function name '${"f".repeat(65)}' must be 1 to 64 letters, digits, '-' or '_' (it has 65 characters)`);
    expectOneLineError(await run(["lambda-create", "old-runtime", zip, "index.handler", "nodejs20.x"]), "runtime nodejs20.x cannot be used for new functions");
    expect(await roles()).toEqual([]);
  });

  it("removes the role it made when Lambda refuses the function all the same", async () => {
    const notAZip = join(dir, "not-a.zip");
    await writeFile(notAZip, "this is not a zip");
    const refused = await run(["lambda-create", "bad-code", notAZip, "index.handler", "nodejs22.x"]);
    expect(refused.code).toBe(1);
    expect(await roles()).toEqual([]);
  });
});

describe("colour", () => {
  it("only when asked for, and never with NO_COLOR", async () => {
    await run(["ws-create", "colourful"]);
    expect((await run(["ws-list"])).stdout).not.toContain("\u001b[");
    expect((await run(["ws-list"], { FORCE_COLOR: "1" })).stdout).toContain("\u001b[");
    expect((await run(["ws-list"], { FORCE_COLOR: "1", NO_COLOR: "1" })).stdout).not.toContain("\u001b[");
  });
});
