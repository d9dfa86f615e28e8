import { IAMClient } from "@aws-sdk/client-iam";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createClients } from "../../src/aws/clients.js";
import { IamModel } from "../../src/local/models/iam.js";
import { AwsError } from "../../src/local/service.js";
import { iamRole, samePolicy } from "../../src/resources/iam-role.js";
import type { Ctx, ResolvedResource } from "../../src/resources/kind.js";
import type { RoleProps } from "../../src/resources/props.js";
import { plug } from "../support/plug.js";

const region = "ap-northeast-1";
const accountId = "123456789012";

function desired(overrides: Partial<RoleProps> = {}): ResolvedResource<RoleProps> {
  const props: RoleProps = {
    roleName: "my-chat-connect",
    path: "/chatctl/",
    description: "Runs function my-chat-connect of chatctl stack my-chat",
    assumeRolePolicy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }] },
    inlinePolicyName: "chatctl",
    inlinePolicy: {
      Version: "2012-10-17",
      Statement: [{ Sid: "WriteOwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: ["arn:aws:logs:*"] }],
    },
    tags: { app: "chat", "chatctl:stack": "my-chat", "chatctl:id": "role.connect" },
    ...overrides,
  };
  return { id: "role.connect", kind: "iam.role", name: props.roleName, props };
}

