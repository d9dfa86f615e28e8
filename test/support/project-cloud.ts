import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { startTestCloud, type TestCloud } from "./cloud.js";

export interface ProjectCloud {
  readonly cloud: TestCloud;
  /** `--endpoint-url <the cloud>`, to append to CLI arguments. */
  readonly at: readonly string[];
  /** A scratch folder inside this project (its ignored .chatctl/), where specs may point at the project's handlers. */
  readonly dir: string;
}

/**
 * A local cloud and a scratch folder for specs, made before the file's tests and
 * removed after them. Read the fields inside tests (they are set in beforeAll).
 */
export function useProjectCloud(prefix: string): ProjectCloud {
  const state: { cloud?: TestCloud; dir?: string } = {};
  beforeAll(async () => {
    state.cloud = await startTestCloud();
    mkdirSync(resolve(".chatctl"), { recursive: true });
    state.dir = mkdtempSync(join(resolve(".chatctl"), `test-${prefix}-`));
  });
  afterAll(async () => {
    await state.cloud?.stop();
    if (state.dir !== undefined) rmSync(state.dir, { recursive: true, force: true });
  });
  const need = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error("useProjectCloud: read its fields inside tests, after beforeAll");
    return v;
  };
  return {
    get cloud() {
      return need(state.cloud);
    },
    get at() {
      return ["--endpoint-url", need(state.cloud).url];
    },
    get dir() {
      return need(state.dir);
    },
  };
}
