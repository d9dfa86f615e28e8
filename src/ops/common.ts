import { UserError } from "../errors.js";

/** Waits between polls and retries; tests pass one that does not really wait. */
export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Ids end up in URL paths (/apis/{id}, /@connections/{id}); a slash or a dot-dot
 * there would address another resource than the one the user named, so such ids
 * are refused before any call is made.
 */
export function assertSafeId(what: string, value: string): void {
  if (value.trim() === "") throw new UserError(`${what} is empty`);
  if (/[/\\?#\s\u0000-\u001f]/.test(value) || value.includes("..")) {
    throw new UserError(`${what} '${printable(value)}' contains a character that cannot be part of an id (/, \\, ?, #, .., or whitespace)`);
  }
}

export function printable(value: string): string {
  const clean = value.replace(/[\u0000-\u001f\u007f]/g, "?");
  return clean.length > 80 ? `${clean.slice(0, 77)}...` : clean;
}

/** "a, b and c" for messages that list candidates. */
export function listForPeople(items: readonly string[], max = 10): string {
  const shown = items.slice(0, max);
  const more = items.length - shown.length;
  const text = shown.length <= 1 ? (shown[0] ?? "") : `${shown.slice(0, -1).join(", ")} and ${shown[shown.length - 1]}`;
  return more > 0 ? `${shown.join(", ")} and ${more} more` : text;
}
