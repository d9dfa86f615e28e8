import {
  CreateIntegrationCommand,
  DeleteIntegrationCommand,
  GetIntegrationsCommand,
  UpdateIntegrationCommand,
  type Integration,
} from "@aws-sdk/client-apigatewayv2";
import type { Actual, Change, Ctx, ResourceKind } from "./kind.js";
import type { IntegrationProps } from "./props.js";
import { isConflict } from "./apigw-api.js";
import { createOrAdopt } from "./common.js";
import { unlessNotFound } from "../aws/errors.js";
import { allItems } from "../aws/pages.js";

// Integrations carry no tags: chatctl finds its own again by the description it
// wrote, "chatctl:<logical id>", and owns them through the API.

const MARKER = "chatctl:";

export interface IntegrationAttrs {
  readonly apiId: string;
  readonly integrationType: string;
  readonly integrationMethod: string | undefined;
  readonly integrationUri: string | undefined;
  readonly description: string | undefined;
}

function toActual(apiId: string, i: Partial<Integration>): Actual<IntegrationAttrs> {
  const integrationId = i.IntegrationId ?? "";
  return {
    physicalId: integrationId,
    attributes: {
      apiId,
      integrationType: i.IntegrationType ?? "",
      integrationMethod: i.IntegrationMethod,
      integrationUri: i.IntegrationUri,
      description: i.Description,
    },
    outputs: { integrationId },
    ownership: { by: "parent" },
  };
}

/** Every integration of the API; undefined when the API itself is gone. */
async function integrationsOf(ctx: Ctx, apiId: string): Promise<Integration[] | undefined> {
  const client = ctx.clients.apigw();
  return unlessNotFound(() => allItems((NextToken) => client.send(new GetIntegrationsCommand({ ApiId: apiId, NextToken }))));
}

const FIELDS = ["integrationType", "integrationMethod", "integrationUri"] as const;

export const apigwIntegration = {
  kind: "apigw.integration",

  async read(ctx, d) {
    const found = (await integrationsOf(ctx, d.props.apiId))?.find((i) => i.Description === d.props.description);
    return found ? toActual(d.props.apiId, found) : undefined;
  },

  diff(d, a) {
    const changes: Change[] = [];
    for (const field of FIELDS) {
      if (d.props[field] !== a.attributes[field]) changes.push({ path: field, before: a.attributes[field], after: d.props[field] });
    }
    return changes;
  },

  create(ctx, d): Promise<Actual<IntegrationAttrs>> {
    return createOrAdopt<IntegrationProps, IntegrationAttrs, Partial<Integration>>(apigwIntegration, ctx, d, {
      // CreateIntegration never says "already exists": a retried create would make a
      // second integration with the same marker, so look for an earlier attempt's first.
      lookFirst: true,
      create: () =>
        ctx.clients.apigw().send(
          new CreateIntegrationCommand({
            ApiId: d.props.apiId,
            IntegrationType: d.props.integrationType,
            IntegrationMethod: d.props.integrationMethod,
            IntegrationUri: d.props.integrationUri,
            Description: d.props.description,
          }),
        ),
      created: (out) => toActual(d.props.apiId, out),
      isTaken: isConflict,
    });
  },

  async update(ctx, d, a, _changes) {
    const updated = await ctx.clients.apigw().send(
      new UpdateIntegrationCommand({
        ApiId: a.attributes.apiId,
        IntegrationId: a.physicalId,
        IntegrationType: d.props.integrationType,
        IntegrationMethod: d.props.integrationMethod,
        IntegrationUri: d.props.integrationUri,
      }),
    );
    return toActual(a.attributes.apiId, updated);
  },

  async delete(ctx, a) {
    await unlessNotFound(() => ctx.clients.apigw().send(new DeleteIntegrationCommand({ ApiId: a.attributes.apiId, IntegrationId: a.physicalId })));
  },

  async list(ctx, parents) {
    const apiId = parents.apiId;
    if (apiId === undefined) return [];
    return ((await integrationsOf(ctx, apiId)) ?? [])
      .filter((i) => i.Description?.startsWith(MARKER) === true)
      .map((i) => ({ ...toActual(apiId, i), logicalId: (i.Description ?? "").slice(MARKER.length) }));
  },
} satisfies ResourceKind<IntegrationProps, IntegrationAttrs>;
