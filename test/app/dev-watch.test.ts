import { mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { watchProject, type DevWatch } from "../../src/app/dev-watch.js";

describe("dev's project watcher", () => {
  let dir: string;
  let watcher: DevWatch;
  let bursts: string[][] = [];
  let waiters: Array<() => void> = [];

  const nextBurst = (): Promise<string[]> =>
    new Promise((resolve) => {
      const seen = bursts.length;
      const check = () => (bursts.length > seen ? resolve(bursts[seen]!) : waiters.push(check));
      check();
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "chatctl-watch-"));
    mkdirSync(join(dir, "handlers"));
    mkdirSync(join(dir, ".chatctl-state"));
    writeFileSync(join(dir, "handlers/a.ts"), "export const handler = async () => 0;\n");
    watcher = watchProject({
      dirs: [dir],
      exclude: [join(dir, ".chatctl-state")],
      debounceMs: 50,
      onChange: (paths) => {
        bursts.push([...paths]);
        const w = waiters;
        waiters = [];
        for (const f of w) f();
      },
    });
    await watcher.ready;
  });
  afterAll(async () => {
    await watcher.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("sees a rename-save, and then each in-place save of the same file", async () => {
    const file = join(dir, "handlers/a.ts");
    for (const n of [1, 2, 3]) {
      const burst = nextBurst();
      if (n === 1) {
        // vim / JetBrains safe write / sed -i: a new file renamed over the old one.
        writeFileSync(`${file}.tmp`, `export const handler = async () => ${n};\n`);
        renameSync(`${file}.tmp`, file);
      } else {
        writeFileSync(file, `export const handler = async () => ${n};\n`);
      }
      expect(await burst).toContain(file);
    }
  });

  it("sees a delete followed by a create, and the last of a burst of saves", async () => {
    const file = join(dir, "handlers/b.ts");
    writeFileSync(file, "1");
    await nextBurst();
    let burst = nextBurst();
    unlinkSync(file);
    writeFileSync(file, "2");
    expect(await burst).toContain(file);

    burst = nextBurst();
    for (let i = 0; i < 20; i++) writeFileSync(file, String(i));
    expect(await burst).toContain(file);
  });

  it("does not report the excluded --persist folder, node_modules, a log or an editor's scratch files", async () => {
    const burst = nextBurst();
    writeFileSync(join(dir, ".chatctl-state/control-plane.jsonl"), "{}\n");
    writeFileSync(join(dir, "dev.log"), "Change detected: planning again...\n");
    // What vim, emacs and JetBrains write beside chat.yaml while it is edited.
    for (const scratch of [".chat.yaml.swp", ".chat.yaml.swx", "4913", "chat.yaml~", ".#chat.yaml", "#chat.yaml#", "chat.yaml___jb_tmp___", ".DS_Store"]) {
      writeFileSync(join(dir, scratch), "x");
    }
    mkdirSync(join(dir, "node_modules"), { recursive: true });
    writeFileSync(join(dir, "node_modules/x.js"), "1");
    writeFileSync(join(dir, "handlers/marker.ts"), "1");
    expect(await burst).toEqual([join(dir, "handlers/marker.ts")]);
  });
});
