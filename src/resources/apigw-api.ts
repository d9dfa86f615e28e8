import {
  CreateApiCommand,
  DeleteApiCommand,
  GetApiCommand,
  GetApisCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateApiCommand,
  type Api,
  type ApiGatewayV2Client,
} from "@aws-sdk/client-apigatewayv2";
import { TAG_ID, TAG_STACK, ownershipFromTags, type Actual, type Change, type Ctx, type ResourceKind } from "./kind.js";
import { createOrAdopt, diffTags, withoutAwsTags } from "./common.js";
import { isAwsError, unlessNotFound } from "../aws/errors.js";
import { allItems } from "../aws/pages.js";
import type { ApiProps, Tags } from "./props.js";

// --- Helpers shared by the apigw.* kinds ---

export const isConflict = (err: unknown): boolean => isAwsError(err, "ConflictException");


/** AWS adds aws:* tags of its own (CloudFormation, ...); they are not ours to diff. */
/** One change per tag key that differs: "tags.app". */
/** Applies tag changes to a taggable API Gateway resource (an API or a stage). */
export async function applyTagChanges(client: ApiGatewayV2Client, resourceArn: string, desired: Readonly<Tags>, changes: readonly Change[]): Promise<void> {
  const keys = changes.filter((c) => c.path.startsWith("tags.")).map((c) => c.path.slice("tags.".length));
  const set = Object.fromEntries(keys.filter((k) => desired[k] !== undefined).map((k) => [k, desired[k] as string]));
  const removed = keys.filter((k) => desired[k] === undefined);
  if (Object.keys(set).length > 0) await client.send(new TagResourceCommand({ ResourceArn: resourceArn, Tags: set }));
  if (removed.length > 0) await client.send(new UntagResourceCommand({ ResourceArn: resourceArn, TagKeys: removed }));
}

/** The ARN API Gateway's tagging calls take: arn:aws:apigateway:<region>::/apis/<apiId>. */
export function apiArn(ctx: Ctx, apiId: string): string {
  return `arn:${ctx.partition}:apigateway:${ctx.region}::/apis/${apiId}`;
}

/** An empty description and none at all are the same to API Gateway users. */
export function sameDescription(a: string | undefined, b: string | undefined): boolean {
  return (a ?? "") === (b ?? "");
}

// --- apigw.api ---

export interface ApiAttrs {
  readonly name: string;
  readonly protocolType: string;
  readonly routeSelectionExpression: string;
  readonly description: string | undefined;
  readonly tags: Tags;
  readonly apiEndpoint: string;
}

function toActual(ctx: Ctx, api: Partial<Api>): Actual<ApiAttrs> {
  const apiId = api.ApiId ?? "";
  const tags = withoutAwsTags(api.Tags);
  const apiEndpoint = api.ApiEndpoint ?? "";
  return {
    physicalId: apiId,
    attributes: {
      name: api.Name ?? "",
      protocolType: api.ProtocolType ?? "",
      routeSelectionExpression: api.RouteSelectionExpression ?? "",
      description: api.Description,
      tags,
      apiEndpoint,
    },
    outputs: { apiId, apiEndpoint, executeArn: `arn:${ctx.partition}:execute-api:${ctx.region}:${ctx.accountId}:${apiId}` },
    ownership: ownershipFromTags(tags),
  };
}

function isOurs(ctx: Ctx, a: Actual<unknown>): boolean {
  return a.ownership.by === "tags" && a.ownership.stack === ctx.stack;
}

async function everyApi(ctx: Ctx): Promise<Api[]> {
  const client = ctx.clients.apigw();
  return allItems((NextToken) => client.send(new GetApisCommand({ NextToken })));
}

export const apigwApi = {
  kind: "apigw.api",

  async read(ctx, d) {
    // API names are not unique in AWS: prefer the one this stack tagged for this logical id.
    const named = (await everyApi(ctx)).filter((api) => api.Name === d.props.name);
    const ours = named.filter((api) => api.Tags?.[TAG_STACK] === ctx.stack);
    const found = ours.find((api) => api.Tags?.[TAG_ID] === d.id) ?? ours[0] ?? named[0];
    return found ? toActual(ctx, found) : undefined;
  },

  diff(d, a) {
    const changes: Change[] = [];
    if (d.props.protocolType !== a.attributes.protocolType) {
      changes.push({
        path: "protocolType",
        before: a.attributes.protocolType,
        after: d.props.protocolType,
        forcesReplacement: true,
        reason: "an API's protocol type cannot change",
      });
    }
    if (d.props.routeSelectionExpression !== a.attributes.routeSelectionExpression) {
      changes.push({ path: "routeSelectionExpression", before: a.attributes.routeSelectionExpression, after: d.props.routeSelectionExpression });
    }
    if (!sameDescription(d.props.description, a.attributes.description)) {
      changes.push({ path: "description", before: a.attributes.description, after: d.props.description });
    }
    changes.push(...diffTags(d.props.tags, a.attributes.tags));
    return changes;
  },

  create(ctx, d): Promise<Actual<ApiAttrs>> {
    return createOrAdopt<ApiProps, ApiAttrs, Partial<Api>>(apigwApi, ctx, d, {
      // CreateApi never says "already exists" (names are not unique), so a retried
      // create would make a second API: look for the one an earlier attempt made first.
      lookFirst: true,
      create: () =>
        ctx.clients.apigw().send(
          new CreateApiCommand({
            Name: d.props.name,
            ProtocolType: d.props.protocolType,
            RouteSelectionExpression: d.props.routeSelectionExpression,
            ...(d.props.description !== undefined ? { Description: d.props.description } : {}),
            Tags: d.props.tags,
          }),
        ),
      created: (api) => toActual(ctx, api),
      isTaken: isConflict,
      adopt: (found) => isOurs(ctx, found),
    });
  },

  async update(ctx, d, a, changes) {
    const client = ctx.clients.apigw();
    const apiId = a.physicalId;
    if (changes.some((c) => c.path === "routeSelectionExpression" || c.path === "description")) {
      await client.send(
        new UpdateApiCommand({ ApiId: apiId, RouteSelectionExpression: d.props.routeSelectionExpression, Description: d.props.description ?? "" }),
      );
    }
    await applyTagChanges(client, apiArn(ctx, apiId), d.props.tags, changes);
    return toActual(ctx, await client.send(new GetApiCommand({ ApiId: apiId })));
  },

  async delete(ctx, a) {
    await unlessNotFound(() => ctx.clients.apigw().send(new DeleteApiCommand({ ApiId: a.physicalId })));
  },

  async list(ctx) {
    return (await everyApi(ctx))
      .filter((api) => api.Tags?.[TAG_STACK] === ctx.stack)
      .map((api) => ({ ...toActual(ctx, api), logicalId: api.Tags?.[TAG_ID] ?? `apigw.api/${api.ApiId ?? ""}` }));
  },
} satisfies ResourceKind<ApiProps, ApiAttrs>;
