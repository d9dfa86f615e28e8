import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { GetApisCommand } from "@aws-sdk/client-apigatewayv2";
import { ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { ListFunctionsCommand } from "@aws-sdk/client-lambda";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClients } from "../../src/aws/clients.js";
import { UserError } from "../../src/errors.js";
import { runCli } from "../support/cloud.js";

// An endpoint that is not AWS (a web server, a proxy's error page) answers HTML:
// say which service, operation, status and endpoint, not "Unexpected token '<'".

let server: Server;
let url: string;
beforeAll(async () => {
  server = createServer((_req, res) => {
    res.writeHead(404, { "content-type": "text/html; charset=utf-8" });
    res.end("<!DOCTYPE html><html><body><h1>Not Found</h1></body></html>");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("an endpoint that answers HTML", () => {
  const clients = () => createClients({ region: "ap-northeast-1", endpoint: url, credentials: { accessKeyId: "x", secretAccessKey: "y" }, maxAttempts: 1 });

  it.each([
    ["Lambda", "ListFunctions", () => clients().lambda().send(new ListFunctionsCommand({}))],
    ["ApiGatewayV2", "GetApis", () => clients().apigw().send(new GetApisCommand({}))],
    ["DynamoDB", "ListTables", () => clients().dynamodb().send(new ListTablesCommand({}))],
    ["STS", "GetCallerIdentity", () => clients().sts().send(new GetCallerIdentityCommand({}))],
  ])("%s %s: names service, operation, HTTP status and endpoint", async (service, operation, call) => {
    const err: unknown = await call().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe(
      `${service} ${operation}: ${url}/ answered HTTP 404 with a text/html body that is not an AWS response; it may not implement ${operation} (is the endpoint right?)`,
    );
  });

  it("is one line from the CLI, with no parser message and no stack trace", async () => {
    // Credentials of its own, so the SDK does not go looking for an instance profile first.
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = "test";
    process.env.AWS_SECRET_ACCESS_KEY = "test";
    const r = await runCli(["plan", "-f", "specs/chat.yaml", "--endpoint-url", url]).finally(() => {
      for (const [k, v] of [["AWS_ACCESS_KEY_ID", saved.id], ["AWS_SECRET_ACCESS_KEY", saved.secret]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: STS GetCallerIdentity: http:\/\/127\.0\.0\.1:\d+\/ answered HTTP 404 with a text\/html body/);
    expect(r.stderr).not.toMatch(/Unexpected token|SyntaxError|\n\s+at /);
  });
});
