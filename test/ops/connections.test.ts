import { ApiGatewayManagementApiClient, DeleteConnectionCommand, GetConnectionCommand, PostToConnectionCommand } from "@aws-sdk/client-apigatewaymanagementapi";
import { PutItemCommand } from "@aws-sdk/client-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { AwsClients } from "../../src/aws/clients.js";
import {
  connectionInfo,
  disconnectConnection,
  listConnections,
  managementEndpoint,
  resolveTarget,
  sendToConnection,
  timeOf,
} from "../../src/ops/connections.js";
import { createTable, parseKey } from "../../src/ops/dynamodb.js";
import { readMessage } from "../../src/ops/message.js";
import { TAG_STACK } from "../../src/resources/kind.js";
import { ConnectionsModel } from "../../src/local/models/connections.js";
import { openConnection } from "../support/connections.js";
import { plug } from "../support/plug.js";
import { clientsOn, makeModels, noSleep, region, startLocalDynamo, type LocalDynamo, type Models } from "./world.js";

let dynamo: LocalDynamo;
let models: Models;
let clients: AwsClients;
// The @connections API is served by its model, as the local cloud serves it.
const management = mockClient(ApiGatewayManagementApiClient);
let connections: ConnectionsModel;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  models = makeModels();
  clients = await clientsOn(models, dynamo.url);
});
afterAll(async () => {
  management.restore();
  await dynamo.close();
});
beforeEach(async () => {
  connections = new ConnectionsModel();
  plug(management, connections, await import("@aws-sdk/client-apigatewaymanagementapi"));
});
afterEach(() => {
  management.reset();
});

async function stackWithStage(stack: string, stage = "prod"): Promise<string> {
  const api = await models.apigw.dispatch("CreateApi", { Name: stack, ProtocolType: "WEBSOCKET", RouteSelectionExpression: "$request.body.action", Tags: { [TAG_STACK]: stack } });
  const apiId = String(api.ApiId);
  await models.apigw.dispatch("CreateStage", { ApiId: apiId, StageName: stage, Tags: { [TAG_STACK]: stack } });
  return apiId;
}

describe("connections-list", () => {
  it("lists every connection with age, source IP and user agent, oldest first", async () => {
    await createTable(clients, { tableName: "chat-connections", partitionKey: parseKey("connectionId", "pk"), sleep: noSleep });
    const now = Date.parse("2026-01-01T12:00:00Z");
    const rows: Array<[string, number | string, string, string]> = [
      ["new=", now - 5_000, "10.0.0.1", "wscat/5"],
      ["old=", new Date(now - 3_600_000).toISOString(), "10.0.0.2", "Mozilla/5.0"],
      ["mid=", Math.floor((now - 60_000) / 1000), "10.0.0.3", "curl"],
    ];
    for (const [id, at, ip, ua] of rows) {
      const connectedAt = typeof at === "number" ? { N: String(at) } : { S: at };
      await clients.dynamodb().send(
        new PutItemCommand({ TableName: "chat-connections", Item: { connectionId: { S: id }, connectedAt, sourceIp: { S: ip }, userAgent: { S: ua } } }),
      );
    }
    const list = await listConnections(clients, "chat-connections", now);
    expect(list.table).toBe("chat-connections");
    expect(list.connections).toEqual([
      { connectionId: "old=", connectedAt: "2026-01-01T11:00:00.000Z", ageSeconds: 3600, sourceIp: "10.0.0.2", userAgent: "Mozilla/5.0" },
      { connectionId: "mid=", connectedAt: "2026-01-01T11:59:00.000Z", ageSeconds: 60, sourceIp: "10.0.0.3", userAgent: "curl" },
      { connectionId: "new=", connectedAt: "2026-01-01T11:59:55.000Z", ageSeconds: 5, sourceIp: "10.0.0.1", userAgent: "wscat/5" },
    ]);
  });

  it("says the table is missing, in the region asked", async () => {
    await expect(listConnections(clients, "missing-table")).rejects.toThrow(`no table or stack 'missing-table' in ${region}`);
  });

  it("reads connectedAt in the shapes handlers store it", () => {
    expect(timeOf(1767268800000)?.toISOString()).toBe("2026-01-01T12:00:00.000Z");
    expect(timeOf(1767268800)?.toISOString()).toBe("2026-01-01T12:00:00.000Z");
    expect(timeOf("1767268800000")?.toISOString()).toBe("2026-01-01T12:00:00.000Z");
    expect(timeOf("2026-01-01T12:00:00Z")?.toISOString()).toBe("2026-01-01T12:00:00.000Z");
    expect(timeOf("yesterday")).toBeUndefined();
  });
});

