import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { specFileForStack } from "../../src/spec/find.js";

let dir: string;
const cwd = process.cwd();
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "chatctl-find-spec-"));
  mkdirSync(join(dir, "specs"));
  process.chdir(dir);
});
afterEach(() => {
  process.chdir(cwd);
  rmSync(dir, { recursive: true, force: true });
});

describe("finding a stack's spec by its name (the original script's `destroy my-chat`)", () => {
  it("uses -f when it was given, and ./chat.yaml first", () => {
    writeFileSync("chat.yaml", "stack: other\n");
    expect(specFileForStack("my-chat", "x.yaml", true)).toBe("x.yaml");
    expect(specFileForStack("my-chat", "chat.yaml", false)).toBe("chat.yaml");
  });

  it("finds the one spec whose stack: is that name", () => {
    writeFileSync("specs/prod.yaml", "# the production chat\nstack: my-chat   # owner tag\nroutes: {}\n");
    writeFileSync("specs/other.yaml", "stack: my-chat-2\n");
    expect(specFileForStack("my-chat", "chat.yaml", false)).toBe(join("specs", "prod.yaml"));
  });

  it("says what it looked for when there is none, and which ones when there are several", () => {
    expect(() => specFileForStack("my-chat", "chat.yaml", false)).toThrow(/no spec found for stack my-chat: looked for chat\.yaml, my-chat\.yaml, specs\/my-chat\.yaml/);
    writeFileSync("a.yaml", "stack: my-chat\n");
    writeFileSync("specs/b.yaml", "stack: 'my-chat'\n");
    expect(() => specFileForStack("my-chat", "chat.yaml", false)).toThrow("several specs describe stack my-chat (a.yaml, specs/b.yaml)");
  });

  it("without a stack name, takes ./chat.yaml, else specs/chat.yaml, and says where it looked", () => {
    expect(() => specFileForStack(undefined, "chat.yaml", false)).toThrow("no spec found: looked for chat.yaml and specs/chat.yaml; name one with -f, or give the stack name");
    writeFileSync("specs/chat.yaml", "stack: my-chat\n");
    expect(specFileForStack(undefined, "chat.yaml", false)).toBe(join("specs", "chat.yaml"));
    writeFileSync("chat.yaml", "stack: my-chat\n");
    expect(specFileForStack(undefined, "chat.yaml", false)).toBe("chat.yaml");
    expect(specFileForStack(undefined, "x.yaml", true)).toBe("x.yaml");
  });
});
