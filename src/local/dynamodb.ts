import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { EventEmitter } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import dynalite from "dynalite";
import { partitionOf } from "../aws/region.js";
import { signingNameOf } from "./front-door.js";
import { createTransactions, Gate } from "./dynamodb-transactions.js";
import { startTtlSweep } from "./dynamodb-ttl.js";
import { AwsError, type BeforeCall, type CallRecord, type WireAdapter, type WireRequest, type WireResponse } from "./service.js";

/**
 * DynamoDB for the local cloud: dynalite (a DynamoDB implementation on LevelDB)
 * runs in this process on a private loopback port, and the wire adapter
 * forwards the JSON 1.0 requests to it, handling itself what dynalite lacks:
 *
 * - UpdateTimeToLive / DescribeTimeToLive: dynalite has no TTL (its
 *   DescribeTimeToLive always says DISABLED). The setting is kept per table and
 *   a periodic sweep deletes expired items (dynamodb-ttl.ts).
 * - TransactWriteItems / TransactGetItems (dynamodb-transactions.ts).
 * - DeletionProtectionEnabled on CreateTable / UpdateTable / DescribeTable;
 *   DeleteTable of a protected table is refused (ResourceInUseException).
 * - Tags on CreateTable (dynalite drops them; it does support TagResource,
 *   UntagResource and ListTagsOfResource, which are forwarded).
 * - Adding or removing a global secondary index (UpdateTable's
 *   GlobalSecondaryIndexUpdates Create / Delete): dynalite accepts the request
 *   but changes nothing. The table is rebuilt with the new set of indexes and
 *   its items written back, which also fills the new index as AWS's backfill
 *   does; writes that arrive during the rebuild wait for it.
 * - ARNs: dynalite derives them from the process environment at start; answers
 *   are rewritten to this backend's region and account, and ARNs in requests
 *   are accepted whatever their region and account.
 *
 * Tables become ACTIVE at once (dynalite's createTableMs/updateTableMs/
 * deleteTableMs are 0), though CreateTable still answers CREATING, as AWS does.
 * Not handled beyond dynalite: streams, PITR/backups, global tables, PartiQL,
 * Import/Export, resource policies. Those answer UnknownOperationException, the
 * shape DynamoDB gives an operation it does not know, and are named in the dev log.
 */

export interface DynamoOptions {
  /** Keep tables and items in this directory across runs; in memory when absent. */
  readonly persistDir?: string;
  /** The account in table ARNs; "000000000000" unless given. */
  readonly accountId?: string;
  /** The region in table ARNs; the region the request was signed for unless given. */
  readonly region?: string;
  /** Told of each call to an operation the local cloud does not implement. */
  readonly logger?: (line: string) => void;
  /** How often expired TTL items are looked for; a minute unless given. */
  readonly ttlSweepMs?: number;
}

export interface DynamoBackend {
  readonly wire: WireAdapter;
  /** Every operation received, as ServiceModel.calls records them (service "dynamodb"). */
  readonly calls: CallRecord[];
  /** Runs before each operation, as ServiceModel.beforeCall: where faults are injected. */
  beforeCall: BeforeCall | undefined;
  /** dynalite's own loopback URL, for diagnostics; clients go through `wire`. */
  readonly privateUrl: string;
  /** Removes the expired TTL items now, as the periodic sweep does; resolves with how many. */
  sweepExpired(): Promise<number>;
  close(): Promise<void>;
}

interface TableExtras {
  deletionProtection: boolean;
  ttl?: { attributeName: string; enabled: boolean };
}

type Json = Record<string, unknown>;

