import { CreateRouteCommand, DeleteRouteCommand, GetRoutesCommand, UpdateRouteCommand, type Route } from "@aws-sdk/client-apigatewayv2";
import type { Actual, Change, Ctx, ResourceKind } from "./kind.js";
import type { RouteProps } from "./props.js";
import { isConflict } from "./apigw-api.js";
import { createOrAdopt } from "./common.js";
import { unlessNotFound } from "../aws/errors.js";
import { allItems } from "../aws/pages.js";

// A route key is unique within an API, so it is the route's identity; routes carry
// no tags and are owned through the API. Their logical id is "route.<key>", as the
// desired graph names them.

export interface RouteAttrs {
  readonly apiId: string;
  readonly routeKey: string;
  readonly target: string | undefined;
  readonly authorizationType: string;
  readonly authorizerId: string | undefined;
}

function toActual(apiId: string, r: Partial<Route>): Actual<RouteAttrs> {
  const routeId = r.RouteId ?? "";
  return {
    physicalId: routeId,
    attributes: {
      apiId,
      routeKey: r.RouteKey ?? "",
      target: r.Target,
      authorizationType: r.AuthorizationType ?? "NONE",
      authorizerId: r.AuthorizationType === "CUSTOM" ? r.AuthorizerId : undefined,
    },
    outputs: { routeId },
    ownership: { by: "parent" },
  };
}

/** Every route of the API; undefined when the API itself is gone. */
async function routesOf(ctx: Ctx, apiId: string): Promise<Route[] | undefined> {
  const client = ctx.clients.apigw();
  return unlessNotFound(() => allItems((NextToken) => client.send(new GetRoutesCommand({ ApiId: apiId, NextToken }))));
}

/** Target and authorization as CreateRoute/UpdateRoute take them; NONE clears an authorizer. */
function routeFields(p: RouteProps): { Target: string; AuthorizationType: RouteProps["authorizationType"]; AuthorizerId?: string } {
  return { Target: p.target, AuthorizationType: p.authorizationType, ...(p.authorizationType === "CUSTOM" && p.authorizerId ? { AuthorizerId: p.authorizerId } : {}) };
}

export const apigwRoute = {
  kind: "apigw.route",

  async read(ctx, d) {
    const found = (await routesOf(ctx, d.props.apiId))?.find((r) => r.RouteKey === d.props.routeKey);
    return found ? toActual(d.props.apiId, found) : undefined;
  },

  diff(d, a): Change[] {
    const changes: Change[] = [];
    if (d.props.target !== a.attributes.target) changes.push({ path: "target", before: a.attributes.target, after: d.props.target });
    if (d.props.authorizationType !== a.attributes.authorizationType) {
      changes.push({ path: "authorizationType", before: a.attributes.authorizationType, after: d.props.authorizationType });
    }
    if (d.props.authorizerId !== a.attributes.authorizerId) changes.push({ path: "authorizerId", before: a.attributes.authorizerId, after: d.props.authorizerId });
    return changes;
  },

  create(ctx, d): Promise<Actual<RouteAttrs>> {
    // A taken route key was taken by an earlier attempt of ours, or by a route made by
    // hand in our API. Either way the spec says what it should target: adopt it.
    return createOrAdopt<RouteProps, RouteAttrs, Partial<Route>>(apigwRoute, ctx, d, {
      create: () => ctx.clients.apigw().send(new CreateRouteCommand({ ApiId: d.props.apiId, RouteKey: d.props.routeKey, ...routeFields(d.props) })),
      created: (out) => toActual(d.props.apiId, out),
      isTaken: isConflict,
    });
  },

  async update(ctx, d, a, _changes) {
    const updated = await ctx.clients.apigw().send(new UpdateRouteCommand({ ApiId: a.attributes.apiId, RouteId: a.physicalId, ...routeFields(d.props) }));
    return toActual(a.attributes.apiId, updated);
  },

  async delete(ctx, a) {
    await unlessNotFound(() => ctx.clients.apigw().send(new DeleteRouteCommand({ ApiId: a.attributes.apiId, RouteId: a.physicalId })));
  },

  async list(ctx, parents) {
    const apiId = parents.apiId;
    if (apiId === undefined) return [];
    return ((await routesOf(ctx, apiId)) ?? []).map((r) => ({ ...toActual(apiId, r), logicalId: `route.${r.RouteKey ?? ""}` }));
  },
} satisfies ResourceKind<RouteProps, RouteAttrs>;
