// CPU per delivered message of the sendmessage fan-out, as bundled for Lambda,
// against a loopback @connections server (answers 200) and dynalite, both in a
// child process so that only the handler's own CPU is counted. For comparison,
// the same fan-out through the SDK's ApiGatewayManagementApiClient.
//   node bench/fanout-cpu.mjs [connections=2000] [rounds=5] [messageBytes=64] [http|https]
// (https: a self-signed certificate on loopback, as API Gateway is HTTPS in AWS.)
import { build } from "esbuild";
import { fork } from "node:child_process";
import { createServer } from "node:http";
import { createServer as createTlsServer } from "node:https";
import { createRequire } from "node:module";
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
// Worktrees share one node_modules: a folder per checkout keeps their bundles apart.
const cache = join(root, "node_modules", ".cache", "chatctl-bench", basename(root));

if (process.argv[2] === "--serve") {
  // Child: the stand-ins the handler talks to.
  const dynalite = createRequire(import.meta.url)("dynalite");
  const db = dynalite({ createTableMs: 0 });
  await new Promise((r) => db.listen(0, "127.0.0.1", r));
  const answer = (req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200).end());
  };
  let api;
  if (process.argv[3] === "https") {
    const { generate } = await import("selfsigned");
    const pems = await generate([{ name: "commonName", value: "127.0.0.1" }], { keySize: 2048 });
    api = createTlsServer({ key: pems.private, cert: pems.cert }, answer);
  } else api = createServer(answer);
  api.keepAliveTimeout = 60_000;
  await new Promise((r) => api.listen(0, "127.0.0.1", r));
  const scheme = process.argv[3] === "https" ? "https" : "http";
  process.send({ dynamo: `http://127.0.0.1:${db.address().port}`, api: `${scheme}://127.0.0.1:${api.address().port}` });
  process.on("disconnect", () => process.exit(0));
} else {
  const connections = Number(process.argv[2] ?? 2000);
  const rounds = Number(process.argv[3] ?? 5);
  const messageBytes = Number(process.argv[4] ?? 64);
  const scheme = process.argv[5] === "https" ? "https" : "http";
  // The bench's own self-signed certificate on loopback; nothing else is reached.
  if (scheme === "https") process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

  const child = fork(fileURLToPath(import.meta.url), ["--serve", scheme], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const ends = await new Promise((r) => child.once("message", r));
  const table = "bench-connections";
  Object.assign(process.env, {
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "AKIDBENCH",
    AWS_SECRET_ACCESS_KEY: "bench-secret",
    AWS_SESSION_TOKEN: "bench-session-token-".padEnd(400, "x"), // Lambda's are long
    AWS_ENDPOINT_URL_DYNAMODB: ends.dynamo,
    AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI: ends.api,
    TABLE_CONNECTIONS: table,
  });

  const { DynamoDBClient, CreateTableCommand, BatchWriteItemCommand, ScanCommand } = await import("@aws-sdk/client-dynamodb");
  const { ApiGatewayManagementApiClient, PostToConnectionCommand } = await import("@aws-sdk/client-apigatewaymanagementapi");
  const { NodeHttpHandler } = await import("@smithy/node-http-handler");
  const http = await import(scheme === "https" ? "node:https" : "node:http");
  const db = new DynamoDBClient({});
  await db.send(new CreateTableCommand({ TableName: table, AttributeDefinitions: [{ AttributeName: "connectionId", AttributeType: "S" }], KeySchema: [{ AttributeName: "connectionId", KeyType: "HASH" }], BillingMode: "PAY_PER_REQUEST" }));
  const ids = Array.from({ length: connections }, (_, i) => `${String(i).padStart(6, "0")}AbCdEfGhIjK=`);
  for (let i = 0; i < ids.length; i += 25) {
    let items = ids.slice(i, i + 25).map((id) => ({ PutRequest: { Item: { connectionId: { S: id }, connectedAt: { N: "0" } } } }));
    while (items.length) items = (await db.send(new BatchWriteItemCommand({ RequestItems: { [table]: items } }))).UnprocessedItems?.[table] ?? [];
  }

  // The handler exactly as Lambda gets it: bundled, minified, from the zip.
  await build({ entryPoints: [join(root, "src/bundle/index.ts")], bundle: true, platform: "node", format: "esm", packages: "external", outfile: join(cache, "bundle-lib.mjs"), logLevel: "error" });
  const { bundleHandler } = await import(pathToFileURL(join(cache, "bundle-lib.mjs")).href);
  const { unzipSync } = await import("fflate");
  const bundle = await bundleHandler(join(root, "handlers/sendmessage.ts"), { outDir: join(cache, "zips") });
  const dir = join(cache, "fanout");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "index.mjs"), unzipSync(bundle.zip)["index.mjs"]);
  const { handler } = await import(pathToFileURL(join(dir, "index.mjs")).href);

  const message = "m".repeat(messageBytes);
  const event = {
    requestContext: { connectionId: ids[0], routeKey: "sendmessage", domainName: "x.execute-api.us-east-1.amazonaws.com", stage: "prod", identity: { sourceIp: "127.0.0.1" } },
    body: JSON.stringify({ action: "sendmessage", message }),
  };
  const quietLog = console.log;

  async function measure(label, run) {
    await run(); // warm: sockets open, JIT done, signing key derived
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let delivered = 0;
    for (let i = 0; i < rounds; i++) delivered += await run();
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    quietLog(`| ${label} | ${delivered} | ${(cpuMs / delivered).toFixed(4)} | ${(cpu.user / 1000 / delivered).toFixed(4)} | ${Math.round(delivered / (wall / 1000))} |`);
  }

  quietLog(`node ${process.version}; ${connections} connections x ${rounds} rounds (after one warm-up); message ${messageBytes} chars; ${scheme}; concurrency 64; scan pages of 1 MB`);
  quietLog("| path | delivered | CPU ms / delivery (user+sys) | user ms / delivery | deliveries / s (wall) |");
  quietLog("|---|---:|---:|---:|---:|");
  console.log = () => undefined;
  await measure("handlers/sendmessage.ts (bundled): direct SigV4 + HTTP/1.1 keep-alive pool", async () => {
    const res = await handler(event);
    return JSON.parse(res.body).delivered;
  });

  // Baseline: the same scan and posts through the SDK client.
  const sdk = new ApiGatewayManagementApiClient({ requestHandler: new NodeHttpHandler({ [scheme === "https" ? "httpsAgent" : "httpAgent"]: new http.Agent({ keepAlive: true, maxSockets: 64 }) }) });
  await measure("SDK ApiGatewayManagementApiClient (same scan, concurrency 64)", async () => {
    const data = Buffer.from(JSON.stringify({ type: "message", from: ids[0], message, sentAt: Date.now() }));
    let delivered = 0;
    let start;
    do {
      const page = await db.send(new ScanCommand({ TableName: table, ProjectionExpression: "connectionId", ...(start ? { ExclusiveStartKey: start } : {}) }));
      const queue = (page.Items ?? []).map((i) => i.connectionId.S);
      await Promise.all(
        Array.from({ length: 64 }, async () => {
          for (let id = queue.pop(); id !== undefined; id = queue.pop()) {
            await sdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: data }));
            delivered++;
          }
        }),
      );
      start = page.LastEvaluatedKey;
    } while (start);
    return delivered;
  });
  console.log = quietLog;
  db.destroy();
  sdk.destroy();
  child.disconnect();
  child.kill();
}
