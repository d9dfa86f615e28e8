import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { JournalEntry, ServiceModel } from "./service.js";

// `chatctl dev --persist DIR` keeps the control plane as a journal of the calls
// that changed it, replayed at the next start with the ids they drew: the API
// keeps its id, functions their code, and the first apply after a restart finds
// nothing to do. (Tables keep their items in dynalite's own store beside it.)
//
// Each save of a handler journals its whole zip (UpdateFunctionCode); only the last one
// of a function counts, so the journal is rewritten without the earlier ones, at start
// and whenever a newer code update arrives: it stays the size of the stack, not of the
// session.

function encode(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString("base64") };
  // Buffer's toJSON runs before a replacer sees it.
  if (typeof value === "object" && value !== null && (value as { type?: unknown }).type === "Buffer" && Array.isArray((value as { data?: unknown }).data)) {
    return { $bytes: Buffer.from((value as { data: number[] }).data).toString("base64") };
  }
  return value;
}

function decode(_key: string, value: unknown): unknown {
  if (typeof value === "object" && value !== null && typeof (value as { $bytes?: unknown }).$bytes === "string" && Object.keys(value).length === 1) {
    return Buffer.from((value as { $bytes: string }).$bytes, "base64");
  }
  return value;
}

export interface ReplayReport {
  readonly replayed: number;
  /** Lines that could not be read or served again (a journal cut short by a crash ends in one). */
  readonly skipped: number;
}

interface Line {
  readonly text: string;
  readonly entry: JournalEntry;
}

function functionOf(entry: JournalEntry): string | undefined {
  const name = entry.input.FunctionName;
  return entry.service === "lambda" && typeof name === "string" ? name : undefined;
}

// Lambda operations after which an earlier code update of the same function still matters.
const KEEPS_EARLIER_CODE = new Set(["CreateFunction", "DeleteFunction", "PublishVersion"]);

/** The lines without the code updates a later code update of the same function replaces. */
export function compactJournal<T extends { readonly entry: JournalEntry }>(lines: readonly T[]): T[] {
  const superseded = new Set<number>();
  const lastCode = new Map<string, number>(); // function -> index of its latest code update not yet cut off
  for (const [i, { entry }] of lines.entries()) {
    const fn = functionOf(entry);
    if (fn === undefined) continue;
    if (entry.operation === "UpdateFunctionCode") {
      const earlier = lastCode.get(fn);
      if (earlier !== undefined) superseded.add(earlier);
      lastCode.set(fn, i);
    } else if (KEEPS_EARLIER_CODE.has(entry.operation)) {
      lastCode.delete(fn);
    }
  }
  return lines.filter((_, i) => !superseded.has(i));
}

/** Replays `file` into the models, then keeps every new state change in it. */
export async function persistControlPlane(models: readonly ServiceModel[], file: string): Promise<ReplayReport> {
  const byService = new Map(models.map((m) => [m.service, m]));
  let replayed = 0;
  let skipped = 0;
  let lines: Line[] = [];
  if (existsSync(file)) {
    for (const text of readFileSync(file, "utf8").split("\n")) {
      if (text.trim() === "") continue;
      try {
        const entry = JSON.parse(text, decode) as JournalEntry;
        const model = byService.get(entry.service);
        if (!model) throw new Error(`no model for ${entry.service}`);
        await model.replay(entry);
        replayed++;
        lines.push({ text, entry });
      } catch {
        skipped++;
      }
    }
    const compacted = compactJournal(lines);
    if (compacted.length < lines.length || skipped > 0) rewrite(file, compacted);
    lines = compacted;
  } else {
    mkdirSync(dirname(file), { recursive: true });
  }
  for (const model of models) {
    model.journal = (entry) => {
      const text = JSON.stringify(entry, encode);
      lines.push({ text, entry });
      if (entry.operation === "UpdateFunctionCode") {
        const compacted = compactJournal(lines);
        if (compacted.length < lines.length) {
          lines = compacted;
          rewrite(file, lines);
          return;
        }
      }
      appendFileSync(file, `${text}\n`, { mode: 0o600 });
    };
  }
  return { replayed, skipped };
}

// Written beside and renamed over, so a crash leaves the old journal or the new one.
function rewrite(file: string, lines: readonly Line[]): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, lines.map((l) => `${l.text}\n`).join(""), { mode: 0o600 });
  renameSync(tmp, file);
}