interface Forwarded {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const TARGET_PREFIX = "DynamoDB_20120810";
const STREAMS_PREFIX = "DynamoDBStreams_20120810";
// What dynalite serves, and what this file adds; any other operation is not implemented locally.
const IMPLEMENTED = new Set([
  "BatchGetItem", "BatchWriteItem", "CreateTable", "DeleteItem", "DeleteTable", "DescribeTable", "DescribeTimeToLive", "GetItem", "ListTables",
  "PutItem", "Query", "Scan", "TagResource", "UntagResource", "ListTagsOfResource", "UpdateItem", "UpdateTable", "UpdateTimeToLive",
  "TransactWriteItems", "TransactGetItems",
]);
/** The operations handleOperation adds to or rewrites; every other one is dynalite's alone. */
const TABLE_LEVEL = new Set([
  "CreateTable", "DescribeTable", "UpdateTable", "DeleteTable", "DescribeTimeToLive", "UpdateTimeToLive", "TransactWriteItems", "TransactGetItems",
  "TagResource", "UntagResource", "ListTagsOfResource",
]);
const MAX_CALL_RECORDS = 100_000;
const CONTENT_TYPE = "application/x-amz-json-1.0";
// dynalite checks that a request looks signed, not the signature.
const INTERNAL_AUTH = "AWS4-HMAC-SHA256 Credential=chatctl/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0";

export async function startDynamo(opts: DynamoOptions = {}): Promise<DynamoBackend> {
  if (opts.persistDir !== undefined) mkdirSync(opts.persistDir, { recursive: true });
  const { extras, save: saveExtras } = openExtras(opts.persistDir);
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(opts.persistDir !== undefined ? { path: join(opts.persistDir, "dynalite") } : {}) });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const accountId = opts.accountId ?? "000000000000";
  const forward = inProcess(server);

  function internal(operation: string, input: Json): Promise<Forwarded> {
    return forward(
      { "content-type": CONTENT_TYPE, "x-amz-target": `${TARGET_PREFIX}.${operation}`, authorization: INTERNAL_AUTH, "x-amz-date": "20200101T000000Z" },
      JSON.stringify(input),
    );
  }

  const gate = new Gate();
  const transactions = createTransactions(internal);
  const ttl = startTtlSweep({
    // Each sweep call waits its turn like a handler's call, so a transaction never sees it half way.
    call: (operation, input) => gate.shared(() => internal(operation, input)),
    tables: () => [...extras].flatMap(([name, e]) => (e.ttl?.enabled ? [[name, e.ttl.attributeName] as const] : [])),
    intervalMs: opts.ttlSweepMs ?? 60_000,
  });
  const reported = new Set<string>();

  function unimplemented(operation: string): Forwarded {
    if (!reported.has(operation)) {
      reported.add(operation);
      const what = /Statement|ExecuteTransaction/.test(operation) ? " (PartiQL)" : operation.startsWith("DynamoDBStreams.") ? " (streams)" : "";
      opts.logger?.(`${operation}${what} is not implemented by the local cloud; it answered UnknownOperationException`);
    }
    return reply(400, { __type: "com.amazon.coral.service#UnknownOperationException", message: `${operation} is not implemented by the chatctl local cloud` });
  }

  function withProtection(description: unknown, tableName: string): unknown {
    if (typeof description !== "object" || description === null) return description;
    return { ...description, DeletionProtectionEnabled: extras.get(tableName)?.deletionProtection ?? false };
  }

  // The table as dynalite knows it; an error answer to hand back as is when it is not there.
  async function describe(tableName: unknown): Promise<{ table: Json } | { error: Forwarded }> {
    const res = await internal("DescribeTable", { TableName: tableName });
    if (res.status !== 200) return { error: res };
    const table = (JSON.parse(res.body) as { Table?: Json }).Table;
    return table ? { table } : { error: res };
  }

  async function handleOperation(operation: string, headers: Record<string, string>, raw: string): Promise<Forwarded> {
    // Item operations (every $connect's PutItem, every $disconnect's DeleteItem) go to dynalite
    // as they came: only the table-level operations below read the request here.
    if (!TABLE_LEVEL.has(operation)) {
      await rebuilding;
      return forward(headers, raw);
    }
    const input = parseObject(raw);
    if (input === undefined) return forward(headers, raw); // dynalite answers SerializationException as AWS does
    const tableName = typeof input.TableName === "string" ? input.TableName : undefined;
    await rebuilding;

    switch (operation) {
      case "CreateTable": {
        const res = await forward(headers, raw);
        if (res.status !== 200 || tableName === undefined) return res;
        extras.set(tableName, { deletionProtection: input.DeletionProtectionEnabled === true });
        saveExtras();
        const tags = Array.isArray(input.Tags) ? input.Tags : [];
        if (tags.length > 0) {
          const tagged = await internal("TagResource", { ResourceArn: dynaliteArn(tableName), Tags: tags });
          if (tagged.status !== 200) return tagged;
        }
        const out = JSON.parse(res.body) as Json;
        return reply(200, { ...out, TableDescription: withProtection(out.TableDescription, tableName) }, res.headers);
      }
      case "DescribeTable": {
        const res = await forward(headers, raw);
        if (res.status !== 200 || tableName === undefined) return res;
        const out = JSON.parse(res.body) as Json;
        return reply(200, { ...out, Table: withProtection(out.Table, tableName) }, res.headers);
      }
      case "UpdateTable": {
        if (tableName !== undefined && indexChanges(input).length > 0) return exclusive(() => updateIndexes(tableName, input));
        if (tableName === undefined || typeof input.DeletionProtectionEnabled !== "boolean") {
          const res = await forward(headers, raw);
          if (res.status !== 200 || tableName === undefined) return res;
          const out = JSON.parse(res.body) as Json;
          return reply(200, { ...out, TableDescription: withProtection(out.TableDescription, tableName) }, res.headers);
        }
        const found = await describe(tableName);
        if ("error" in found) return found.error;
        const { DeletionProtectionEnabled: protection, ...rest } = input;
        const onlyProtection = Object.keys(rest).every((k) => k === "TableName");
        let description: unknown = found.table;
        let base: Record<string, string> = {};
        if (!onlyProtection) {
          const res = await forward(headers, JSON.stringify(rest));
          if (res.status !== 200) return res;
          description = (JSON.parse(res.body) as Json).TableDescription;
          base = res.headers;
        }
        extras.set(tableName, { ...(extras.get(tableName) ?? {}), deletionProtection: protection === true });
        saveExtras();
        return reply(200, { TableDescription: withProtection(description, tableName) }, base);
      }
      case "DeleteTable": {
        if (tableName !== undefined && extras.get(tableName)?.deletionProtection) {
          const found = await describe(tableName);
          if ("error" in found) return found.error;
          return clientError("ResourceInUseException", `Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first. Table: ${tableName}`);
        }
        const res = await forward(headers, raw);
        if (res.status !== 200 || tableName === undefined) return res;
        const out = JSON.parse(res.body) as Json;
        const description = withProtection(out.TableDescription, tableName);
        extras.delete(tableName);
        saveExtras();
        return reply(200, { ...out, TableDescription: description }, res.headers);
      }
      case "DescribeTimeToLive": {
        const found = await describe(input.TableName);
        if ("error" in found) return found.error;
        const ttl = tableName === undefined ? undefined : extras.get(tableName)?.ttl;
        return reply(200, {
          TimeToLiveDescription: ttl?.enabled ? { TimeToLiveStatus: "ENABLED", AttributeName: ttl.attributeName } : { TimeToLiveStatus: "DISABLED" },
        });
      }
      case "UpdateTimeToLive":
        return updateTimeToLive(input);
      case "TransactWriteItems":
        return transactions.write(input);
      case "TransactGetItems":
        return transactions.get(input);
      case "TagResource":
      case "UntagResource":
      case "ListTagsOfResource": {
        const arn = typeof input.ResourceArn === "string" ? input.ResourceArn : undefined;
        const name = arn === undefined ? undefined : /:table\/([^/]+)$/.exec(arn)?.[1];
        return forward(headers, name === undefined ? raw : JSON.stringify({ ...input, ResourceArn: dynaliteArn(name) }));
      }
      default:
        return forward(headers, raw);
    }
  }

  // Requests wait while a table is rebuilt (see updateIndexes), so no write lands in the old copy.
  let rebuilding: Promise<unknown> = Promise.resolve();
  function exclusive<T>(run: () => Promise<T>): Promise<T> {
    const next = rebuilding.then(run, run);
    rebuilding = next.catch(() => undefined);
    return next;
  }

  async function internalOk(operation: string, input: Json): Promise<Json> {
    const res = await internal(operation, input);
    if (res.status !== 200) throw new Error(`dynalite ${operation} failed while rebuilding a table: ${res.body}`);
    return JSON.parse(res.body) as Json;
  }

  /**
   * One index created or deleted, as UpdateTable does on AWS: "You can create or
   * delete only one global secondary index per UpdateTable operation"
   * (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateTable.html).
   * Locally the index is ACTIVE (or gone) by the time the answer is sent.
   */
  async function updateIndexes(tableName: string, input: Json): Promise<Forwarded> {
    const changes = indexChanges(input);
    if (changes.length > 1 || Object.keys(input).some((k) => !["TableName", "AttributeDefinitions", "GlobalSecondaryIndexUpdates"].includes(k))) {
      return clientError("LimitExceededException", "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table");
    }
    const found = await describe(tableName);
    if ("error" in found) return found.error;
    const table = found.table as TableDescriptionJson;
    const change = changes[0] as IndexChange;
    let indexes = (table.GlobalSecondaryIndexes ?? []).map(indexInput);
    let definitions = table.AttributeDefinitions ?? [];
    if ("Delete" in change) {
      if (!indexes.some((i) => i.IndexName === change.Delete.IndexName)) {
        return clientError("ResourceNotFoundException", `Requested resource not found: Index: ${change.Delete.IndexName} not found`);
      }
      indexes = indexes.filter((i) => i.IndexName !== change.Delete.IndexName);
    } else {
      if (indexes.some((i) => i.IndexName === change.Create.IndexName)) {
        return clientError("ValidationException", `One or more parameter values were invalid: Attempting to create an index which already exists: ${change.Create.IndexName}`);
      }
      indexes = [...indexes, change.Create];
      const given = Array.isArray(input.AttributeDefinitions) ? (input.AttributeDefinitions as AttributeDefinitionJson[]) : [];
      definitions = [...definitions, ...given.filter((g) => !definitions.some((d) => d.AttributeName === g.AttributeName))];
    }
    const used = new Set([...(table.KeySchema ?? []), ...indexes.flatMap((i) => i.KeySchema ?? []), ...(table.LocalSecondaryIndexes ?? []).flatMap((i) => i.KeySchema ?? [])].map((k) => k.AttributeName));
    const missing = [...used].filter((name) => !definitions.some((d) => d.AttributeName === name));
    if (missing.length > 0) {
      return clientError("ValidationException", `One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [${missing.join(", ")}]`);
    }

    const items: Json[] = [];
    let startKey: unknown;
    do {
      const page = await internalOk("Scan", { TableName: tableName, ...(startKey ? { ExclusiveStartKey: startKey } : {}) });
      items.push(...((page.Items as Json[] | undefined) ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    const tags = ((await internalOk("ListTagsOfResource", { ResourceArn: dynaliteArn(tableName) })).Tags as unknown[] | undefined) ?? [];
    const provisioned = table.BillingModeSummary?.BillingMode !== "PAY_PER_REQUEST";
    const throughput = (t: { ReadCapacityUnits?: number; WriteCapacityUnits?: number } | undefined) => ({
      ReadCapacityUnits: Math.max(1, t?.ReadCapacityUnits ?? 1),
      WriteCapacityUnits: Math.max(1, t?.WriteCapacityUnits ?? 1),
    });
    await internalOk("DeleteTable", { TableName: tableName });
    // dynalite finishes a delete (and a create) on a timer, even with 0 ms.
    while (!("error" in (await describe(tableName)))) await new Promise((r) => setTimeout(r, 1));
    await internalOk("CreateTable", {
      TableName: tableName,
      KeySchema: table.KeySchema,
      AttributeDefinitions: definitions.filter((d) => used.has(d.AttributeName)),
      BillingMode: provisioned ? "PROVISIONED" : "PAY_PER_REQUEST",
      ...(provisioned ? { ProvisionedThroughput: throughput(table.ProvisionedThroughput) } : {}),
      ...(indexes.length > 0
        ? { GlobalSecondaryIndexes: indexes.map((i) => ({ ...i, ...(provisioned ? { ProvisionedThroughput: throughput(i.ProvisionedThroughput) } : { ProvisionedThroughput: undefined }) })) }
        : {}),
      ...(table.LocalSecondaryIndexes?.length ? { LocalSecondaryIndexes: table.LocalSecondaryIndexes.map(({ IndexName, KeySchema, Projection }) => ({ IndexName, KeySchema, Projection })) } : {}),
    });
    for (;;) {
      const created = await describe(tableName);
      if (!("error" in created) && created.table.TableStatus === "ACTIVE") break;
      await new Promise((r) => setTimeout(r, 1));
    }
    for (let i = 0; i < items.length; i += 25) {
      let requests: unknown[] = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
      while (requests.length > 0) {
        const out = await internalOk("BatchWriteItem", { RequestItems: { [tableName]: requests } });
        requests = ((out.UnprocessedItems as Record<string, unknown[]> | undefined) ?? {})[tableName] ?? [];
      }
    }
    if (tags.length > 0) await internalOk("TagResource", { ResourceArn: dynaliteArn(tableName), Tags: tags });
    const after = await describe(tableName);
    if ("error" in after) return after.error;
    return reply(200, { TableDescription: withProtection(after.table, tableName) });
  }

  async function updateTimeToLive(input: Json): Promise<Forwarded> {
    const spec = input.TimeToLiveSpecification as { Enabled?: unknown; AttributeName?: unknown } | undefined;
    if (typeof input.TableName !== "string" || typeof spec?.Enabled !== "boolean" || typeof spec.AttributeName !== "string" || spec.AttributeName === "") {
      return clientError("ValidationException", "TableName and TimeToLiveSpecification (Enabled, AttributeName) are required");
    }
    const found = await describe(input.TableName);
    if ("error" in found) return found.error;
    const tableName = input.TableName;
    const current = extras.get(tableName) ?? { deletionProtection: false };
    const refusal = ttlRefusal(current.ttl, spec.Enabled, spec.AttributeName);
    if (refusal !== undefined) return clientError("ValidationException", refusal);
    extras.set(tableName, { ...current, ttl: { attributeName: spec.AttributeName, enabled: spec.Enabled } });
    saveExtras();
    return reply(200, { TimeToLiveSpecification: { Enabled: spec.Enabled, AttributeName: spec.AttributeName } });
  }

  const wire: WireAdapter = {
    signingName: "dynamodb",
    async handle(req: WireRequest): Promise<WireResponse> {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (typeof v === "string" && k !== "host" && k !== "content-length" && k !== "connection" && k !== "transfer-encoding") headers[k] = v;
      }
      const target = headers["x-amz-target"] ?? "";
      const operation = target.startsWith(`${TARGET_PREFIX}.`)
        ? target.slice(TARGET_PREFIX.length + 1)
        : target.startsWith(`${STREAMS_PREFIX}.`)
          ? `DynamoDBStreams.${target.slice(STREAMS_PREFIX.length + 1)}`
          : "";
      const raw = req.body.toString("utf8");
      // Every chat message's item reads pass here: keep the recent half of a long session's log.
      if (backend.calls.length >= MAX_CALL_RECORDS) backend.calls.splice(0, MAX_CALL_RECORDS / 2);
      backend.calls.push({ service: "dynamodb", operation, at: Date.now() });
      let res: Forwarded;
      try {
        if (backend.beforeCall) await backend.beforeCall("dynamodb", operation, parseObject(raw) ?? {});
        if (operation !== "" && !IMPLEMENTED.has(operation)) res = unimplemented(operation);
        // A transaction runs alone; everything else shares the gate.
        else if (operation === "TransactWriteItems") res = await gate.exclusive(() => handleOperation(operation, headers, raw));
        else res = await gate.shared(() => handleOperation(operation, headers, raw));
      } catch (err) {
        // An injected AWS error is answered as DynamoDB would; anything else (a dropped connection) goes to the front door.
        if (!(err instanceof AwsError)) throw err;
        res = { status: err.statusCode, headers: {}, body: JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${err.name}`, message: err.message }) };
      }
      return toWire(res, opts.region ?? regionOf(req.headers.authorization) ?? "us-east-1", accountId);
    },
  };

  const backend: DynamoBackend = {
    wire,
    calls: [],
    beforeCall: undefined,
    privateUrl: `http://127.0.0.1:${port}`,
    sweepExpired: () => ttl.sweep(),
    close: () =>
      new Promise<void>((resolve, reject) => {
        ttl.stop();
        server.close((err?: Error) => (err ? reject(err) : resolve()));
      }),
  };
  return backend;
}

interface AttributeDefinitionJson {
  AttributeName: string;
  AttributeType: string;
}
interface KeyElementJson {
  AttributeName: string;
  KeyType: string;
}
interface Throughput {
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
}
interface IndexJson {
  IndexName: string;
  KeySchema?: KeyElementJson[];
  Projection?: Json;
  ProvisionedThroughput?: Throughput;
}
interface TableDescriptionJson {
  KeySchema?: KeyElementJson[];
  AttributeDefinitions?: AttributeDefinitionJson[];
  BillingModeSummary?: { BillingMode?: string };
  ProvisionedThroughput?: Throughput;
  GlobalSecondaryIndexes?: IndexJson[];
  LocalSecondaryIndexes?: IndexJson[];
}
type IndexChange = { Create: IndexJson } | { Delete: { IndexName: string } };

/** The Create and Delete entries of an UpdateTable (an Update only changes capacity, which dynalite handles). */
function indexChanges(input: Record<string, unknown>): IndexChange[] {
  const updates = Array.isArray(input.GlobalSecondaryIndexUpdates) ? (input.GlobalSecondaryIndexUpdates as Record<string, unknown>[]) : [];
  const out: IndexChange[] = [];
  for (const u of updates) {
    const create = u?.Create as IndexJson | undefined;
    const del = u?.Delete as { IndexName?: unknown } | undefined;
    if (create && typeof create.IndexName === "string") out.push({ Create: create });
    else if (del && typeof del.IndexName === "string") out.push({ Delete: { IndexName: del.IndexName } });
  }
  return out;
}

/** A described index as CreateTable takes it. */
function indexInput(i: IndexJson): IndexJson {
  return { IndexName: i.IndexName, ...(i.KeySchema ? { KeySchema: i.KeySchema } : {}), ...(i.Projection ? { Projection: i.Projection } : {}), ...(i.ProvisionedThroughput ? { ProvisionedThroughput: i.ProvisionedThroughput } : {}) };
}

/**
 * dynalite's own request handler, called in-process: a loopback HTTP hop per
 * DynamoDB call was the largest cost of a $connect in the local cloud.
 */
function inProcess(server: ReturnType<typeof dynalite>): (headers: Record<string, string>, body: string) => Promise<Forwarded> {
  const handler = server.listeners("request")[0] as (req: IncomingMessage, res: ServerResponse) => void;
  return (headers, body) =>
    new Promise((resolve) => {
      const req = Object.assign(new EventEmitter(), { headers, method: "POST", url: "/" });
      const out: Record<string, string> = {};
      // The part of ServerResponse dynalite's handler uses.
      const res = {
        statusCode: 200,
        contentType: "",
        setHeader(name: string, value: unknown) {
          out[name.toLowerCase()] = String(value);
        },
        end(text?: string | Buffer) {
          resolve({ status: res.statusCode, headers: out, body: text === undefined ? "" : text.toString() });
        },
      };
      handler(req as unknown as IncomingMessage, res as unknown as ServerResponse);
      req.emit("data", Buffer.from(body, "utf8"));
      req.emit("end");
    });
}

/** What dynalite does not keep (deletion protection, TTL), per table; in a file next to dynalite's when persisting. */
function openExtras(persistDir: string | undefined): { extras: Map<string, TableExtras>; save: () => void } {
  const file = persistDir === undefined ? undefined : join(persistDir, "dynamodb-extras.json");
  const extras = new Map<string, TableExtras>(file && existsSync(file) ? loadExtras(file) : []);
  return {
    extras,
    save: () => {
      if (file) writeFileSync(file, JSON.stringify(Object.fromEntries(extras), null, 2));
    },
  };
}

/** UpdateTimeToLive's refusals, in DynamoDB's words; undefined when the change is allowed. */
function ttlRefusal(ttl: TableExtras["ttl"], enable: boolean, attributeName: string): string | undefined {
  const elsewhere = `TimeToLive is active on a different AttributeName: current AttributeName is ${ttl?.attributeName}`;
  if (enable) {
    if (ttl?.enabled) return ttl.attributeName === attributeName ? "TimeToLive is already enabled" : elsewhere;
    return undefined;
  }
  if (!ttl?.enabled) return "TimeToLive is already disabled";
  return ttl.attributeName !== attributeName ? elsewhere : undefined;
}

function reply(status: number, body: unknown, base: Record<string, string> = {}): Forwarded {
  // A new body: dynalite's checksum of its own answer does not describe it.
  const { "x-amz-crc32": _checksum, ...headers } = base;
  return { status, headers, body: JSON.stringify(body) };
}

function clientError(type: string, message: string): Forwarded {
  return reply(400, { __type: `com.amazonaws.dynamodb.v20120810#${type}`, message });
}

/** dynalite's answer as this backend's region and account would give it. */
function toWire(res: Forwarded, region: string, accountId: string): WireResponse {
  // Item answers ({} for a PutItem, an item for a GetItem) rarely hold a table ARN: no rewrite, and dynalite's checksum holds.
  const rewrite = res.body.includes("arn:aws:dynamodb:");
  const body = rewrite ? res.body.replace(/arn:aws:dynamodb:[^:"]*:[^:"]*:table\//g, `arn:${partitionOf(region)}:dynamodb:${region}:${accountId}:table/`) : res.body;
  const headers: Record<string, string> = { "content-type": res.headers["content-type"] ?? CONTENT_TYPE };
  headers["x-amzn-requestid"] = res.headers["x-amzn-requestid"] ?? randomUUID();
  // The SDK checks the body against this checksum; it must describe the body as rewritten.
  const given = res.headers["x-amz-crc32"];
  headers["x-amz-crc32"] = !rewrite && given !== undefined && body === res.body ? given : String(crc32(body) >>> 0);
  return { status: res.status, headers, body };
}

/** The request body as an object ({} for an empty body or JSON that is not an object); undefined when it is not JSON. */
function parseObject(raw: string): Json | undefined {
  try {
    const parsed: unknown = raw.trim() === "" ? {} : JSON.parse(raw);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Json) : {};
  } catch {
    return undefined;
  }
}

// dynalite accepts only its own ARN shape (partition "aws", a numeric account) and looks at the table name alone.
function dynaliteArn(tableName: string): string {
  return `arn:aws:dynamodb:us-east-1:000000000000:table/${tableName}`;
}

function regionOf(authorization: string | string[] | undefined): string | undefined {
  if (typeof authorization !== "string" || signingNameOf(authorization) === undefined) return undefined;
  return /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(authorization)?.[1];
}

function loadExtras(file: string): Array<[string, TableExtras]> {
  const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
  if (typeof parsed !== "object" || parsed === null) return [];
  return Object.entries(parsed as Record<string, TableExtras>);
}
