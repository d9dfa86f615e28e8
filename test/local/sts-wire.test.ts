import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { describe, expect, it } from "vitest";
import { startFrontDoor } from "../../src/local/front-door.js";
import { StsModel } from "../../src/local/models/sts.js";
import { AwsError } from "../../src/local/service.js";
import { stsWire } from "../../src/local/wire/query.js";

describe("STS over the wire (real STSClient -> front door -> model)", () => {
  it("tells the caller which account it is in", async () => {
    const door = await startFrontDoor([stsWire(new StsModel({ accountId: "123456789012" }))]);
    const sts = new STSClient({ region: "us-east-1", endpoint: door.url, credentials: { accessKeyId: "x", secretAccessKey: "y" } });
    try {
      const me = await sts.send(new GetCallerIdentityCommand({}));
      expect(me).toMatchObject({ Account: "123456789012", Arn: "arn:aws:iam::123456789012:root", UserId: "123456789012" });
    } finally {
      sts.destroy();
      await door.close();
    }
  });

  it("reports the identity it was given, and errors by name", async () => {
    const model = new StsModel({ accountId: "000000000000", arn: "arn:aws:iam::000000000000:user/dev", userId: "AIDADEV" });
    const door = await startFrontDoor([stsWire(model)]);
    const sts = new STSClient({ region: "ap-northeast-1", endpoint: door.url, credentials: { accessKeyId: "x", secretAccessKey: "y" }, maxAttempts: 1 });
    try {
      expect(await sts.send(new GetCallerIdentityCommand({}))).toMatchObject({ Arn: "arn:aws:iam::000000000000:user/dev", UserId: "AIDADEV" });
      model.beforeCall = () => {
        throw new AwsError("ExpiredToken", "The security token included in the request is expired", 400);
      };
      await expect(sts.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({ name: "ExpiredToken" });
    } finally {
      sts.destroy();
      await door.close();
    }
  });
});
