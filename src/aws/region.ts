// Kept apart from the SDK clients: commands resolve the region before (or without)
// loading any AWS SDK module, so `chatctl --help` stays fast.

export const DEFAULT_REGION = "ap-northeast-1";

/**
 * The region given (--region, or the spec's `region:`), else AWS_REGION, else
 * AWS_DEFAULT_REGION, else ap-northeast-1. A blank value counts as unset: an
 * exported but empty variable should not make every call fail.
 */
export function resolveRegion(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  for (const candidate of [explicit, env.AWS_REGION, env.AWS_DEFAULT_REGION]) {
    const trimmed = candidate?.trim();
    if (trimmed !== undefined && trimmed !== "") return trimmed;
  }
  return DEFAULT_REGION;
}

/** The ARN partition a region belongs to. */
export function partitionOf(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}
