// The tag rules every service chatctl tags shares (Lambda, IAM, DynamoDB,
// CloudWatch Logs, API Gateway): keys of 1-128 and values of 0-256 Unicode
// characters of letters, spaces, digits and _ . : / = + - @, no aws: prefix on
// keys, at most 50 per resource.
// https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html
// The spec checks (before any call) and the local models (which refuse what AWS
// refuses) both use them.

export const MAX_TAGS_PER_RESOURCE = 50;
export const MAX_TAG_KEY = 128;
export const MAX_TAG_VALUE = 256;
export const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

/** Length as AWS counts it: Unicode characters, not UTF-16 units. */
export const tagLength = (s: string): number => [...s].length;

/** What AWS would say is wrong with one tag, or undefined. */
export function tagProblem(key: string, value: string): string | undefined {
  if (tagLength(key) < 1 || tagLength(key) > MAX_TAG_KEY) return `tag key ${JSON.stringify(key)} must be 1 to ${MAX_TAG_KEY} characters`;
  if (!TAG_TEXT.test(key)) return `tag key ${JSON.stringify(key)} must match [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+`;
  if (key.toLowerCase().startsWith("aws:")) return `tag key ${JSON.stringify(key)} starts with aws:, which is reserved for AWS use`;
  if (tagLength(value) > MAX_TAG_VALUE) return `the value of tag ${JSON.stringify(key)} must be at most ${MAX_TAG_VALUE} characters`;
  if (!TAG_TEXT.test(value)) return `the value of tag ${JSON.stringify(key)} must match [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*`;
  return undefined;
}

/** The first problem of a resource's whole tag set, or undefined. */
export function tagsProblem(tags: Iterable<readonly [string, string]>): string | undefined {
  let count = 0;
  for (const [key, value] of tags) {
    count++;
    const problem = tagProblem(key, value);
    if (problem !== undefined) return problem;
  }
  return count > MAX_TAGS_PER_RESOURCE ? `a resource can have at most ${MAX_TAGS_PER_RESOURCE} tags (${count} given)` : undefined;
}
