import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BundleError, bundleHandler } from "../../src/bundle/index.js";

// Handlers written for Lambda import the SDK v3 that the runtime ships, without installing it.
const SOURCE = `
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { ApiGatewayManagementApiClient } from "@aws-sdk/client-apigatewaymanagementapi";
const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({}));
export const handler = async (event: { requestContext: { connectionId: string } }) => {
  await ddb.send(new PutCommand({ TableName: process.env.TABLE_NAME, Item: { connectionId: event.requestContext.connectionId } }));
  void ApiGatewayManagementApiClient;
  return { statusCode: 200 };
};
`;

let work: string;
const outDir = () => join(work, "zips");

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "chatctl-runtime-sdk-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

function indexOf(zip: Uint8Array): string {
  return Buffer.from(unzipSync(zip)["index.mjs"]!).toString("utf8");
}

describe("the AWS SDK v3 of the Lambda runtime", () => {
  it("leaves @aws-sdk packages a project imports but does not list in dependencies to the runtime, and names them", async () => {
    const dir = await mkdtemp(join(work, "bare-"));
    const entry = join(dir, "connect.ts");
    await writeFile(entry, SOURCE);
    // devDependencies are for editor types: what ships is `dependencies`.
    await writeFile(join(dir, "package.json"), JSON.stringify({ name: "bare", private: true, type: "module", devDependencies: { "@aws-sdk/client-dynamodb": "^3.0.0" } }));
    const b = await bundleHandler(entry, { outDir: outDir(), cache: false });
    expect(b.runtimeProvided).toEqual(["@aws-sdk/client-apigatewaymanagementapi", "@aws-sdk/client-dynamodb", "@aws-sdk/lib-dynamodb"]);
    const code = indexOf(b.zip);
    expect(code).toMatch(/from\s*"@aws-sdk\/lib-dynamodb"/);
    expect(code).not.toContain("DynamoDBDocumentClient.from=");
  });

  it("bundles the SDK a project installs, as before", async () => {
    const b = await bundleHandler(resolve(import.meta.dirname, "../../handlers/sendmessage.ts"), { outDir: outDir(), cache: false });
    expect(b.runtimeProvided).toEqual([]);
    expect(indexOf(b.zip)).not.toMatch(/from\s*"@aws-sdk\//);
  });

  it("treats a package the project's package.json declares as installed: missing from node_modules, it is the compiler's error", async () => {
    const dir = await mkdtemp(join(work, "declared-"));
    const entry = join(dir, "connect.ts");
    await writeFile(entry, SOURCE);
    await writeFile(join(dir, "package.json"), JSON.stringify({ name: "declared", dependencies: { "@aws-sdk/lib-dynamodb": "^3.0.0" } }));
    const err = await bundleHandler(entry, { outDir: outDir(), cache: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BundleError);
    expect((err as BundleError).message).toContain('Could not resolve "@aws-sdk/lib-dynamodb"');
    expect((err as BundleError).message).not.toContain("client-dynamodb");
  });

  it("re-bundles when package.json starts installing a package it left to the runtime", async () => {
    const dir = await mkdtemp(join(work, "edit-"));
    const entry = join(dir, "connect.ts");
    await writeFile(entry, SOURCE);
    await writeFile(join(dir, "package.json"), JSON.stringify({ name: "edit" }));
    const first = await bundleHandler(entry, { outDir: outDir() });
    expect(first.runtimeProvided).toHaveLength(3);
    await writeFile(join(dir, "package.json"), JSON.stringify({ name: "edit", dependencies: { "@aws-sdk/client-dynamodb": "^3.0.0" } }));
    await expect(bundleHandler(entry, { outDir: outDir() })).rejects.toThrow(/Could not resolve "@aws-sdk\/client-dynamodb"/);
  });
});
