import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createClients } from "../../src/aws/clients.js";
import { LogsModel } from "../../src/local/models/logs.js";
import { AwsError } from "../../src/local/service.js";
import type { Ctx, ResolvedResource } from "../../src/resources/kind.js";
import { logsGroup } from "../../src/resources/logs-group.js";
import type { LogGroupProps } from "../../src/resources/props.js";
import { plug } from "../support/plug.js";

const region = "ap-northeast-1";
const accountId = "123456789012";
const name = "/aws/lambda/my-chat-connect";
const arn = `arn:aws:logs:${region}:${accountId}:log-group:${name}`;

function desired(overrides: Partial<LogGroupProps> = {}): ResolvedResource<LogGroupProps> {
  const props: LogGroupProps = {
    logGroupName: name,
    retentionDays: 14,
    tags: { app: "chat", "chatctl:stack": "my-chat", "chatctl:id": "logs.connect" },
    ...overrides,
  };
  return { id: "logs.connect", kind: "logs.group", name: props.logGroupName, props };
}

describe("logs.group", () => {
  let model: LogsModel;
  let mock: AwsClientStub<CloudWatchLogsClient>;
  let ctx: Ctx;

  beforeEach(async () => {
    model = new LogsModel({ region, accountId, pageSize: 1 });
    mock = mockClient(CloudWatchLogsClient);
    plug(mock, model, await import("@aws-sdk/client-cloudwatch-logs"));
    ctx = { region, accountId, partition: "aws", stack: "my-chat", clients: createClients({ region, credentials: { accessKeyId: "x", secretAccessKey: "y" } }) };
  });
  afterEach(() => mock.restore());

  const writes = () => model.calls.map((c) => c.operation).filter((op) => !/^(Describe|List)/.test(op));

  it("reads nothing when the group is absent, even when others share its prefix", async () => {
    model.append(`${name}-old`, "s", [{ timestamp: 1, message: "x" }]);
    expect(await logsGroup.read(ctx, desired())).toBeUndefined();
  });

  it("creates the group with retention and tags, and reading it back shows no difference", async () => {
    const d = desired();
    expect(logsGroup.knownOutputs(ctx, d)).toEqual({ logGroupArn: arn });
    const created = await logsGroup.create(ctx, d);
    expect(created.outputs.logGroupArn).toBe(arn);
    // Another group shares the name as a prefix; the kind must pick the exact name (page size 1).
    model.append(`${name}-a`, "s", []);
    const actual = await logsGroup.read(ctx, d);
    expect(actual).toMatchObject({ physicalId: arn, attributes: { logGroupName: name, retentionDays: 14 }, ownership: { by: "tags", stack: "my-chat", id: "logs.connect" } });
    expect(logsGroup.diff(d, actual!)).toEqual([]);
  });

  it("updates retention and tags, calling only what changed", async () => {
    await logsGroup.create(ctx, desired());
    const d = desired({ retentionDays: 30, tags: { "chatctl:stack": "my-chat", "chatctl:id": "logs.connect", owner: "me" } });
    const actual = await logsGroup.read(ctx, d);
    const changes = logsGroup.diff(d, actual!);
    expect(changes).toEqual([
      { path: "retentionDays", before: 14, after: 30 },
      { path: "tags.app", before: "chat", after: undefined },
      { path: "tags.owner", before: undefined, after: "me" },
    ]);
    model.calls.length = 0;
    await logsGroup.update(ctx, d, actual!, changes);
    expect(writes()).toEqual(["PutRetentionPolicy", "UntagResource", "TagResource"]);
    expect(logsGroup.diff(d, (await logsGroup.read(ctx, d))!)).toEqual([]);

    model.calls.length = 0;
    const tagOnly = desired({ retentionDays: 30, tags: { "chatctl:stack": "my-chat", "chatctl:id": "logs.connect", owner: "you" } });
    await logsGroup.update(ctx, tagOnly, (await logsGroup.read(ctx, tagOnly))!, [{ path: "tags.owner", before: "me", after: "you" }]);
    expect(writes()).toEqual(["TagResource"]);
  });

  it("deletes the group; deleting again succeeds", async () => {
    const created = await logsGroup.create(ctx, desired());
    await logsGroup.delete(ctx, created);
    expect(await logsGroup.read(ctx, desired())).toBeUndefined();
    await expect(logsGroup.delete(ctx, created)).resolves.toBeUndefined();
  });

  it("converges when Lambda (or an interrupted run) made the group already", async () => {
    model.append(name, "2026/01/01/[$LATEST]abc", [{ timestamp: 1, message: "hello" }]);
    await model.dispatch("TagResource", { resourceArn: arn, tags: { "chatctl:stack": "my-chat" } });
    const d = desired();
    await logsGroup.create(ctx, d);
    expect(logsGroup.diff(d, (await logsGroup.read(ctx, d))!)).toEqual([]);
  });

  it("reports a group of the same name that is not ours, and will not take it over", async () => {
    model.append(name, "s", []);
    expect((await logsGroup.read(ctx, desired()))?.ownership).toEqual({ by: "tags", stack: undefined, id: undefined });
    await expect(logsGroup.create(ctx, desired())).rejects.toThrow(/no chatctl stack/);
    await model.dispatch("TagResource", { resourceArn: arn, tags: { "chatctl:stack": "other" } });
    expect((await logsGroup.read(ctx, desired()))?.ownership).toMatchObject({ stack: "other" });
  });

  it("lets a throttling error through with its name", async () => {
    model.beforeCall = () => {
      throw new AwsError("ThrottlingException", "Rate exceeded", 400);
    };
    await expect(logsGroup.read(ctx, desired())).rejects.toMatchObject({ name: "ThrottlingException" });
  });

  it("lists the groups this stack owns", async () => {
    await logsGroup.create(ctx, desired());
    await logsGroup.create(ctx, desired({ logGroupName: "/aws/lambda/my-chat-default", tags: { "chatctl:stack": "my-chat", "chatctl:id": "logs.default" } }));
    model.append("/aws/lambda/my-chat-manual", "s", []);
    const found = await logsGroup.list(ctx);
    expect(found.map((g) => g.logicalId).sort()).toEqual(["logs.connect", "logs.default"]);
  });
});
