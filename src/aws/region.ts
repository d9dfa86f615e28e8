// Kept apart from the SDK clients: commands resolve the region before (or without)
// loading any AWS SDK module, so `chatctl --help` stays fast.

export const DEFAULT_REGION = "ap-northeast-1";

export function resolveRegion(explicit?: string): string {
  return explicit || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || DEFAULT_REGION;
}
