// The two local emulators the comparison drives, each started as a user would
// on a fresh process, loopback only:
//   chatctl   node bin/chatctl.js dev -f specs/chat.yaml --port 0 --no-watch --quiet
//   peer      serverless-offline 13 (serverless 3) with dynalite for DynamoDB
// The peer is installed into a scratch folder outside this repository
// (CHATCTL_PEER_DIR or --peer-dir; /work/scratch/peer by default) with npm the
// first time; its serverless.yml and handler.js are written there from this file
// every run: they are ours, the same protocol as specs/chat.yaml's handlers.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { cliBin, procStat, root, treePids } from "./lib.mjs";

// This process's own DynamoDB client (the peer's table) need not warn about Node 20 on every run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

export const PEER_PACKAGES = ["serverless@3", "serverless-offline@13.10.1", "dynalite@4", "@aws-sdk/client-dynamodb@3", "@aws-sdk/client-apigatewaymanagementapi@3"];

export function peerDir(argv = process.argv) {
  const i = argv.indexOf("--peer-dir");
  return i >= 0 && argv[i + 1] ? argv[i + 1] : process.env.CHATCTL_PEER_DIR || "/work/scratch/peer";
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, limitMs = 30_000) {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${limitMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A process's start time (field 22 of /proc/PID/stat), undefined once it is gone. */
function startTimeOf(pid) {
  return procStat(`/proc/${pid}/stat`)?.[19];
}

/** Spawns a process and resolves once its output matches `ready` (a RegExp); rejects if it exits or stays silent. */
export function startProcess(command, args, { cwd, env, ready, limitMs = 90_000 }) {
  const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: false });
  let out = "";
  const exited = new Promise((r) => child.once("exit", (code, signal) => r({ code, signal })));
  const started = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} ${args.join(" ")}: not ready within ${limitMs / 1000} s:\n${out.slice(-3000)}`)), limitMs);
    const onData = (d) => {
      out = (out + d).slice(-20_000);
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout.setEncoding("utf8").on("data", onData);
    child.stderr.setEncoding("utf8").on("data", onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited (${code ?? signal}) before it was ready:\n${out.slice(-3000)}`));
    });
  });
  return {
    child,
    started,
    tail: () => out.slice(-3000),
    async stop() {
      // The whole tree: a child left running (the peer's per-function processes, dynalite)
      // would keep burning CPU into the next row's measurement.
      // Each with its start time, so a pid reused by another process after ours ended is left alone.
      const tree = (child.pid === undefined ? [] : treePids(child.pid).filter((pid) => pid !== child.pid)).map((pid) => [pid, startTimeOf(pid)]);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
      }
      const alive = ([pid, start]) => start !== undefined && startTimeOf(pid) === start;
      const until = Date.now() + 10_000;
      for (let left = tree.filter(alive); left.length > 0; left = left.filter(alive)) {
        for (const [pid] of left) {
          try {
            process.kill(pid, Date.now() > until ? "SIGKILL" : "SIGTERM");
          } catch {
            // ended in between
          }
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    },
  };
}

