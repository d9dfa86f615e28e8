import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import type { Browser } from "playwright-core";

const NAMES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];

/** The Chromium the browser tests drive: CHROMIUM_PATH, else the first of the usual names on PATH. */
export function findChromium(): string | undefined {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    for (const name of NAMES) {
      const candidate = join(dir, name);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

export const IN_CI = process.env.CI === "true" || process.env.CI === "1";
export const HOW_TO_INSTALL = "install Debian's Chromium (sudo apt-get install -y chromium) or set CHROMIUM_PATH to run them";

/**
 * Whether the browser tests run here: always in CI (where a missing Chromium is a
 * failure, not a skip: .ci/run installs it), elsewhere only when one is installed.
 */
export function browserTestsEnabled(what: string): boolean {
  if (findChromium() !== undefined || IN_CI) return true;
  console.warn(`skipping ${what}: no Chromium on this machine; ${HOW_TO_INSTALL}`);
  return false;
}

export async function launchChromium(): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error(`no Chromium found (CI=${process.env.CI ?? ""}): ${HOW_TO_INSTALL}`);
  const { chromium } = await import("playwright-core");
  // Chromium refuses to start its sandbox as root (CI runs as root).
  const root = process.getuid?.() === 0;
  return chromium.launch({ executablePath, headless: true, args: root ? ["--no-sandbox"] : [] });
}
