import { CreateDeploymentCommand, DeleteDeploymentCommand, GetDeploymentCommand, GetStageCommand, type Deployment } from "@aws-sdk/client-apigatewayv2";
import type { Actual, Change, Ctx, ResolvedResource, ResourceKind } from "./kind.js";
import type { DeploymentProps } from "./props.js";
import { isConflict } from "./apigw-api.js";
import { createOrAdopt } from "./common.js";
import { unlessNotFound } from "../aws/errors.js";

// The deployment resource is "what the stage serves now". Deployments are
// immutable snapshots, so a new configuration is a new deployment that the stage
// is pointed at (an update, never a replacement: the stage and its URL stay).
// Earlier deployments stay in the API's history, as they do with the console.

const DESCRIPTION = /^chatctl (.+)$/;

export interface DeploymentAttrs {
  readonly apiId: string;
  readonly stageName: string;
  /** From the description "chatctl <hash>"; undefined for a deployment chatctl did not make. */
  readonly configHash: string | undefined;
  readonly deploymentId: string;
}

function toActual(apiId: string, stageName: string, dep: Partial<Deployment>): Actual<DeploymentAttrs> {
  const deploymentId = dep.DeploymentId ?? "";
  return {
    physicalId: deploymentId,
    attributes: { apiId, stageName, configHash: DESCRIPTION.exec(dep.Description ?? "")?.[1], deploymentId },
    outputs: { deploymentId },
    ownership: { by: "parent" },
  };
}

async function current(ctx: Ctx, apiId: string, stageName: string): Promise<Actual<DeploymentAttrs> | undefined> {
  const client = ctx.clients.apigw();
  const stage = await unlessNotFound(() => client.send(new GetStageCommand({ ApiId: apiId, StageName: stageName })));
  const deploymentId = stage?.DeploymentId;
  if (!deploymentId) return undefined;
  const dep = await unlessNotFound(() => client.send(new GetDeploymentCommand({ ApiId: apiId, DeploymentId: deploymentId })));
  return dep ? toActual(apiId, stageName, dep) : undefined;
}

async function deploy(ctx: Ctx, d: ResolvedResource<DeploymentProps>): Promise<Actual<DeploymentAttrs>> {
  const { apiId, stageName, configHash } = d.props;
  const dep = await ctx.clients.apigw().send(new CreateDeploymentCommand({ ApiId: apiId, StageName: stageName, Description: `chatctl ${configHash}` }));
  return toActual(apiId, stageName, dep);
}

export const apigwDeployment = {
  kind: "apigw.deployment",

  read(ctx, d) {
    return current(ctx, d.props.apiId, d.props.stageName);
  },

  diff(d, a): Change[] {
    return d.props.configHash === a.attributes.configHash ? [] : [{ path: "configHash", before: a.attributes.configHash, after: d.props.configHash }];
  },

  create(ctx, d): Promise<Actual<DeploymentAttrs>> {
    return createOrAdopt<DeploymentProps, DeploymentAttrs, Actual<DeploymentAttrs>>(apigwDeployment, ctx, d, {
      // A retried create finds the stage already serving this configuration.
      lookFirst: true,
      create: () => deploy(ctx, d),
      created: (deployed) => deployed,
      isTaken: isConflict,
      find: () => current(ctx, d.props.apiId, d.props.stageName),
      adopt: (found) => found.attributes.configHash === d.props.configHash,
      converge: async (found) => found,
    });
  },

  update(ctx, d, _actual, _changes) {
    return deploy(ctx, d);
  },

  async delete(ctx, a) {
    // A deployment a stage serves cannot be deleted; it goes with the stage or the
    // API, which are deleted after it. Once the stage is gone there is nothing to do.
    const { apiId, stageName, deploymentId } = a.attributes;
    const client = ctx.clients.apigw();
    const stage = await unlessNotFound(() => client.send(new GetStageCommand({ ApiId: apiId, StageName: stageName })));
    if (!stage || stage.DeploymentId === deploymentId) return;
    await unlessNotFound(() => client.send(new DeleteDeploymentCommand({ ApiId: apiId, DeploymentId: deploymentId })));
  },
} satisfies ResourceKind<DeploymentProps, DeploymentAttrs>;
