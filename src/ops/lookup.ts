import { GetApiCommand, GetApisCommand, GetStageCommand, GetStagesCommand, type Api, type Stage } from "@aws-sdk/client-apigatewayv2";
import { DescribeTableCommand, ListTablesCommand, ListTagsOfResourceCommand, type TableDescription } from "@aws-sdk/client-dynamodb";
import type { AwsClients } from "../aws/clients.js";
import { UserError } from "../errors.js";
import { TAG_STACK } from "../resources/kind.js";
import { assertSafeId, listForPeople } from "./common.js";
import { isAwsError, isNotFound } from "../aws/errors.js";
import { allItems, allPages } from "../aws/pages.js";

// A stack name may stand in for an id wherever that is unambiguous: the stack's
// resources carry the chatctl:stack tag. Anything else gets one sentence that
// says what was there instead, so the user can pick.

export interface FoundApi {
  readonly apiId: string;
  readonly name: string;
  readonly apiEndpoint: string;
  readonly protocolType: string;
  readonly stack: string | undefined; // the chatctl:stack tag, when the API belongs to a stack
  readonly createdDate: Date | undefined;
  readonly tags: Readonly<Record<string, string>>;
}

export function toFoundApi(api: Partial<Api>): FoundApi {
  const tags = api.Tags ?? {};
  return {
    apiId: api.ApiId ?? "",
    name: api.Name ?? "",
    apiEndpoint: api.ApiEndpoint ?? "",
    protocolType: api.ProtocolType ?? "",
    stack: tags[TAG_STACK],
    createdDate: api.CreatedDate,
    tags,
  };
}

export async function allApis(clients: AwsClients): Promise<FoundApi[]> {
  const apis = await allItems((NextToken) => clients.apigw().send(new GetApisCommand({ NextToken })));
  return apis.map(toFoundApi);
}

/** The API by its id; undefined when there is none with that id. */
export async function getApiById(clients: AwsClients, apiId: string): Promise<FoundApi | undefined> {
  try {
    return toFoundApi(await clients.apigw().send(new GetApiCommand({ ApiId: apiId })));
  } catch (err) {
    // A stack name is not a valid API id: AWS answers either way, depending on its shape.
    if (isNotFound(err) || isAwsError(err, "BadRequestException")) return undefined;
    throw err;
  }
}

function describeApis(apis: readonly FoundApi[]): string {
  return listForPeople(apis.map((a) => `${a.apiId} (${a.stack ? `stack ${a.stack}` : a.name})`));
}

/**
 * An API named by its id, by the stack that owns it (chatctl:stack tag), or by its
 * name when exactly one API has it.
 */
export async function findApi(clients: AwsClients, idOrStack: string): Promise<FoundApi> {
  assertSafeId("API id", idOrStack);
  const byId = await getApiById(clients, idOrStack);
  if (byId) return byId;
  const apis = await allApis(clients);
  const region = clients.config.region;
  for (const [how, matches] of [
    ["stack", apis.filter((a) => a.stack === idOrStack)],
    ["name", apis.filter((a) => a.name === idOrStack)],
  ] as const) {
    if (matches.length === 1 && matches[0]) return matches[0];
    if (matches.length > 1) {
      throw new UserError(`'${idOrStack}' is ambiguous: ${matches.length} APIs in ${region} have that ${how} (${describeApis(matches)}); give the API id`);
    }
  }
  if (apis.length === 0) throw new UserError(`no API '${idOrStack}' in ${region}: there are no APIs in this region (wrong --region?)`);
  throw new UserError(`no API with id, stack or name '${idOrStack}' in ${region}; APIs there: ${describeApis(apis)}`);
}

export interface FoundStage {
  readonly stageName: string;
  readonly deploymentId: string | undefined;
  readonly stack: string | undefined;
}

function toFoundStage(s: Partial<Stage>): FoundStage {
  return { stageName: s.StageName ?? "", deploymentId: s.DeploymentId, stack: s.Tags?.[TAG_STACK] };
}

