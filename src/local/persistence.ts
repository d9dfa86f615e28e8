import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import type { JournalEntry, ServiceModel } from "./service.js";

// `chatctl dev --persist DIR` keeps the control plane as a journal of the calls
// that changed it, replayed at the next start with the ids they drew: the API
// keeps its id, functions their code, and the first apply after a restart finds
// nothing to do. (Tables keep their items in dynalite's own store beside it.)

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

/** Replays `file` into the models, then appends every new state change to it. */
export async function persistControlPlane(models: readonly ServiceModel[], file: string): Promise<ReplayReport> {
  const byService = new Map(models.map((m) => [m.service, m]));
  let replayed = 0;
  let skipped = 0;
  if (existsSync(file)) {
    for (const line of readFileSync(file, "utf8").split("\n")) {
      if (line.trim() === "") continue;
      try {
        const entry = JSON.parse(line, decode) as JournalEntry;
        const model = byService.get(entry.service);
        if (!model) throw new Error(`no model for ${entry.service}`);
        await model.replay(entry);
        replayed++;
      } catch {
        skipped++;
      }
    }
  } else {
    mkdirSync(dirname(file), { recursive: true });
  }
  for (const model of models) {
    model.journal = (entry) => appendFileSync(file, `${JSON.stringify(entry, encode)}\n`, { mode: 0o600 });
  }
  return { replayed, skipped };
}
