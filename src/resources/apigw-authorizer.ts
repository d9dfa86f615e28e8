import {
  CreateAuthorizerCommand,
  DeleteAuthorizerCommand,
  GetAuthorizersCommand,
  UpdateAuthorizerCommand,
  type Authorizer,
} from "@aws-sdk/client-apigatewayv2";
import type { Actual, Change, Ctx, ResourceKind } from "./kind.js";
import type { AuthorizerProps } from "./props.js";
import { isConflict } from "./apigw-api.js";
import { createOrAdopt } from "./common.js";
import { unlessNotFound } from "../aws/errors.js";
import { allItems } from "../aws/pages.js";

// A Lambda REQUEST authorizer of a WebSocket API (the only kind WebSocket APIs take:
// https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-lambda-auth.html).
// Authorizers carry no tags: chatctl names them "chatctl-<name>" and owns them through the API.

const PREFIX = "chatctl-";

export interface AuthorizerAttrs {
  readonly apiId: string;
  readonly name: string;
  readonly authorizerType: string;
  readonly authorizerUri: string | undefined;
  readonly identitySource: readonly string[];
}

function toActual(apiId: string, a: Partial<Authorizer>): Actual<AuthorizerAttrs> {
  const authorizerId = a.AuthorizerId ?? "";
  return {
    physicalId: authorizerId,
    attributes: { apiId, name: a.Name ?? "", authorizerType: a.AuthorizerType ?? "", authorizerUri: a.AuthorizerUri, identitySource: a.IdentitySource ?? [] },
    outputs: { authorizerId },
    ownership: { by: "parent" },
  };
}

async function authorizersOf(ctx: Ctx, apiId: string): Promise<Authorizer[] | undefined> {
  const client = ctx.clients.apigw();
  return unlessNotFound(() => allItems((NextToken) => client.send(new GetAuthorizersCommand({ ApiId: apiId, NextToken }))));
}

/** What create and update both send: the type, the function and the identity sources. */
function settings(p: AuthorizerProps): { AuthorizerType: "REQUEST"; AuthorizerUri: string; IdentitySource: string[] } {
  return { AuthorizerType: p.authorizerType, AuthorizerUri: p.authorizerUri, IdentitySource: p.identitySource };
}

export const apigwAuthorizer = {
  kind: "apigw.authorizer",

  async read(ctx, d) {
    const found = (await authorizersOf(ctx, d.props.apiId))?.find((a) => a.Name === d.props.name);
    return found ? toActual(d.props.apiId, found) : undefined;
  },

  diff(d, a) {
    const changes: Change[] = [];
    if (d.props.authorizerType !== a.attributes.authorizerType) changes.push({ path: "authorizerType", before: a.attributes.authorizerType, after: d.props.authorizerType });
    if (d.props.authorizerUri !== a.attributes.authorizerUri) changes.push({ path: "authorizerUri", before: a.attributes.authorizerUri, after: d.props.authorizerUri });
    if (d.props.identitySource.join(",") !== a.attributes.identitySource.join(",")) {
      changes.push({ path: "identitySource", before: [...a.attributes.identitySource], after: d.props.identitySource });
    }
    return changes;
  },

  create(ctx, d): Promise<Actual<AuthorizerAttrs>> {
    return createOrAdopt<AuthorizerProps, AuthorizerAttrs, Partial<Authorizer>>(apigwAuthorizer, ctx, d, {
      // Authorizer names are not unique to AWS: a retried create would make a second one.
      lookFirst: true,
      create: () =>
        ctx.clients.apigw().send(
          new CreateAuthorizerCommand({ ApiId: d.props.apiId, Name: d.props.name, ...settings(d.props) }),
        ),
      created: (out) => toActual(d.props.apiId, out),
      isTaken: isConflict,
    });
  },

  async update(ctx, d, a, _changes) {
    const updated = await ctx.clients.apigw().send(new UpdateAuthorizerCommand({ ApiId: a.attributes.apiId, AuthorizerId: a.physicalId, ...settings(d.props) }));
    return toActual(a.attributes.apiId, updated);
  },

  async delete(ctx, a) {
    await unlessNotFound(() => ctx.clients.apigw().send(new DeleteAuthorizerCommand({ ApiId: a.attributes.apiId, AuthorizerId: a.physicalId })));
  },

  async list(ctx, parents) {
    const apiId = parents.apiId;
    if (apiId === undefined) return [];
    return ((await authorizersOf(ctx, apiId)) ?? [])
      .filter((a) => a.Name?.startsWith(PREFIX) === true)
      .map((a) => ({ ...toActual(apiId, a), logicalId: `authorizer.${(a.Name ?? "").slice(PREFIX.length)}` }));
  },
} satisfies ResourceKind<AuthorizerProps, AuthorizerAttrs>;

/** The name chatctl gives the authorizer of logical name `name`. */
export const authorizerAwsName = (name: string): string => `${PREFIX}${name}`;
