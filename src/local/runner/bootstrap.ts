/**
 * What runs inside each function's worker thread, before and around the
 * user's handler: it plays the part of Lambda's Node.js runtime interface
 * client. Kept as CommonJS source text (run with `eval: true`) so it works the
 * same from `src/` under vitest and from `dist/` after the build.
 *
 * Messages in:  { type: "invoke", requestId, event (JSON text), deadline, context fields }
 * Messages out: { type: "ready", initMs } | { type: "initError", error }
 *               { type: "log", timestamp, message } (outside invocations)
 *               { type: "logs", lines: [{ timestamp, message }] } (a long invocation's lines so far)
 *               { type: "result", requestId, ok, payload | error, maxMemoryMb, lines }
 *
 * Trusting the local cloud's certificate: NODE_EXTRA_CA_CERTS is read once per
 * process, so a worker cannot be given its own. Each worker has its own module
 * instances, though, so wrapping `tls.createSecureContext` here (every
 * `tls.connect` without an explicit `ca` goes through it, the AWS SDK's https
 * agent included) adds the CA for this function's code only, with the public
 * roots kept.
 */
import { IN_PROCESS_WORKER_SOURCE } from "./in-process.js";

export const WORKER_BOOTSTRAP = String.raw`
"use strict";
const { parentPort, workerData } = require("node:worker_threads");
// First of all: creating this worker's heap reset a process-wide V8 flag (heap-flags.ts).
if (workerData.v8Flags) require("node:v8").setFlagsFromString(workerData.v8Flags);
const tls = require("node:tls");
const util = require("node:util");
const v8 = require("node:v8");
const path = require("node:path");
const fs = require("node:fs");
const { pathToFileURL } = require("node:url");

if (workerData.ca && workerData.ca.length > 0) {
  const trusted = [...tls.rootCertificates, ...workerData.ca];
  const createSecureContext = tls.createSecureContext;
  tls.createSecureContext = function (options) {
    if (!options || options.ca === undefined) options = Object.assign({}, options, { ca: trusted });
    return createSecureContext.call(this, options);
  };
}

// API Gateway's execute-api host names go to the local cloud (TLS and plain HTTP share
// its port): tls.connect is what https.request, the AWS SDK's handler and fetch all open
// their connections with. SNI keeps the name asked for; the certificate is the local
// cloud's, which this worker trusts, so the name check is the one thing skipped.
const EXECUTE_API = /^[a-z0-9]+\.execute-api\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\.?$/i;
if (workerData.executeApi) {
  const target = workerData.executeApi;
  const connect = tls.connect;
  tls.connect = function (...args) {
    const options = args[0];
    if (options && typeof options === "object" && EXECUTE_API.test(String(options.host || options.servername || ""))) {
      const name = String(options.servername || options.host).replace(/\.$/, "");
      args[0] = Object.assign({}, options, { host: target.host, port: target.port, servername: name, lookup: undefined, checkServerIdentity: () => undefined });
    }
    return connect.apply(this, args);
  };
}

${IN_PROCESS_WORKER_SOURCE}
// ESM named imports of builtins (import { connect } from "node:net") copy the exports when
// node:net is first imported as ESM; that happens after this point today, and this keeps it so
// should anything import it earlier.
require("node:module").syncBuiltinESMExports();
let currentRequestId;
const LEVELS = { log: "INFO", info: "INFO", warn: "WARN", error: "ERROR", debug: "DEBUG", trace: "TRACE" };
// Lines of an invocation travel with its result (one message instead of one per line:
// each message is a thread wake-up, costly on small machines), or after 50 ms in a long
// invocation, so they still show as it runs and a timeout loses at most that much.
let pendingLines = [];
let flushTimer;
function flushLines() {
  clearTimeout(flushTimer);
  flushTimer = undefined;
  if (pendingLines.length > 0) {
    parentPort.postMessage({ type: "logs", lines: pendingLines });
    pendingLines = [];
  }
}
function takeLines() {
  clearTimeout(flushTimer);
  flushTimer = undefined;
  const lines = pendingLines;
  pendingLines = [];
  return lines;
}
function emit(level, text) {
  const now = Date.now();
  const line = {
    timestamp: now,
    message: new Date(now).toISOString() + "\t" + String(currentRequestId) + "\t" + level + "\t" + text,
  };
  if (currentRequestId === undefined) {
    parentPort.postMessage({ type: "log", timestamp: line.timestamp, message: line.message });
    return;
  }
  pendingLines.push(line);
  flushTimer ??= setTimeout(flushLines, 50);
}
for (const [method, level] of Object.entries(LEVELS)) {
  console[method] = (...args) => {
    let text = util.format(...args);
    if (method === "trace") text = "Trace: " + text + "\n" + String(new Error().stack).split("\n").slice(2).join("\n");
    emit(level, text);
  };
}

function toLambdaError(err) {
  if (err instanceof Error) {
    return { errorType: err.name || "Error", errorMessage: err.message, trace: String(err.stack || "").split("\n") };
  }
  if (typeof err === "string") return { errorType: "string", errorMessage: err, trace: [] };
  return { errorType: typeof err, errorMessage: util.inspect(err), trace: [] };
}

function maxMemoryMb() {
  return Math.ceil(v8.getHeapStatistics().used_heap_size / (1024 * 1024));
}

// Lambda provides the whole SDK v3; this runner only the packages chatctl installs for
// itself. Which one is missing, and how to get it, saves a search through node's message.
function explainMissingSdk(message) {
  const m = /Cannot find (?:package|module) '(@aws-sdk\/[^/']+)/.exec(message);
  if (!m) return message;
  return message + " (the Lambda runtime provides " + m[1] + " on AWS, but chatctl dev has only the AWS SDK packages chatctl itself uses; install it in your project: npm install " + m[1] + ")";
}

// "dir/index.handler" -> module "dir/index", export path ["handler"] (Lambda's own split).
async function loadHandler() {
  const spec = workerData.handler;
  const slash = spec.lastIndexOf("/");
  const dir = spec.slice(0, slash + 1);
  const base = spec.slice(slash + 1);
  const dot = base.indexOf(".");
  if (dot <= 0) {
    throw Object.assign(new Error("Bad handler " + spec), { name: "Runtime.MalformedHandlerName" });
  }
  const modulePath = dir + base.slice(0, dot);
  const exportPath = base.slice(dot + 1).split(".");
  let file;
  for (const ext of [".js", ".mjs", ".cjs"]) {
    const candidate = path.resolve(workerData.codeDir, modulePath + ext);
    if (fs.existsSync(candidate)) { file = candidate; break; }
  }
  if (!file) {
    throw Object.assign(new Error("Error: Cannot find module '" + modulePath + "'"), { name: "Runtime.ImportModuleError" });
  }
  let mod;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (err) {
    const e = toLambdaError(err);
    throw Object.assign(new Error(e.errorType + ": " + explainMissingSdk(e.errorMessage)), { name: "Runtime.ImportModuleError", stack: err && err.stack });
  }
  const lookup = (root) => exportPath.reduce((value, key) => (value == null ? undefined : value[key]), root);
  let fn = lookup(mod);
  if (typeof fn !== "function" && mod.default) fn = lookup(mod.default);
  if (typeof fn !== "function") {
    throw Object.assign(new Error(spec + " is undefined or not exported"), { name: "Runtime.HandlerNotFound" });
  }
  return fn;
}

function runHandler(handler, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (err, value) => {
      if (settled) return;
      settled = true;
      if (err !== undefined && err !== null) reject(err); else resolve(value);
    };
    let returned;
    try {
      returned = handler(event, context, done);
    } catch (err) {
      done(err);
      return;
    }
    if (returned && typeof returned.then === "function") {
      returned.then((value) => done(null, value), (err) => done(err === undefined || err === null ? new Error(String(err)) : err));
    } else if (handler.length < 3) {
      // Neither a promise nor a callback handler: Lambda takes the return value.
      done(null, returned);
    }
  });
}

(async () => {
  const started = performance.now();
  let handler;
  try {
    handler = await loadHandler();
  } catch (err) {
    parentPort.postMessage({ type: "initError", error: toLambdaError(err) });
    return;
  }
  parentPort.postMessage({ type: "ready", initMs: performance.now() - started });

  parentPort.on("message", async (msg) => {
    if (!msg || msg.type !== "invoke") return;
    currentRequestId = msg.requestId;
    const context = {
      callbackWaitsForEmptyEventLoop: true,
      functionName: msg.functionName,
      functionVersion: "$LATEST",
      invokedFunctionArn: msg.functionArn,
      memoryLimitInMB: String(msg.memoryMb),
      awsRequestId: msg.requestId,
      logGroupName: msg.logGroupName,
      logStreamName: msg.logStreamName,
      getRemainingTimeInMillis: () => Math.max(0, msg.deadline - Date.now()),
    };
    try {
      const event = JSON.parse(msg.event);
      const value = await runHandler(handler, event, context);
      const payload = value === undefined ? "null" : JSON.stringify(value);
      parentPort.postMessage({ type: "result", requestId: msg.requestId, ok: true, payload: payload === undefined ? "null" : payload, maxMemoryMb: maxMemoryMb(), lines: takeLines() });
    } catch (err) {
      const error = toLambdaError(err);
      emit("ERROR", "Invoke Error \t" + JSON.stringify({ errorType: error.errorType, errorMessage: error.errorMessage, stack: error.trace }));
      parentPort.postMessage({ type: "result", requestId: msg.requestId, ok: false, error, maxMemoryMb: maxMemoryMb(), lines: takeLines() });
    } finally {
      currentRequestId = undefined;
    }
  });
})();
`;
