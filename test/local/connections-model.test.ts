import { ApiGatewayManagementApiClient, GetConnectionCommand, GoneException, PayloadTooLargeException, PostToConnectionCommand } from "@aws-sdk/client-apigatewaymanagementapi";
import { afterEach, describe, expect, it } from "vitest";
import { startFrontDoor, type FrontDoor } from "../../src/local/front-door.js";
import { ConnectionsModel, type ConnectionEvent } from "../../src/local/models/connections.js";
import { connectionsWire, isConnectionsUrl, parseConnectionsPath } from "../../src/local/wire/connections.js";
import { openConnection } from "../support/connections.js";

const doors: FrontDoor[] = [];
afterEach(async () => {
  for (const d of doors.splice(0)) await d.close();
});

describe("the @connections model", () => {
  it("tells observers of connects, posts with their outcome, and disconnects with code and reason", async () => {
    const model = new ConnectionsModel({ now: () => 42 });
    const seen: ConnectionEvent[] = [];
    const stop = model.subscribe((e) => seen.push(e));
    const ann = openConnection(model, "ann=", { apiId: "a1", stage: "prod", connectedAt: 7 });
    await model.dispatch("PostToConnection", { ConnectionId: "ann=", Data: "hi" });
    await expect(model.dispatch("PostToConnection", { ConnectionId: "ann=", Data: new Uint8Array(128 * 1024 + 1) })).rejects.toMatchObject({
      name: "PayloadTooLargeException",
      statusCode: 413,
    });
    await expect(model.dispatch("PostToConnection", { ConnectionId: "bob=", Data: "x" })).rejects.toMatchObject({ name: "GoneException", statusCode: 410 });
    await model.dispatch("DeleteConnection", { ConnectionId: "ann=" });
    model.disconnect("ann=", 1006, "told twice: only the first counts");
    stop();
    openConnection(model, "late=");
    expect(ann.received.map(String)).toEqual(["hi"]);
    expect(seen).toEqual([
      { type: "connected", at: 42, connection: expect.objectContaining({ connectionId: "ann=", apiId: "a1", stage: "prod", connectedAt: 7, lastActiveAt: 7 }) },
      { type: "posted", at: 42, connectionId: "ann=", bytes: 2, outcome: "delivered" },
      { type: "posted", at: 42, connectionId: "ann=", bytes: 128 * 1024 + 1, outcome: "tooLarge" },
      { type: "posted", at: 42, connectionId: "bob=", bytes: 1, outcome: "gone" },
      { type: "disconnected", at: 42, connectionId: "ann=", code: 1000, reason: "" },
    ]);
  });

  it("answers 410 for a connection of another API or stage, and after the client left", async () => {
    const model = new ConnectionsModel();
    const c = openConnection(model, "c=", { apiId: "a1", stage: "prod" });
    await expect(model.dispatch("GetConnection", { ConnectionId: "c=", Stage: "dev" })).rejects.toMatchObject({ name: "GoneException" });
    await expect(model.dispatch("GetConnection", { ConnectionId: "c=", ApiId: "other", Stage: "prod" })).rejects.toMatchObject({ name: "GoneException" });
    expect(await model.dispatch("GetConnection", { ConnectionId: "c=", ApiId: "a1", Stage: "prod" })).toMatchObject({ Identity: { SourceIp: "198.51.100.1" } });
    c.leave();
    await expect(model.dispatch("GetConnection", { ConnectionId: "c=" })).rejects.toMatchObject({ name: "GoneException" });
    expect(model.list()).toEqual([]);
  });

  it("is served over HTTP to the SDK client, with the stage in the path or not, and 403 for what is no operation", async () => {
    const model = new ConnectionsModel();
    const wire = connectionsWire(model);
    const door = await startFrontDoor([wire]);
    doors.push(door);
    const c = openConnection(model, "id/with=", { stage: "prod" });
    const api = new ApiGatewayManagementApiClient({ endpoint: `${door.url}/prod`, region: "us-east-1", credentials: { accessKeyId: "AKID", secretAccessKey: "s" } });
    await api.send(new PostToConnectionCommand({ ConnectionId: "id/with=", Data: "hello" }));
    expect(c.received.map(String)).toEqual(["hello"]);
    expect((await api.send(new GetConnectionCommand({ ConnectionId: "id/with=" }))).ConnectedAt).toBeInstanceOf(Date);
    await expect(api.send(new PostToConnectionCommand({ ConnectionId: "id/with=", Data: "x".repeat(128 * 1024 + 1) }))).rejects.toBeInstanceOf(PayloadTooLargeException);
    const other = new ApiGatewayManagementApiClient({ endpoint: `${door.url}/dev`, region: "us-east-1", credentials: { accessKeyId: "AKID", secretAccessKey: "s" } });
    await expect(other.send(new PostToConnectionCommand({ ConnectionId: "id/with=", Data: "x" }))).rejects.toBeInstanceOf(GoneException);
    api.destroy();
    other.destroy();

    expect(parseConnectionsPath("/a1/prod/@connections/x%3D")).toEqual({ id: "x=", apiId: "a1", stage: "prod" });
    expect(parseConnectionsPath("/@connections/x")).toEqual({ id: "x" });
    expect(parseConnectionsPath("/a/b/c/@connections/x")).toBeUndefined();
    expect(isConnectionsUrl("/prod/@connections/x?y=1")).toBe(true);
    expect(isConnectionsUrl("/2015-03-31/functions")).toBe(false);
    const put = await wire.handle({ method: "PUT", path: "/@connections/id%2Fwith%3D", rawPath: "/@connections/id%2Fwith%3D", query: new URLSearchParams(), headers: {}, body: Buffer.alloc(0) });
    expect(put.status).toBe(403);
    expect(put.headers["x-amzn-errortype"]).toBe("ForbiddenException");
  });
});
