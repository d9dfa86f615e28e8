import type { Change } from "./kind.js";
import type { Tags } from "./props.js";

// Small pieces every resource kind needs in the same form.

/** The AWS error code SDK v3 exceptions (and the local models) carry as `name`. */
export function errorName(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && typeof (err as { name?: unknown }).name === "string" ? (err as { name: string }).name : undefined;
}

export function isAwsError(err: unknown, ...names: readonly string[]): boolean {
  const name = errorName(err);
  return name !== undefined && names.includes(name);
}

/** One change per key that differs: `${prefix}.${key}`. */
export function diffMaps(prefix: string, before: Readonly<Record<string, string>>, after: Readonly<Record<string, string>>): Change[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys.filter((k) => before[k] !== after[k]).map((k) => ({ path: `${prefix}.${k}`, before: before[k], after: after[k] }));
}

/** AWS adds aws:* tags of its own (CloudFormation, ...); they cannot be changed, so they are never diffed. */
export function withoutAwsTags(tags: Readonly<Record<string, string>> | undefined): Tags {
  return Object.fromEntries(Object.entries(tags ?? {}).filter(([k]) => !k.startsWith("aws:")));
}

/** "tags.app" changes between the tags the spec wants and those the resource has. */
export function diffTags(desired: Readonly<Tags>, actual: Readonly<Tags>): Change[] {
  return diffMaps("tags", withoutAwsTags(actual), desired);
}

/** What the tag changes of a diff ask for: tags to set and keys to remove. */
export function tagEdits(desired: Readonly<Tags>, changes: readonly Change[]): { set: Tags; remove: string[] } {
  const set: Tags = {};
  const remove: string[] = [];
  for (const c of changes) {
    if (!c.path.startsWith("tags.")) continue;
    const key = c.path.slice("tags.".length);
    const value = desired[key];
    if (value === undefined) remove.push(key);
    else set[key] = value;
  }
  return { set, remove };
}

/** Tags as the [{ Key, Value }] lists IAM and DynamoDB take. */
export function tagList(tags: Readonly<Tags>): { Key: string; Value: string }[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}
