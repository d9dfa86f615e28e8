import { DeleteConnectionCommand, GetConnectionCommand, PostToConnectionCommand } from "@aws-sdk/client-apigatewaymanagementapi";
import { ScanCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import type { AwsClients } from "../aws/clients.js";
import { UserError } from "../errors.js";
import { assertSafeId } from "./common.js";
import { errorName, httpStatus } from "../aws/errors.js";
import { allPages } from "../aws/pages.js";
import { plainItem, type PlainItem } from "./items.js";
import { findApi, findStage, findTable, getApiById, getStage } from "./lookup.js";

export interface ConnectionRow {
  readonly connectionId: string;
  readonly connectedAt: string | undefined; // ISO 8601
  readonly ageSeconds: number | undefined;
  readonly sourceIp: string | undefined;
  readonly userAgent: string | undefined;
}

export interface ConnectionList {
  readonly table: string;
  readonly connections: ConnectionRow[];
}

/** connectedAt as the handlers store it: epoch milliseconds or seconds, or an ISO date. */
export function timeOf(v: unknown): Date | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return new Date(v > 1e11 ? v : v * 1000);
  if (typeof v === "string" && v !== "") {
    if (/^\d+(\.\d+)?$/.test(v)) return timeOf(Number(v));
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : new Date(t);
  }
  return undefined;
}

function text(item: PlainItem, ...keys: string[]): string | undefined {
  for (const k of keys) {
    const v = item[k];
    if (typeof v === "string" && v !== "") return v;
  }
  return undefined;
}

export function connectionRow(item: PlainItem, now: number): ConnectionRow {
  const at = timeOf(item.connectedAt ?? item.connectedAtMs ?? item.createdAt);
  return {
    connectionId: text(item, "connectionId", "ConnectionId", "id") ?? "",
    connectedAt: at?.toISOString(),
    ageSeconds: at ? Math.max(0, Math.floor((now - at.getTime()) / 1000)) : undefined,
    sourceIp: text(item, "sourceIp", "sourceIP", "ip"),
    userAgent: text(item, "userAgent", "ua"),
  };
}

/** Every connection in the table (all scan pages), oldest first. */
export async function listConnections(clients: AwsClients, tableOrStack: string, now = Date.now()): Promise<ConnectionList> {
  const table = await findTable(clients, tableOrStack);
  const items = await allPages(
    (ExclusiveStartKey: Record<string, AttributeValue> | undefined) => clients.dynamodb().send(new ScanCommand({ TableName: table.tableName, ExclusiveStartKey })),
    (page) => page.Items,
    (page) => page.LastEvaluatedKey,
  );
  const rows = items.map((item) => connectionRow(plainItem(item), now));
  rows.sort((a, b) => (b.ageSeconds ?? -1) - (a.ageSeconds ?? -1) || a.connectionId.localeCompare(b.connectionId));
  return { table: table.tableName, connections: rows };
}

/** The @connections API of one stage. */
export function managementEndpoint(apiId: string, region: string, stage: string): string {
  const domain = region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  return `https://${apiId}.execute-api.${region}.${domain}/${stage}`;
}

export interface ConnectionTarget {
  readonly apiId: string;
  readonly stage: string;
  readonly connectionId: string;
}

/**
 * `<api-id> <stage> <connection-id>` or, with a stack name, `<stack> <connection-id>`.
 * The API and stage are checked first, so a wrong one is named as such and not
 * mistaken for a gone connection.
 */
/**
 * `usage` is the command's long form; `missing` the argument that, left out of
 * it, makes the stage look like a connection id (`<api-id> <stage> <id>` read as
 * `<stack> <id> <message>`). A connection id never names a stage, so that case is
 * a usage error rather than a send to connection "prod".
 */
export async function resolveTarget(
  clients: AwsClients,
  apiIdOrStack: string,
  stage: string | undefined,
  connectionId: string,
  forgotten?: { readonly missing: string; readonly usage: string },
): Promise<ConnectionTarget> {
  assertSafeId("connection id", connectionId);
  const api = stage === undefined ? await findApi(clients, apiIdOrStack) : ((await getApiById(clients, apiIdOrStack)) ?? (await findApi(clients, apiIdOrStack)));
  if (stage === undefined && forgotten !== undefined && (await getStage(clients, api.apiId, connectionId))) {
    throw new UserError(`missing ${forgotten.missing}: '${connectionId}' is a stage of API ${api.apiId}, not a connection id; usage: ${forgotten.usage}`);
  }
  const found = await findStage(clients, api, stage);
  return { apiId: api.apiId, stage: found.stageName, connectionId };
}

function gone(connectionId: string): UserError {
  return new UserError(`connection ${connectionId} is gone (it closed or never existed)`);
}

function isGone(err: unknown): boolean {
  return errorName(err) === "GoneException" || httpStatus(err) === 410;
}

function forbidden(err: unknown, t: ConnectionTarget): UserError | undefined {
  if (errorName(err) === "ForbiddenException" || httpStatus(err) === 403) {
    return new UserError(`the @connections API of ${t.apiId}/${t.stage} refused the call (403): the stage is not deployed, or these credentials may not call execute-api:ManageConnections`);
  }
  return undefined;
}

/** API Gateway's limit for one message (128 KB). */
export const MAX_MESSAGE_BYTES = 128 * 1024;

export async function sendToConnection(clients: AwsClients, t: ConnectionTarget, message: Uint8Array): Promise<{ bytes: number }> {
  if (message.byteLength === 0) throw new UserError("the message is empty");
  if (message.byteLength > MAX_MESSAGE_BYTES) throw new UserError(`the message is ${message.byteLength} bytes; API Gateway accepts at most ${MAX_MESSAGE_BYTES}`);
  const client = clients.management(managementEndpoint(t.apiId, clients.config.region, t.stage));
  try {
    await client.send(new PostToConnectionCommand({ ConnectionId: t.connectionId, Data: message }));
  } catch (err) {
    if (isGone(err)) throw gone(t.connectionId);
    throw forbidden(err, t) ?? err;
  }
  return { bytes: message.byteLength };
}

export async function disconnectConnection(clients: AwsClients, t: ConnectionTarget): Promise<void> {
  const client = clients.management(managementEndpoint(t.apiId, clients.config.region, t.stage));
  try {
    await client.send(new DeleteConnectionCommand({ ConnectionId: t.connectionId }));
  } catch (err) {
    if (isGone(err)) throw gone(t.connectionId);
    throw forbidden(err, t) ?? err;
  }
}

export interface ConnectionInfo {
  readonly connectionId: string;
  readonly connectedAt: string | undefined;
  readonly lastActiveAt: string | undefined;
  readonly sourceIp: string | undefined;
  readonly userAgent: string | undefined;
}

export async function connectionInfo(clients: AwsClients, t: ConnectionTarget): Promise<ConnectionInfo> {
  const client = clients.management(managementEndpoint(t.apiId, clients.config.region, t.stage));
  try {
    const out = await client.send(new GetConnectionCommand({ ConnectionId: t.connectionId }));
    return {
      connectionId: t.connectionId,
      connectedAt: out.ConnectedAt?.toISOString(),
      lastActiveAt: out.LastActiveAt?.toISOString(),
      sourceIp: out.Identity?.SourceIp,
      userAgent: out.Identity?.UserAgent,
    };
  } catch (err) {
    if (isGone(err)) throw gone(t.connectionId);
    throw forbidden(err, t) ?? err;
  }
}
