import {
  CreateLogGroupCommand,
  DeleteLogGroupCommand,
  DescribeLogGroupsCommand,
  ListTagsForResourceCommand,
  PutRetentionPolicyCommand,
  TagResourceCommand,
  UntagResourceCommand,
  type CloudWatchLogsClient,
  type LogGroup,
} from "@aws-sdk/client-cloudwatch-logs";
import { TAG_ID, TAG_STACK, ownershipFromTags, type Actual, type Change, type Ctx, type ResolvedResource, type ResourceKind } from "./kind.js";
import { createOrAdopt, diffTags, refuseOthers, tagEdits } from "./common.js";
import { errorName } from "../aws/errors.js";
import { allPages } from "../aws/pages.js";
import type { LogGroupProps, Tags } from "./props.js";

export interface LogGroupAttrs {
  readonly logGroupName: string;
  readonly retentionDays: number | undefined; // undefined: events never expire
  readonly tags: Tags;
}

export const logsGroup = {
  kind: "logs.group",

  knownOutputs(ctx: Ctx, d: ResolvedResource<LogGroupProps>): Record<string, string> {
    return { logGroupArn: logGroupArn(ctx, d.props.logGroupName) };
  },

  async read(ctx: Ctx, d: ResolvedResource<LogGroupProps>): Promise<Actual<LogGroupAttrs> | undefined> {
    const logs = ctx.clients.logs();
    const group = (await describeGroups(logs, d.props.logGroupName)).find((g) => g.logGroupName === d.props.logGroupName);
    return group ? actualOf(ctx, group, await tagsOf(logs, ctx, d.props.logGroupName)) : undefined;
  },

  diff(d: ResolvedResource<LogGroupProps>, a: Actual<LogGroupAttrs>): Change[] {
    const changes: Change[] = [];
    if (d.props.retentionDays !== a.attributes.retentionDays) {
      changes.push({ path: "retentionDays", before: a.attributes.retentionDays, after: d.props.retentionDays });
    }
    changes.push(...diffTags(d.props.tags, a.attributes.tags));
    return changes;
  },

  async create(ctx: Ctx, d: ResolvedResource<LogGroupProps>): Promise<Actual<LogGroupAttrs>> {
    const logs = ctx.clients.logs();
    const p = d.props;
    // Lambda creates its log group on first run; an interrupted apply may have made it too.
    return createOrAdopt<LogGroupProps, LogGroupAttrs, unknown>(logsGroup, ctx, d, {
      create: () => logs.send(new CreateLogGroupCommand({ logGroupName: p.logGroupName, tags: p.tags })),
      created: async () => {
        await logs.send(new PutRetentionPolicyCommand({ logGroupName: p.logGroupName, retentionInDays: p.retentionDays }));
        return expected(ctx, p);
      },
      isTaken: (err) => errorName(err) === "ResourceAlreadyExistsException",
      adopt: refuseOthers(`log group ${p.logGroupName}`, ctx),
      converge: (existing) => logsGroup.update(ctx, d, existing, logsGroup.diff(d, existing)),
    });
  },

  async update(ctx: Ctx, d: ResolvedResource<LogGroupProps>, _a: Actual<LogGroupAttrs>, changes: readonly Change[]): Promise<Actual<LogGroupAttrs>> {
    const logs = ctx.clients.logs();
    const p = d.props;
    const arn = logGroupArn(ctx, p.logGroupName);
    if (changes.some((c) => c.path === "retentionDays")) {
      await logs.send(new PutRetentionPolicyCommand({ logGroupName: p.logGroupName, retentionInDays: p.retentionDays }));
    }
    const { set, remove } = tagEdits(p.tags, changes);
    if (remove.length > 0) await logs.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: remove }));
    if (Object.keys(set).length > 0) await logs.send(new TagResourceCommand({ resourceArn: arn, tags: set }));
    return expected(ctx, p);
  },

  async delete(ctx: Ctx, a: Actual<LogGroupAttrs>): Promise<void> {
    try {
      await ctx.clients.logs().send(new DeleteLogGroupCommand({ logGroupName: a.attributes.logGroupName }));
    } catch (err) {
      if (errorName(err) !== "ResourceNotFoundException") throw err;
    }
  },

  async list(ctx: Ctx): Promise<Array<Actual<LogGroupAttrs> & { logicalId: string }>> {
    const logs = ctx.clients.logs();
    const found: Array<Actual<LogGroupAttrs> & { logicalId: string }> = [];
    for (const group of await describeGroups(logs, `/aws/lambda/${ctx.stack}-`)) {
      if (!group.logGroupName) continue;
      const tags = await tagsOf(logs, ctx, group.logGroupName);
      const id = tags[TAG_ID];
      if (id !== undefined && tags[TAG_STACK] === ctx.stack) found.push({ ...actualOf(ctx, group, tags), logicalId: id });
    }
    return found;
  },
} satisfies ResourceKind<LogGroupProps, LogGroupAttrs>;

function logGroupArn(ctx: Ctx, name: string): string {
  return `arn:${ctx.partition}:logs:${ctx.region}:${ctx.accountId}:log-group:${name}`;
}

/** Every group whose name starts with the prefix; DescribeLogGroups has no exact-name filter. */
function describeGroups(logs: CloudWatchLogsClient, prefix: string): Promise<LogGroup[]> {
  return allPages(
    (nextToken) => logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: prefix, nextToken })),
    (out) => out.logGroups,
    (out) => out.nextToken,
  );
}

async function tagsOf(logs: CloudWatchLogsClient, ctx: Ctx, name: string): Promise<Tags> {
  const out = await logs.send(new ListTagsForResourceCommand({ resourceArn: logGroupArn(ctx, name) }));
  return { ...(out.tags ?? {}) };
}

function actualOf(ctx: Ctx, group: LogGroup, tags: Tags): Actual<LogGroupAttrs> {
  const name = group.logGroupName ?? "";
  const arn = group.logGroupArn ?? logGroupArn(ctx, name);
  return {
    physicalId: arn,
    attributes: { logGroupName: name, retentionDays: group.retentionInDays, tags },
    outputs: { logGroupArn: arn, logGroupName: name },
    ownership: ownershipFromTags(tags),
  };
}

function expected(ctx: Ctx, p: LogGroupProps): Actual<LogGroupAttrs> {
  const arn = logGroupArn(ctx, p.logGroupName);
  return {
    physicalId: arn,
    attributes: { logGroupName: p.logGroupName, retentionDays: p.retentionDays, tags: { ...p.tags } },
    outputs: { logGroupArn: arn, logGroupName: p.logGroupName },
    ownership: ownershipFromTags(p.tags),
  };
}

