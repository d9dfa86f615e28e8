// The local cloud's DynamoDB side of a $connect, alone: PutItems of specs/chat.yaml's
// connect (4 attributes) straight into the backend's wire adapter (dynalite and
// src/local/dynamodb.ts), with no HTTP, no worker and no gateway, on a fresh process.
//   node bench/dynamo-put.mjs [puts per wave=1000] [waves=3] [in flight=16]
// Per wave: CPU ms per put of this process (its V8 compiler threads included) and
// wall ms per put (one thread serves them, as the dev server's main thread does).
import { requireDist, fmt, machine } from "./lib.mjs";

requireDist();
const { startDynamo } = await import("../dist/local/dynamodb.js");
const [n = 1000, waves = 3, inFlight = 16] = process.argv.slice(2).map(Number);
const backend = await startDynamo({ region: "us-east-1" });
// dynalite checks that a request looks signed, not the signature.
const headers = (operation) => ({
  "x-amz-target": `DynamoDB_20120810.${operation}`,
  "content-type": "application/x-amz-json-1.0",
  authorization: "AWS4-HMAC-SHA256 Credential=AKIDLOCAL/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0",
  "x-amz-date": "20260101T000000Z",
});
const call = async (operation, input) => {
  const res = await backend.wire.handle({ method: "POST", path: "/", rawPath: "/", query: new URLSearchParams(), headers: headers(operation), body: Buffer.from(JSON.stringify(input)) });
  if (res.status !== 200) throw new Error(`${operation}: ${res.status} ${String(res.body)}`);
  return JSON.parse(String(res.body));
};
await call("CreateTable", {
  TableName: "connections",
  AttributeDefinitions: [{ AttributeName: "connectionId", AttributeType: "S" }],
  KeySchema: [{ AttributeName: "connectionId", KeyType: "HASH" }],
  BillingMode: "PAY_PER_REQUEST",
});
// dynalite makes a table ACTIVE on a timer, even with createTableMs 0.
while ((await call("DescribeTable", { TableName: "connections" })).Table.TableStatus !== "ACTIVE") await new Promise((r) => setTimeout(r, 10));
console.log(`# dynamo-put: ${machine()}; ${n} PutItems a wave, ${inFlight} in flight`);
console.log("\n| wave | CPU ms / put (process) | wall ms / put |\n|---:|---:|---:|");
for (let wave = 1; wave <= waves; wave++) {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < n) {
        const now = Date.now();
        await call("PutItem", {
          TableName: "connections",
          Item: { connectionId: { S: `w${wave}-${next++}` }, connectedAt: { N: String(now) }, expiresAt: { N: String(Math.floor(now / 1000) + 7200) }, sourceIp: { S: "127.0.0.1" } },
        });
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  console.log(`| ${wave} | ${fmt((used.user + used.system) / 1000 / n, 3)} | ${fmt((performance.now() - t0) / n, 3)} |`);
}
await backend.close();