/** chatctl dev on the default spec; `pids` are the roots whose whole process trees are measured. */
export async function startChatctl({ spec = join(root, "specs", "chat.yaml"), env = {} } = {}) {
  const home = mkdtempSync(join(tmpdir(), "chatctl-bench-home-"));
  const nodeArgs = (process.env.BENCH_DEV_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const proc = startProcess(process.execPath, [...nodeArgs, process.env.BENCH_CLI ?? cliBin, "dev", "-f", spec, "--port", "0", "--no-watch", "--quiet"], {
    cwd: root,
    env: { ...process.env, ...env, CHATCTL_HOME: home, NO_COLOR: "1" },
    ready: /WebSocket URL: (ws:\/\/\S+)/,
  });
  const m = await proc.started;
  return {
    name: "chatctl dev",
    url: m[1],
    pids: () => [proc.child.pid],
    tail: proc.tail,
    async stop() {
      await proc.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

const PEER_YML = `# Written by chatctl's bench/emulators.mjs: the same chat as specs/chat.yaml.
service: chatctl-bench-peer
frameworkVersion: "3"
provider:
  name: aws
  runtime: nodejs20.x
  region: us-east-1
  stage: prod
  # serverless's default is 6 s: cold workers started 32 at a time take longer on 2 busy cores.
  timeout: 29
  environment:
    TABLE_NAME: connections
    PEER_DYNAMO_ENDPOINT: \${env:PEER_DYNAMO_ENDPOINT}
    PEER_WS_ENDPOINT: \${env:PEER_WS_ENDPOINT}
functions:
  connect:
    handler: handler.connect
    events: [{ websocket: { route: $connect } }]
  disconnect:
    handler: handler.disconnect
    events: [{ websocket: { route: $disconnect } }]
  sendmessage:
    handler: handler.sendmessage
    events: [{ websocket: { route: sendmessage } }]
plugins:
  - serverless-offline
custom:
  serverless-offline:
    host: 127.0.0.1
    noPrependStageInUrl: true
`;

// The handlers as a serverless user would write them with SDK v3: the same
// items as handlers/connect.ts, a scan + PostToConnection fan-out with 64 posts
// in flight (handlers/sendmessage.ts's default), a {"type":"sent"} receipt.
const PEER_HANDLER = `// Written by chatctl's bench/emulators.mjs.
const { DynamoDBClient, PutItemCommand, DeleteItemCommand, ScanCommand } = require("@aws-sdk/client-dynamodb");
const { ApiGatewayManagementApiClient, PostToConnectionCommand } = require("@aws-sdk/client-apigatewaymanagementapi");
const db = new DynamoDBClient({ endpoint: process.env.PEER_DYNAMO_ENDPOINT, region: "us-east-1" });
const api = new ApiGatewayManagementApiClient({ endpoint: process.env.PEER_WS_ENDPOINT, region: "us-east-1" });
const table = process.env.TABLE_NAME;

exports.connect = async (event) => {
  const now = Date.now();
  await db.send(new PutItemCommand({ TableName: table, Item: { connectionId: { S: event.requestContext.connectionId }, connectedAt: { N: String(now) }, expiresAt: { N: String(Math.floor(now / 1000) + 7200) } } }));
  return { statusCode: 200, body: "Connected" };
};

exports.disconnect = async (event) => {
  await db.send(new DeleteItemCommand({ TableName: table, Key: { connectionId: { S: event.requestContext.connectionId } } }));
  return { statusCode: 200, body: "Disconnected" };
};

exports.sendmessage = async (event) => {
  const from = event.requestContext.connectionId;
  const message = JSON.parse(event.body).message;
  const data = Buffer.from(JSON.stringify({ type: "message", from, message, sentAt: Date.now() }));
  const ids = [];
  let start;
  do {
    const page = await db.send(new ScanCommand({ TableName: table, ProjectionExpression: "connectionId", ExclusiveStartKey: start }));
    for (const item of page.Items || []) ids.push(item.connectionId.S);
    start = page.LastEvaluatedKey;
  } while (start);
  let delivered = 0, gone = 0, failed = 0, next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++];
      try {
        await api.send(new PostToConnectionCommand({ ConnectionId: id, Data: data }));
        delivered++;
      } catch (err) {
        if (err.name === "GoneException") {
          gone++;
          await db.send(new DeleteItemCommand({ TableName: table, Key: { connectionId: { S: id } } })).catch(() => {});
        } else failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  const receipt = { type: "sent", delivered, recipients: ids.length, gone, failed };
  await api.send(new PostToConnectionCommand({ ConnectionId: from, Data: Buffer.from(JSON.stringify(receipt)) })).catch(() => {});
  return { statusCode: 200, body: JSON.stringify(receipt) };
};
`;

/** Installs the peer into `dir` (once) and writes its serverless.yml and handler.js. */
export function preparePeer(dir) {
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, "package.json"))) writeFileSync(join(dir, "package.json"), `${JSON.stringify({ name: "chatctl-bench-peer", private: true }, null, 2)}\n`);
  if (!existsSync(join(dir, "node_modules", "serverless-offline", "package.json"))) {
    console.error(`installing the peer into ${dir}: npm install ${PEER_PACKAGES.join(" ")}`);
    execFileSync("npm", ["install", "--no-audit", "--no-fund", ...PEER_PACKAGES], { cwd: dir, stdio: "inherit" });
  }
  writeFileSync(join(dir, "serverless.yml"), PEER_YML);
  writeFileSync(join(dir, "handler.js"), PEER_HANDLER);
}

/** serverless-offline + dynalite, two process trees, both measured. */
export async function startPeer(dir) {
  preparePeer(dir);
  const [dynamoPort, wsPort, httpPort, lambdaPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const dynamo = startProcess(process.execPath, [join(dir, "node_modules", "dynalite", "cli.js"), "--host", "127.0.0.1", "--port", String(dynamoPort), "--createTableMs", "0"], {
    cwd: dir,
    env: process.env,
    ready: /Dynalite listening/,
  });
  await dynamo.started;
  const endpoint = `http://127.0.0.1:${dynamoPort}`;
  const db = new DynamoDBClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "bench", secretAccessKey: "bench" } });
  await db.send(
    new CreateTableCommand({
      TableName: "connections",
      AttributeDefinitions: [{ AttributeName: "connectionId", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "connectionId", KeyType: "HASH" }],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
  while ((await db.send(new DescribeTableCommand({ TableName: "connections" }))).Table?.TableStatus !== "ACTIVE") await new Promise((r) => setTimeout(r, 20));
  db.destroy();
  let offline;
  try {
    offline = startProcess(
      process.execPath,
      [join(dir, "node_modules", "serverless", "bin", "serverless.js"), "offline", "start", "--websocketPort", String(wsPort), "--httpPort", String(httpPort), "--lambdaPort", String(lambdaPort)],
      {
        cwd: dir,
        env: {
          ...process.env,
          PEER_DYNAMO_ENDPOINT: endpoint,
          PEER_WS_ENDPOINT: `http://127.0.0.1:${wsPort}`,
          AWS_ACCESS_KEY_ID: "bench",
          AWS_SECRET_ACCESS_KEY: "bench",
          SLS_TELEMETRY_DISABLED: "1",
          SLS_NOTIFICATIONS_MODE: "off",
          SLS_DEPRECATION_DISABLE: "*",
          FORCE_COLOR: "0",
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
        },
        ready: /Offline \[websocket\] listening on|Server ready/,
      },
    );
    await offline.started;
    // It says "listening" a moment before it accepts connections.
    await waitForPort(wsPort);
  } catch (err) {
    await offline?.stop();
    await dynamo.stop();
    throw err;
  }
  return {
    name: "serverless-offline 13.10.1 + dynalite",
    url: `ws://127.0.0.1:${wsPort}`,
    pids: () => [offline.child.pid, dynamo.child.pid],
    tail: offline.tail,
    async stop() {
      await offline.stop();
      await dynamo.stop();
    },
  };
}