describe("connection-send / connection-disconnect", () => {
  it("posts to the stage's @connections endpoint, found through the stack name", async () => {
    const apiId = await stackWithStage("send-stack");
    const client = openConnection(connections, "abc=");
    const target = await resolveTarget(clients, "send-stack", undefined, "abc=");
    expect(target).toEqual({ apiId, stage: "prod", connectionId: "abc=" });
    expect(await sendToConnection(clients, target, Buffer.from('{"message":"hi"}'))).toEqual({ bytes: 16 });
    const calls = management.commandCalls(PostToConnectionCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input.ConnectionId).toBe("abc=");
    expect(client.received.map((b) => b.toString())).toEqual(['{"message":"hi"}']);
    expect(managementEndpoint(apiId, region, "prod")).toBe(`https://${apiId}.execute-api.${region}.amazonaws.com/prod`);
    expect(managementEndpoint("a1", "cn-north-1", "prod")).toBe("https://a1.execute-api.cn-north-1.amazonaws.com.cn/prod");
  });

  it("turns a gone connection into one sentence", async () => {
    const apiId = await stackWithStage("gone-stack");
    openConnection(connections, "dead=").leave();
    const target = await resolveTarget(clients, apiId, "prod", "dead=");
    const sentence = "connection dead= is gone (it closed or never existed)";
    await expect(sendToConnection(clients, target, Buffer.from("x"))).rejects.toThrow(sentence);
    await expect(disconnectConnection(clients, target)).rejects.toThrow(sentence);
    await expect(connectionInfo(clients, target)).rejects.toThrow(sentence);
    const never = await resolveTarget(clients, apiId, "prod", "never=");
    await expect(sendToConnection(clients, never, Buffer.from("x"))).rejects.toThrow("connection never= is gone");
  });

  it("reads a connection's info, and disconnects it", async () => {
    const apiId = await stackWithStage("info-stack");
    const client = openConnection(connections, "live=", { connectedAt: Date.parse("2026-01-01T00:00:00Z"), sourceIp: "192.0.2.1", userAgent: "wscat" });
    connections.touch("live=", Date.parse("2026-01-01T00:05:00Z"));
    const target = await resolveTarget(clients, apiId, "prod", "live=");
    expect(await connectionInfo(clients, target)).toEqual({
      connectionId: "live=",
      connectedAt: "2026-01-01T00:00:00.000Z",
      lastActiveAt: "2026-01-01T00:05:00.000Z",
      sourceIp: "192.0.2.1",
      userAgent: "wscat",
    });
    await disconnectConnection(clients, target);
    expect(management.commandCalls(DeleteConnectionCommand)[0]?.args[0].input).toEqual({ ConnectionId: "live=" });
    expect(client.ended).toBe(true);
    expect(management.commandCalls(GetConnectionCommand)).toHaveLength(1);
    await expect(connectionInfo(clients, target)).rejects.toThrow("connection live= is gone");
  });

  it("names a wrong API or stage as such, before calling @connections", async () => {
    const apiId = await stackWithStage("wrong-stack");
    await expect(resolveTarget(clients, apiId, "dev", "x=")).rejects.toThrow(`API ${apiId} has no stage 'dev'; its stages: prod`);
    await expect(resolveTarget(clients, "nothing-here", "prod", "x=")).rejects.toThrow("no API with id, stack or name 'nothing-here'");
    await expect(resolveTarget(clients, apiId, "prod", "../x")).rejects.toThrow("connection id '../x' contains a character");
    expect(management.calls()).toHaveLength(0);
  });

  it("refuses messages API Gateway would refuse", async () => {
    const apiId = await stackWithStage("size-stack");
    const target = await resolveTarget(clients, apiId, "prod", "x=");
    await expect(sendToConnection(clients, target, new Uint8Array(0))).rejects.toThrow("the message is empty");
    await expect(sendToConnection(clients, target, new Uint8Array(128 * 1024 + 1))).rejects.toThrow("API Gateway accepts at most 131072");
    expect(management.calls()).toHaveLength(0);
  });
});

describe("the message argument", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "chatctl-ops-msg-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const stdin = (text: string) => {
    const s = new PassThrough();
    s.end(text);
    return s;
  };

  it("is the argument, @file's contents, or standard input with -", async () => {
    await writeFile(join(dir, "m.json"), '{"a":1}');
    expect(Buffer.from(await readMessage("hello", stdin(""))).toString()).toBe("hello");
    expect(Buffer.from(await readMessage(`@${join(dir, "m.json")}`, stdin(""))).toString()).toBe('{"a":1}');
    expect(Buffer.from(await readMessage("-", stdin("from a pipe\n"))).toString()).toBe("from a pipe\n");
    expect(Buffer.from(await readMessage("@", stdin(""))).toString()).toBe("@");
  });

  it("says what is wrong with an empty pipe, a missing or empty file", async () => {
    await writeFile(join(dir, "empty"), "");
    await expect(readMessage("-", stdin(""))).rejects.toThrow("no message on standard input");
    await expect(readMessage(`@${join(dir, "nope")}`, stdin(""))).rejects.toThrow(`cannot read message file ${join(dir, "nope")}: no such file`);
    await expect(readMessage(`@${join(dir, "empty")}`, stdin(""))).rejects.toThrow("is empty");
  });
});
