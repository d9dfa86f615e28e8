import { MAX_EVENTS_PER_STREAM } from "../../src/local/models/logs.js";
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DeleteLogGroupCommand,
  DeleteRetentionPolicyCommand,
  DescribeLogGroupsCommand,
  DescribeLogStreamsCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  ListTagsForResourceCommand,
  ListTagsLogGroupCommand,
  PutLogEventsCommand,
  PutRetentionPolicyCommand,
  TagLogGroupCommand,
  TagResourceCommand,
  UntagResourceCommand,
  paginateDescribeLogGroups,
  paginateFilterLogEvents,
} from "@aws-sdk/client-cloudwatch-logs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startFrontDoor, type FrontDoor } from "../../src/local/front-door.js";
import { LogsModel } from "../../src/local/models/logs.js";
import { AwsError } from "../../src/local/service.js";
import { logsWire } from "../../src/local/wire/json.js";
import { errorOf } from "../support/ctx.js";

const region = "ap-northeast-1";
const accountId = "123456789012";
const groupArn = (name: string) => `arn:aws:logs:${region}:${accountId}:log-group:${name}`;

describe("CloudWatch Logs over the wire (real CloudWatchLogsClient -> front door -> model)", () => {
  let door: FrontDoor;
  let model: LogsModel;
  let logs: CloudWatchLogsClient;

  beforeEach(async () => {
    model = new LogsModel({ region, accountId, pageSize: 2 });
    door = await startFrontDoor([logsWire(model)]);
    logs = new CloudWatchLogsClient({ region, endpoint: door.url, credentials: { accessKeyId: "x", secretAccessKey: "y" }, maxAttempts: 1 });
  });
  afterEach(async () => {
    logs.destroy();
    await door.close();
  });

  it("creates a log group with tags and describes it by prefix, page by page", async () => {
    await logs.send(new CreateLogGroupCommand({ logGroupName: "/aws/lambda/my-chat-connect", tags: { "chatctl:stack": "my-chat" } }));
    for (const f of ["default", "disconnect", "sendmessage"]) await logs.send(new CreateLogGroupCommand({ logGroupName: `/aws/lambda/my-chat-${f}` }));
    await logs.send(new CreateLogGroupCommand({ logGroupName: "/other" }));

    const first = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: "/aws/lambda/my-chat-" }));
    expect(first.logGroups?.map((g) => g.logGroupName)).toEqual(["/aws/lambda/my-chat-connect", "/aws/lambda/my-chat-default"]);
    expect(first.nextToken).toBeDefined();
    expect(first.logGroups?.[0]).toMatchObject({ logGroupArn: groupArn("/aws/lambda/my-chat-connect"), arn: `${groupArn("/aws/lambda/my-chat-connect")}:*` });
    expect(typeof first.logGroups?.[0]?.creationTime).toBe("number");

    const names: string[] = [];
    for await (const page of paginateDescribeLogGroups({ client: logs }, { logGroupNamePrefix: "/aws/lambda/" })) {
      names.push(...(page.logGroups ?? []).map((g) => g.logGroupName ?? ""));
    }
    expect(names).toHaveLength(4);

    const tags = await logs.send(new ListTagsForResourceCommand({ resourceArn: groupArn("/aws/lambda/my-chat-connect") }));
    expect(tags.tags).toEqual({ "chatctl:stack": "my-chat" });
  });

  it("answers errors with the exception's name", async () => {
    await logs.send(new CreateLogGroupCommand({ logGroupName: "g" }));
    const exists = await errorOf(logs.send(new CreateLogGroupCommand({ logGroupName: "g" })));
    expect(exists.name).toBe("ResourceAlreadyExistsException");
    expect(exists.$metadata?.httpStatusCode).toBe(400);
    expect((await errorOf(logs.send(new DeleteLogGroupCommand({ logGroupName: "nope" })))).name).toBe("ResourceNotFoundException");
    expect((await errorOf(logs.send(new PutRetentionPolicyCommand({ logGroupName: "g", retentionInDays: 2 })))).name).toBe("InvalidParameterException");
    expect((await errorOf(logs.send(new ListTagsForResourceCommand({ resourceArn: groupArn("nope") })))).name).toBe("ResourceNotFoundException");
    model.beforeCall = () => {
      throw new AwsError("ThrottlingException", "Rate exceeded", 400);
    };
    expect((await errorOf(logs.send(new DescribeLogGroupsCommand({})))).name).toBe("ThrottlingException");
  });

  it("sets and removes retention, tags by ARN and by name, deletes", async () => {
    await logs.send(new CreateLogGroupCommand({ logGroupName: "g" }));
    await logs.send(new PutRetentionPolicyCommand({ logGroupName: "g", retentionInDays: 14 }));
    expect((await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: "g" }))).logGroups?.[0]?.retentionInDays).toBe(14);
    await logs.send(new DeleteRetentionPolicyCommand({ logGroupName: "g" }));
    expect((await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: "g" }))).logGroups?.[0]?.retentionInDays).toBeUndefined();

    await logs.send(new TagResourceCommand({ resourceArn: groupArn("g"), tags: { a: "1", b: "2" } }));
    await logs.send(new UntagResourceCommand({ resourceArn: groupArn("g"), tagKeys: ["a"] }));
    await logs.send(new TagLogGroupCommand({ logGroupName: "g", tags: { c: "3" } }));
    expect((await logs.send(new ListTagsLogGroupCommand({ logGroupName: "g" }))).tags).toEqual({ b: "2", c: "3" });

    await logs.send(new DeleteLogGroupCommand({ logGroupName: "g" }));
    expect((await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: "g" }))).logGroups).toEqual([]);
  });

  it("stores events in streams and reads them back forward and backward", async () => {
    await logs.send(new CreateLogGroupCommand({ logGroupName: "g" }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: "g", logStreamName: "s1" }));
    expect((await errorOf(logs.send(new CreateLogStreamCommand({ logGroupName: "g", logStreamName: "s1" })))).name).toBe("ResourceAlreadyExistsException");
    expect((await errorOf(logs.send(new PutLogEventsCommand({ logGroupName: "g", logStreamName: "nope", logEvents: [{ timestamp: 1, message: "x" }] })))).name).toBe(
      "ResourceNotFoundException",
    );
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: "g",
        logStreamName: "s1",
        logEvents: [1, 2, 3].map((n) => ({ timestamp: 1000 * n, message: `line ${n}` })),
      }),
    );
    const streams = await logs.send(new DescribeLogStreamsCommand({ logGroupName: "g" }));
    expect(streams.logStreams?.[0]).toMatchObject({ logStreamName: "s1", firstEventTimestamp: 1000, lastEventTimestamp: 3000 });

    const head = await logs.send(new GetLogEventsCommand({ logGroupName: "g", logStreamName: "s1", startFromHead: true }));
    expect(head.events?.map((e) => e.message)).toEqual(["line 1", "line 2"]); // page size 2
    const rest = await logs.send(new GetLogEventsCommand({ logGroupName: "g", logStreamName: "s1", nextToken: head.nextForwardToken }));
    expect(rest.events?.map((e) => e.message)).toEqual(["line 3"]);
    const end = await logs.send(new GetLogEventsCommand({ logGroupName: "g", logStreamName: "s1", nextToken: rest.nextForwardToken }));
    expect(end.events).toEqual([]);
    expect(end.nextForwardToken).toBe(rest.nextForwardToken); // the same token: the end

    const tail = await logs.send(new GetLogEventsCommand({ logGroupName: "g", logStreamName: "s1" }));
    expect(tail.events?.map((e) => e.message)).toEqual(["line 2", "line 3"]);
    const windowed = await logs.send(new GetLogEventsCommand({ logGroupName: "g", logStreamName: "s1", startTime: 2000, endTime: 3000, startFromHead: true }));
    expect(windowed.events?.map((e) => e.message)).toEqual(["line 2"]);
  });

  it("filters events across streams, interleaved by time, by term, quoted phrase, stream and window", async () => {
    model.append("/aws/lambda/fn", "2026/01/01/[$LATEST]a", [
      { timestamp: 100, message: "START RequestId: 1" },
      { timestamp: 300, message: "ERROR boom happened" },
    ]);
    model.append("/aws/lambda/fn", "2026/01/01/[$LATEST]b", [
      { timestamp: 200, message: "START RequestId: 2" },
      { timestamp: 400, message: "ERROR another boom" },
    ]);
    const all: string[] = [];
    for await (const page of paginateFilterLogEvents({ client: logs }, { logGroupName: "/aws/lambda/fn" })) {
      all.push(...(page.events ?? []).map((e) => `${e.timestamp}:${e.message}`));
    }
    expect(all).toEqual(["100:START RequestId: 1", "200:START RequestId: 2", "300:ERROR boom happened", "400:ERROR another boom"]);

    const errors = await logs.send(new FilterLogEventsCommand({ logGroupName: "/aws/lambda/fn", filterPattern: "ERROR" }));
    expect(errors.events?.map((e) => e.logStreamName)).toEqual(["2026/01/01/[$LATEST]a", "2026/01/01/[$LATEST]b"]);
    const phrase = await logs.send(new FilterLogEventsCommand({ logGroupName: "/aws/lambda/fn", filterPattern: '"boom happened"' }));
    expect(phrase.events?.map((e) => e.message)).toEqual(["ERROR boom happened"]);
    const oneStream = await logs.send(new FilterLogEventsCommand({ logGroupName: "/aws/lambda/fn", logStreamNames: ["2026/01/01/[$LATEST]b"], startTime: 300 }));
    expect(oneStream.events?.map((e) => e.message)).toEqual(["ERROR another boom"]);
    const window = await logs.send(new FilterLogEventsCommand({ logGroupName: "/aws/lambda/fn", startTime: 150, endTime: 300 }));
    expect(window.events?.map((e) => e.timestamp)).toEqual([200]);
    expect((await errorOf(logs.send(new FilterLogEventsCommand({ logGroupName: "/aws/lambda/fn", filterPattern: "{ $.level = 1 }" })))).name).toBe(
      "InvalidParameterException",
    );
    expect((await errorOf(logs.send(new FilterLogEventsCommand({ logGroupName: "nope" })))).name).toBe("ResourceNotFoundException");
  });

  it("keeps a stream in time order when events arrive late, and bounded to its newest events", async () => {
    model.append("g-late", "s", [{ timestamp: 300, message: "third" }]);
    model.append("g-late", "s", [{ timestamp: 100, message: "first" }, { timestamp: 200, message: "second" }]);
    const messages: string[] = [];
    let token: string | undefined;
    for (;;) {
      const page = await logs.send(new GetLogEventsCommand({ logGroupName: "g-late", logStreamName: "s", startFromHead: true, nextToken: token }));
      messages.push(...(page.events ?? []).map((e) => e.message ?? ""));
      if (page.events?.length === 0 || page.nextForwardToken === token) break;
      token = page.nextForwardToken;
    }
    expect(messages).toEqual(["first", "second", "third"]);

    const many = Array.from({ length: MAX_EVENTS_PER_STREAM + 5 }, (_, i) => ({ timestamp: 1_000 + i, message: `m${i}` }));
    model.append("g-long", "s", many);
    const head = await logs.send(new GetLogEventsCommand({ logGroupName: "g-long", logStreamName: "s", startFromHead: true, limit: 1 }));
    expect(head.events?.map((e) => e.message)).toEqual(["m5"]); // the 5 oldest made room
  });
});
