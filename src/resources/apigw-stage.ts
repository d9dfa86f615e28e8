import {
  CreateStageCommand,
  DeleteAccessLogSettingsCommand,
  DeleteStageCommand,
  GetApiCommand,
  GetStageCommand,
  GetStagesCommand,
  UpdateStageCommand,
  type CreateStageRequest,
  type Stage,
} from "@aws-sdk/client-apigatewayv2";
import { TAG_ID, TAG_STACK, ownershipFromTags, type Actual, type Change, type Ctx, type ResourceKind } from "./kind.js";
import type { StageProps, Tags } from "./props.js";
import { apiArn, applyTagChanges, isConflict, sameDescription } from "./apigw-api.js";
import { createOrAdopt, diffTags } from "./common.js";
import { unlessNotFound } from "../aws/errors.js";
import { allItems } from "../aws/pages.js";

export interface StageAttrs {
  readonly apiId: string;
  readonly stageName: string;
  readonly description: string | undefined;
  readonly tags: Tags;
  readonly deploymentId: string | undefined;
  readonly throttling: { rateLimit: number | undefined; burstLimit: number | undefined };
  readonly accessLog: { destinationArn: string; format: string } | undefined;
}

function toActual(apiId: string, apiEndpoint: string, s: Partial<Stage>): Actual<StageAttrs> {
  const stageName = s.StageName ?? "";
  const tags = Object.fromEntries(Object.entries(s.Tags ?? {}).filter(([k]) => !k.startsWith("aws:")));
  return {
    physicalId: stageName,
    attributes: {
      apiId,
      stageName,
      description: s.Description,
      tags,
      deploymentId: s.DeploymentId,
      throttling: { rateLimit: s.DefaultRouteSettings?.ThrottlingRateLimit, burstLimit: s.DefaultRouteSettings?.ThrottlingBurstLimit },
      accessLog: s.AccessLogSettings?.DestinationArn ? { destinationArn: s.AccessLogSettings.DestinationArn, format: s.AccessLogSettings.Format ?? "" } : undefined,
    },
    outputs: { stageName, invokeUrl: `${apiEndpoint}/${stageName}` },
    ownership: ownershipFromTags(tags),
  };
}

async function endpointOf(ctx: Ctx, apiId: string): Promise<string> {
  const api = await ctx.clients.apigw().send(new GetApiCommand({ ApiId: apiId }));
  return api.ApiEndpoint ?? "";
}

function stageArn(ctx: Ctx, apiId: string, stageName: string): string {
  return `${apiArn(ctx, apiId)}/stages/${stageName}`;
}

/** Both throttling bounds always together (one alone leaves the other at 0: every request 429). */
function stageSettings(p: StageProps): Pick<CreateStageRequest, "DefaultRouteSettings" | "AccessLogSettings"> {
  return {
    ...(p.throttling ? { DefaultRouteSettings: { ThrottlingRateLimit: p.throttling.rateLimit, ThrottlingBurstLimit: p.throttling.burstLimit } } : {}),
    ...(p.accessLog ? { AccessLogSettings: { DestinationArn: p.accessLog.destinationArn, Format: p.accessLog.format } } : {}),
  };
}

