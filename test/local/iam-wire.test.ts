import {
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  ListRoleTagsCommand,
  PutRolePolicyCommand,
  TagRoleCommand,
  UntagRoleCommand,
  UpdateAssumeRolePolicyCommand,
  UpdateRoleCommand,
  UpdateRoleDescriptionCommand,
  paginateListRoles,
} from "@aws-sdk/client-iam";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DroppedConnection } from "../../src/local/faults.js";
import { startFrontDoor, type FrontDoor } from "../../src/local/front-door.js";
import { IamModel } from "../../src/local/models/iam.js";
import { AwsError } from "../../src/local/service.js";
import { iamWire } from "../../src/local/wire/query.js";
import { errorOf } from "../support/ctx.js";

const accountId = "123456789012";
const trust = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
});
const policy = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "logs:PutLogEvents", Resource: "*" }] });

describe("IAM over the wire (real IAMClient -> front door -> model)", () => {
  let door: FrontDoor;
  let model: IamModel;
  let iam: IAMClient;

  beforeEach(async () => {
    model = new IamModel({ accountId, pageSize: 2 });
    door = await startFrontDoor([iamWire(model)]);
    iam = new IAMClient({ region: "us-east-1", endpoint: door.url, credentials: { accessKeyId: "x", secretAccessKey: "y" }, maxAttempts: 1 });
  });
  afterEach(async () => {
    iam.destroy();
    await door.close();
  });

  it("creates a role and reads it back with its ARN, tags and URL-encoded trust policy", async () => {
    const created = await iam.send(
      new CreateRoleCommand({ RoleName: "my-chat-connect", Path: "/chatctl/", AssumeRolePolicyDocument: trust, Description: "d", Tags: [{ Key: "chatctl:stack", Value: "my-chat" }] }),
    );
    expect(created.Role?.Arn).toBe(`arn:aws:iam::${accountId}:role/chatctl/my-chat-connect`);
    expect(created.Role?.CreateDate).toBeInstanceOf(Date);

    const { Role } = await iam.send(new GetRoleCommand({ RoleName: "my-chat-connect" }));
    expect(Role).toMatchObject({ RoleName: "my-chat-connect", Path: "/chatctl/", Description: "d", MaxSessionDuration: 3600 });
    expect(Role?.RoleId).toMatch(/^AROA/);
    expect(Role?.Tags).toEqual([{ Key: "chatctl:stack", Value: "my-chat" }]);
    expect(Role?.AssumeRolePolicyDocument).toBe(encodeURIComponent(trust));
    expect(JSON.parse(decodeURIComponent(Role?.AssumeRolePolicyDocument ?? ""))).toEqual(JSON.parse(trust));
    expect(model.roleCreatedAt(Role?.Arn ?? "")).toBe(Role?.CreateDate?.getTime());
    expect(model.roleCreatedAt("arn:aws:iam::123456789012:role/nope")).toBeUndefined();
  });

  it("answers with the SDK's exception names and HTTP statuses", async () => {
    await iam.send(new CreateRoleCommand({ RoleName: "r1", AssumeRolePolicyDocument: trust }));
    const exists = await errorOf(iam.send(new CreateRoleCommand({ RoleName: "r1", AssumeRolePolicyDocument: trust })));
    expect(exists.name).toBe("EntityAlreadyExistsException");
    expect(exists.$metadata?.httpStatusCode).toBe(409);

    const missing = await errorOf(iam.send(new GetRoleCommand({ RoleName: "nope" })));
    expect(missing.name).toBe("NoSuchEntityException");
    expect(missing.message).toContain("nope");
    expect(missing.$metadata?.httpStatusCode).toBe(404);

    const malformed = await errorOf(iam.send(new CreateRoleCommand({ RoleName: "r2", AssumeRolePolicyDocument: "{not json" })));
    expect(malformed.name).toBe("MalformedPolicyDocumentException");

    const badName = await errorOf(iam.send(new CreateRoleCommand({ RoleName: "has space", AssumeRolePolicyDocument: trust })));
    expect(badName.name).toBe("ValidationError");
  });

  it("keeps inline policies, refuses to delete a role that still has one, then deletes it", async () => {
    await iam.send(new CreateRoleCommand({ RoleName: "r1", AssumeRolePolicyDocument: trust }));
    await iam.send(new PutRolePolicyCommand({ RoleName: "r1", PolicyName: "chatctl", PolicyDocument: policy }));
    const got = await iam.send(new GetRolePolicyCommand({ RoleName: "r1", PolicyName: "chatctl" }));
    expect(got).toMatchObject({ RoleName: "r1", PolicyName: "chatctl", PolicyDocument: encodeURIComponent(policy) });
    expect((await iam.send(new ListRolePoliciesCommand({ RoleName: "r1" }))).PolicyNames).toEqual(["chatctl"]);
    expect((await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: "r1" }))).AttachedPolicies).toEqual([]);

    const conflict = await errorOf(iam.send(new DeleteRoleCommand({ RoleName: "r1" })));
    expect(conflict.name).toBe("DeleteConflictException");
    expect(conflict.$metadata?.httpStatusCode).toBe(409);

    await iam.send(new DeleteRolePolicyCommand({ RoleName: "r1", PolicyName: "chatctl" }));
    expect((await errorOf(iam.send(new GetRolePolicyCommand({ RoleName: "r1", PolicyName: "chatctl" })))).name).toBe("NoSuchEntityException");
    expect((await errorOf(iam.send(new DeleteRolePolicyCommand({ RoleName: "r1", PolicyName: "chatctl" })))).name).toBe("NoSuchEntityException");
    await iam.send(new DeleteRoleCommand({ RoleName: "r1" }));
    expect((await errorOf(iam.send(new GetRoleCommand({ RoleName: "r1" })))).name).toBe("NoSuchEntityException");
    expect((await errorOf(iam.send(new DeleteRoleCommand({ RoleName: "r1" })))).name).toBe("NoSuchEntityException");
  });

  it("updates the trust policy, the description and the session duration", async () => {
    await iam.send(new CreateRoleCommand({ RoleName: "r1", AssumeRolePolicyDocument: trust }));
    const other = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Deny", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }] });
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: "r1", PolicyDocument: other }));
    const described = await iam.send(new UpdateRoleDescriptionCommand({ RoleName: "r1", Description: "first" }));
    expect(described.Role?.Description).toBe("first");
    await iam.send(new UpdateRoleCommand({ RoleName: "r1", Description: "second", MaxSessionDuration: 7200 }));
    const { Role } = await iam.send(new GetRoleCommand({ RoleName: "r1" }));
    expect(decodeURIComponent(Role?.AssumeRolePolicyDocument ?? "")).toBe(other);
    expect(Role).toMatchObject({ Description: "second", MaxSessionDuration: 7200 });
  });

  it("tags and untags a role; tags come back page by page", async () => {
    await iam.send(new CreateRoleCommand({ RoleName: "r1", AssumeRolePolicyDocument: trust }));
    await iam.send(new TagRoleCommand({ RoleName: "r1", Tags: [{ Key: "a", Value: "1" }, { Key: "b", Value: "2" }, { Key: "c", Value: "" }] }));
    await iam.send(new UntagRoleCommand({ RoleName: "r1", TagKeys: ["b"] }));
    const first = await iam.send(new ListRoleTagsCommand({ RoleName: "r1", MaxItems: 1 }));
    expect(first).toMatchObject({ Tags: [{ Key: "a", Value: "1" }], IsTruncated: true });
    const second = await iam.send(new ListRoleTagsCommand({ RoleName: "r1", Marker: first.Marker }));
    expect(second.Tags).toEqual([{ Key: "c", Value: "" }]);
    expect(second.IsTruncated).toBe(false);
    expect(second.Marker).toBeUndefined();
  });

  it("lists roles under a path prefix, across pages", async () => {
    for (const name of ["c", "a", "b", "d", "e"]) {
      await iam.send(new CreateRoleCommand({ RoleName: name, Path: name === "e" ? "/other/" : "/chatctl/", AssumeRolePolicyDocument: trust }));
    }
    const first = await iam.send(new ListRolesCommand({ PathPrefix: "/chatctl/" }));
    expect(first.Roles?.map((r) => r.RoleName)).toEqual(["a", "b"]);
    expect(first.IsTruncated).toBe(true);
    const names: string[] = [];
    for await (const page of paginateListRoles({ client: iam }, { PathPrefix: "/chatctl/" })) names.push(...(page.Roles ?? []).map((r) => r.RoleName ?? ""));
    expect(names).toEqual(["a", "b", "c", "d"]);
    const all = await iam.send(new ListRolesCommand({ MaxItems: 100 }));
    expect(all.Roles).toHaveLength(2); // the model's page size caps the page
  });

  it("passes errors injected before a call through with their name", async () => {
    model.beforeCall = (_service, operation) => {
      if (operation === "GetRole") throw new AwsError("Throttling", "Rate exceeded", 400);
    };
    const err = await errorOf(iam.send(new GetRoleCommand({ RoleName: "r1" })));
    expect(err.name).toBe("Throttling");
    expect(err.message).toBe("Rate exceeded");
  });

  it("leaves a dropped connection to the front door, which cuts it", async () => {
    model.beforeCall = (service, operation) => {
      throw new DroppedConnection(service, operation);
    };
    const err = await errorOf(iam.send(new GetRoleCommand({ RoleName: "r1" })));
    expect(err.name).not.toBe("InternalFailure");
    expect(err.$metadata?.httpStatusCode).toBeUndefined();
  });
});