describe("iam.role", () => {
  let model: IamModel;
  let mock: AwsClientStub<IAMClient>;
  let ctx: Ctx;

  beforeEach(async () => {
    model = new IamModel({ accountId, pageSize: 1 });
    mock = mockClient(IAMClient);
    plug(mock, model, await import("@aws-sdk/client-iam"));
    ctx = { region, accountId, partition: "aws", stack: "my-chat", clients: createClients({ region, credentials: { accessKeyId: "x", secretAccessKey: "y" } }) };
  });
  afterEach(() => mock.restore());

  const writes = () => model.calls.map((c) => c.operation).filter((op) => !/^(Get|List)/.test(op));

  it("reads nothing when the role is absent", async () => {
    expect(await iamRole.read(ctx, desired())).toBeUndefined();
  });

  it("creates the role with its policy, and reading it back shows no difference", async () => {
    const d = desired();
    const created = await iamRole.create(ctx, d);
    const roleArn = `arn:aws:iam::${accountId}:role/chatctl/my-chat-connect`;
    expect(iamRole.knownOutputs(ctx, d)).toEqual({ roleArn, roleName: "my-chat-connect" });
    expect(created.outputs).toEqual({ roleArn, roleName: "my-chat-connect" });

    const actual = await iamRole.read(ctx, d);
    expect(actual?.physicalId).toBe(roleArn);
    expect(actual?.ownership).toEqual({ by: "tags", stack: "my-chat", id: "role.connect" });
    expect(actual?.attributes.inlinePolicy).toEqual(d.props.inlinePolicy);
    expect(iamRole.diff(d, actual!)).toEqual([]);
  });

  it("sees policies that differ only in spelling as the same", async () => {
    const d = desired();
    await iamRole.create(ctx, d);
    // The same policy written another way: a lone statement, single strings, other key and list order.
    const respelled = JSON.stringify({
      Statement: { Resource: "arn:aws:logs:*", Action: ["logs:PutLogEvents", "logs:CreateLogStream"], Effect: "Allow", Sid: "WriteOwnLogs" },
      Version: "2012-10-17",
    });
    await model.dispatch("PutRolePolicy", { RoleName: "my-chat-connect", PolicyName: "chatctl", PolicyDocument: respelled });
    const actual = await iamRole.read(ctx, d);
    expect(iamRole.diff(d, actual!)).toEqual([]);
    expect(samePolicy({ Statement: [{ Action: "a" }] }, { Statement: [{ Action: "b" }] })).toBe(false);
  });

  it("shows a policy change as pretty JSON and updates only what changed", async () => {
    await iamRole.create(ctx, desired());
    const d = desired({
      inlinePolicy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "dynamodb:PutItem", Resource: "arn:aws:dynamodb:*" }] },
      tags: { "chatctl:stack": "my-chat", "chatctl:id": "role.connect", team: "x" },
    });
    const actual = await iamRole.read(ctx, d);
    const changes = iamRole.diff(d, actual!);
    expect(changes.map((c) => c.path)).toEqual(["inlinePolicy", "tags.app", "tags.team"]);
    const policy = changes[0]!;
    expect(typeof policy.after).toBe("string");
    expect(String(policy.after).split("\n").length).toBeGreaterThan(3);
    expect(JSON.parse(String(policy.after))).toEqual(d.props.inlinePolicy);
    expect(JSON.parse(String(policy.before))).toEqual(desired().props.inlinePolicy);

    model.calls.length = 0;
    await iamRole.update(ctx, d, actual!, changes);
    expect(writes()).toEqual(["PutRolePolicy", "UntagRole", "TagRole"]);
    const after = await iamRole.read(ctx, d);
    expect(iamRole.diff(d, after!)).toEqual([]);
  });

  it("updates the trust policy and the description", async () => {
    await iamRole.create(ctx, desired());
    const d = desired({
      description: "new words",
      assumeRolePolicy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "edgelambda.amazonaws.com" }, Action: "sts:AssumeRole" }] },
    });
    const actual = await iamRole.read(ctx, d);
    const changes = iamRole.diff(d, actual!);
    expect(changes.map((c) => c.path)).toEqual(["description", "assumeRolePolicy"]);
    model.calls.length = 0;
    await iamRole.update(ctx, d, actual!, changes);
    expect(writes()).toEqual(["UpdateAssumeRolePolicy", "UpdateRole"]);
    expect(iamRole.diff(d, (await iamRole.read(ctx, d))!)).toEqual([]);
  });

  it("replaces the role when its path changes", async () => {
    await iamRole.create(ctx, desired());
    const actual = await iamRole.read(ctx, desired());
    const changes = iamRole.diff(desired({ path: "/other/" }), actual!);
    expect(changes.find((c) => c.path === "path")).toMatchObject({ forcesReplacement: true });
  });

  it("deletes the inline policy first, then the role; deleting again succeeds", async () => {
    const created = await iamRole.create(ctx, desired());
    await iamRole.delete(ctx, created);
    expect(await iamRole.read(ctx, desired())).toBeUndefined();
    expect(writes()).toContain("DeleteRolePolicy");
    await expect(iamRole.delete(ctx, created)).resolves.toBeUndefined();
  });

  it("converges when the role already exists from an interrupted run", async () => {
    const d = desired();
    await model.dispatch("CreateRole", {
      RoleName: d.props.roleName,
      Path: d.props.path,
      AssumeRolePolicyDocument: JSON.stringify(d.props.assumeRolePolicy),
      Tags: [{ Key: "chatctl:stack", Value: "my-chat" }, { Key: "chatctl:id", Value: "role.connect" }],
    });
    const created = await iamRole.create(ctx, d);
    expect(created.physicalId).toBe(`arn:aws:iam::${accountId}:role/chatctl/my-chat-connect`);
    expect(iamRole.diff(d, (await iamRole.read(ctx, d))!)).toEqual([]);
  });

  it("reports a role of the same name that is not ours, and will not take it over", async () => {
    const d = desired();
    await model.dispatch("CreateRole", {
      RoleName: d.props.roleName,
      Path: d.props.path,
      AssumeRolePolicyDocument: "{}",
      Tags: [{ Key: "chatctl:stack", Value: "someone-else" }],
    });
    expect((await iamRole.read(ctx, d))?.ownership).toEqual({ by: "tags", stack: "someone-else", id: undefined });
    await expect(iamRole.create(ctx, d)).rejects.toThrow(/someone-else/);

    await model.dispatch("CreateRole", { RoleName: "untagged", AssumeRolePolicyDocument: "{}" });
    expect((await iamRole.read(ctx, desired({ roleName: "untagged" })))?.ownership).toEqual({ by: "tags", stack: undefined, id: undefined });
  });

  it("lets a throttling error through with its name", async () => {
    model.beforeCall = () => {
      throw new AwsError("Throttling", "Rate exceeded", 400);
    };
    await expect(iamRole.read(ctx, desired())).rejects.toMatchObject({ name: "Throttling" });
  });

  it("lists the roles this stack owns, across pages", async () => {
    await iamRole.create(ctx, desired());
    await iamRole.create(ctx, desired({ roleName: "my-chat-default", tags: { "chatctl:stack": "my-chat", "chatctl:id": "role.default" } }));
    await iamRole.create(ctx, desired({ roleName: "my-chat-foreign", tags: { "chatctl:stack": "other", "chatctl:id": "role.x" } }));
    const found = await iamRole.list(ctx);
    expect(found.map((r) => r.logicalId).sort()).toEqual(["role.connect", "role.default"]);
  });
});