export async function allStages(clients: AwsClients, apiId: string): Promise<FoundStage[]> {
  const stages = await allItems((NextToken) => clients.apigw().send(new GetStagesCommand({ ApiId: apiId, NextToken })));
  return stages.map(toFoundStage);
}

export async function getStage(clients: AwsClients, apiId: string, stageName: string): Promise<FoundStage | undefined> {
  try {
    return toFoundStage(await clients.apigw().send(new GetStageCommand({ ApiId: apiId, StageName: stageName })));
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * The stage the user named, or, when none was named, the API's only stage or the
 * one its stack tagged.
 */
export async function findStage(clients: AwsClients, api: FoundApi, stageName?: string): Promise<FoundStage> {
  if (stageName !== undefined) {
    assertSafeId("stage", stageName);
    const stage = await getStage(clients, api.apiId, stageName);
    if (stage) return stage;
    const stages = await allStages(clients, api.apiId);
    throw new UserError(
      `API ${api.apiId} has no stage '${stageName}'${stages.length ? `; its stages: ${listForPeople(stages.map((s) => s.stageName))}` : " (it has no stages yet: chatctl ws-deploy creates one)"}`,
    );
  }
  const stages = await allStages(clients, api.apiId);
  if (stages.length === 1 && stages[0]) return stages[0];
  if (stages.length === 0) throw new UserError(`API ${api.apiId} has no stage yet; deploy one with: chatctl ws-deploy ${api.apiId} prod`);
  const tagged = api.stack ? stages.filter((s) => s.stack === api.stack) : [];
  if (tagged.length === 1 && tagged[0]) return tagged[0];
  throw new UserError(`API ${api.apiId} has ${stages.length} stages (${listForPeople(stages.map((s) => s.stageName))}); name the stage`);
}

export interface FoundTable {
  readonly tableName: string;
  readonly partitionKey: string;
  readonly sortKey: string | undefined;
  readonly status: string;
}

function toFoundTable(t: TableDescription): FoundTable {
  const key = (type: "HASH" | "RANGE") => t.KeySchema?.find((k) => k.KeyType === type)?.AttributeName;
  return { tableName: t.TableName ?? "", partitionKey: key("HASH") ?? "", sortKey: key("RANGE"), status: t.TableStatus ?? "" };
}

export async function describeTable(clients: AwsClients, tableName: string): Promise<TableDescription | undefined> {
  try {
    return (await clients.dynamodb().send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export function allTableNames(clients: AwsClients): Promise<string[]> {
  return allPages(
    (start) => clients.dynamodb().send(new ListTablesCommand({ ExclusiveStartTableName: start })),
    (page) => page.TableNames,
    (page) => page.LastEvaluatedTableName,
  );
}

/**
 * A table by its name, or the one table a stack owns. Stack tables are named
 * "<stack>-<table>" (src/spec/names.ts), so only those names need their tags read.
 */
export async function findTable(clients: AwsClients, nameOrStack: string): Promise<FoundTable> {
  assertSafeId("table", nameOrStack);
  const direct = await describeTable(clients, nameOrStack);
  if (direct) return toFoundTable(direct);
  const region = clients.config.region;
  const names = await allTableNames(clients);
  const owned: TableDescription[] = [];
  for (const name of names.filter((n) => n.startsWith(`${nameOrStack}-`))) {
    const table = await describeTable(clients, name);
    if (!table?.TableArn) continue;
    const tags = await clients.dynamodb().send(new ListTagsOfResourceCommand({ ResourceArn: table.TableArn }));
    if (tags.Tags?.some((t) => t.Key === TAG_STACK && t.Value === nameOrStack)) owned.push(table);
  }
  if (owned.length === 1 && owned[0]) return toFoundTable(owned[0]);
  if (owned.length > 1) {
    throw new UserError(`stack ${nameOrStack} has ${owned.length} tables (${listForPeople(owned.map((t) => t.TableName ?? ""))}); name the table`);
  }
  if (names.length === 0) throw new UserError(`no table '${nameOrStack}' in ${region}: there are no tables in this region (wrong --region?)`);
  throw new UserError(`no table or stack '${nameOrStack}' in ${region}; tables there: ${listForPeople(names)}`);
}