export const apigwStage = {
  kind: "apigw.stage",

  knownOutputs(_ctx, d) {
    return { stageName: d.props.stageName };
  },

  async read(ctx, d) {
    const client = ctx.clients.apigw();
    const stage = await unlessNotFound(() => client.send(new GetStageCommand({ ApiId: d.props.apiId, StageName: d.props.stageName })));
    if (!stage) return undefined;
    return toActual(d.props.apiId, await endpointOf(ctx, d.props.apiId), stage);
  },

  diff(d, a) {
    const changes: Change[] = [];
    if (!sameDescription(d.props.description, a.attributes.description)) {
      changes.push({ path: "description", before: a.attributes.description, after: d.props.description });
    }
    // Throttling absent from the spec is left as it is: AWS has no way back to "unset"
    // for a stage's default route settings, and writing 0 would throttle every request.
    const t = d.props.throttling;
    if (t && (t.rateLimit !== a.attributes.throttling.rateLimit || t.burstLimit !== a.attributes.throttling.burstLimit)) {
      changes.push({ path: "throttling", before: a.attributes.throttling.rateLimit === undefined ? undefined : { ...a.attributes.throttling }, after: t });
    }
    const log = d.props.accessLog;
    const had = a.attributes.accessLog;
    if (log?.destinationArn !== had?.destinationArn || log?.format !== had?.format) changes.push({ path: "accessLog", before: had, after: log });
    changes.push(...diffTags(d.props.tags, a.attributes.tags));
    return changes;
  },

  create(ctx, d): Promise<Actual<StageAttrs>> {
    const { apiId, stageName } = d.props;
    return createOrAdopt<StageProps, StageAttrs, Partial<Stage>>(apigwStage, ctx, d, {
      create: () =>
        ctx.clients.apigw().send(
          new CreateStageCommand({
            ApiId: apiId,
            StageName: stageName,
            ...(d.props.description !== undefined ? { Description: d.props.description } : {}),
            ...stageSettings(d.props),
            Tags: d.props.tags,
          }),
        ),
      created: async (out) => toActual(apiId, await endpointOf(ctx, apiId), out),
      isTaken: isConflict,
      // A stage of that name that another stack (or a person) made is never taken over.
      adopt: (found) => found.ownership.by === "tags" && found.ownership.stack === ctx.stack,
    });
  },

  async update(ctx, d, a, changes): Promise<Actual<StageAttrs>> {
    const client = ctx.clients.apigw();
    const { apiId, stageName } = a.attributes;
    if (changes.some((c) => c.path === "description")) {
      await client.send(new UpdateStageCommand({ ApiId: apiId, StageName: stageName, Description: d.props.description ?? "" }));
    }
    if (changes.some((c) => c.path === "throttling" || (c.path === "accessLog" && d.props.accessLog))) {
      await client.send(new UpdateStageCommand({ ApiId: apiId, StageName: stageName, ...stageSettings(d.props) }));
    }
    if (changes.some((c) => c.path === "accessLog") && !d.props.accessLog) {
      await unlessNotFound(() => client.send(new DeleteAccessLogSettingsCommand({ ApiId: apiId, StageName: stageName })));
    }
    await applyTagChanges(client, stageArn(ctx, apiId, stageName), d.props.tags, changes);
    const stage = await client.send(new GetStageCommand({ ApiId: apiId, StageName: stageName }));
    return toActual(apiId, await endpointOf(ctx, apiId), stage);
  },

  async health(ctx, a) {
    const s = await ctx.clients.apigw().send(new GetStageCommand({ ApiId: a.attributes.apiId, StageName: a.attributes.stageName }));
    return s.LastUpdatedDate ? `deployment ${s.DeploymentId ?? "none"}, updated ${s.LastUpdatedDate.toISOString()}` : `deployment ${s.DeploymentId ?? "none"}`;
  },

  async delete(ctx, a) {
    await unlessNotFound(() => ctx.clients.apigw().send(new DeleteStageCommand({ ApiId: a.attributes.apiId, StageName: a.attributes.stageName })));
  },

  async list(ctx, parents) {
    const apiId = parents.apiId;
    if (apiId === undefined) return [];
    const client = ctx.clients.apigw();
    const stages = await unlessNotFound(() => allItems((NextToken) => client.send(new GetStagesCommand({ ApiId: apiId, NextToken }))));
    const ours = (stages ?? []).filter((s) => s.Tags?.[TAG_STACK] === ctx.stack);
    if (ours.length === 0) return [];
    const endpoint = await endpointOf(ctx, apiId);
    return ours.map((s) => ({ ...toActual(apiId, endpoint, s), logicalId: s.Tags?.[TAG_ID] ?? `stage.${s.StageName ?? ""}` }));
  },
} satisfies ResourceKind<StageProps, StageAttrs>;

