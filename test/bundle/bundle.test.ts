import { mkdtemp, rm, writeFile, mkdir } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { createHash } from "node:crypto";
import { unzipSync } from "fflate";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { BundleError, bundleCache, bundleHandler, bundleHandlers } from "../../src/bundle/index.js";
import { handlerEnv, startConnectionsServer, startDynalite } from "../handlers/support.js";

const HANDLERS = resolve(import.meta.dirname, "../../handlers");
let work: string;
let outDir: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "chatctl-bundle-test-"));
  outDir = join(work, "zips");
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});
afterEach(() => {
  vi.unstubAllEnvs();
});

async function handlerFile(name: string, source: string): Promise<string> {
  const file = join(work, "src", name);
  await mkdir(join(work, "src"), { recursive: true });
  await writeFile(file, source);
  return file;
}

describe("bundleHandler", () => {
  it("gives the same sha256 for the same source, and a different one when the source changes", async () => {
    const file = await handlerFile("greet.ts", 'export async function handler() { return { statusCode: 200, body: "hello" }; }\n');
    const first = await bundleHandler(file, { outDir, cache: false });
    const again = await bundleHandler(file, { outDir, cache: false });
    expect(again.sha256).toBe(first.sha256);
    expect(Buffer.from(again.zip).equals(Buffer.from(first.zip))).toBe(true);

    const cached = await bundleHandler(file, { outDir });
    expect(cached.sha256).toBe(first.sha256);
    // Same length on purpose: a cache trusting size or mtime granularity would miss this edit.
    await writeFile(file, 'export async function handler() { return { statusCode: 200, body: "howdy" }; }\n');
    const changed = await bundleHandler(file, { outDir });
    expect(changed.sha256).not.toBe(first.sha256);
  });

  it("describes the zip as Lambda does and writes it under its hash", async () => {
    const file = await handlerFile("plain.ts", "export const handler = async () => ({ statusCode: 204 });\n");
    const b = await bundleHandler(file, { outDir });
    const digest = createHash("sha256").update(b.zip).digest();
    expect(b.sha256).toBe(digest.toString("base64"));
    expect(b.sha256Hex).toBe(digest.toString("hex"));
    expect(b.handler).toBe("index.handler");
    expect(b.zipPath).toBe(join(outDir, `${b.sha256Hex}.zip`));
    expect(b.size).toBe(b.zip.byteLength);
    expect(readFileSync(b.zipPath).equals(Buffer.from(b.zip))).toBe(true);
    const files = unzipSync(b.zip);
    expect(Object.keys(files)).toEqual(["index.mjs", "index.mjs.map"]);
    expect(Buffer.from(files["index.mjs"] ?? []).toString()).toContain("//# sourceMappingURL=index.mjs.map");
    const map = JSON.parse(Buffer.from(files["index.mjs.map"] ?? []).toString()) as { sources: string[] };
    // Relative to the project, so the bytes do not depend on where the project lives.
    expect(map.sources).toEqual(["plain.ts"]);
  });

  it("reports a compile error with file:line:column, as a BundleError", async () => {
    const file = await handlerFile("broken.ts", "export async function handler() {\n  const x = ;\n  return x;\n}\n");
    const err = await bundleHandler(file, { outDir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BundleError);
    const { diagnostics, message } = err as BundleError;
    expect(diagnostics).toEqual([{ file: expect.stringMatching(/broken\.ts$/), line: 2, column: 13, text: expect.stringContaining("Unexpected") }]);
    expect(message).toMatch(/broken\.ts:2:13: error: Unexpected/);
  });

  it("reports an import that does not resolve, and a missing handler file", async () => {
    const file = await handlerFile("lost.ts", 'import { nothing } from "./nowhere.js";\nexport const handler = async () => nothing;\n');
    const err = (await bundleHandler(file, { outDir }).catch((e: unknown) => e)) as BundleError;
    expect(err.message).toMatch(/lost\.ts:1:\d+: error: Could not resolve "\.\/nowhere\.js"/);
    const missing = (await bundleHandler(join(work, "src", "absent.ts"), { outDir }).catch((e: unknown) => e)) as BundleError;
    expect(missing).toBeInstanceOf(BundleError);
    expect(missing.message).toMatch(/absent\.ts: error: handler file not found/);
  });

  it("gives a CommonJS handler (.js, .cjs) the named handler export Lambda calls, from a zip that runs alone", async () => {
    for (const name of ["legacy.js", "legacy.cjs"]) {
      const file = await handlerFile(name, 'const greeting = require("node:os").EOL.length > 0 ? "hi" : "";\nexports.handler = async (event) => ({ statusCode: 200, body: greeting + " " + event.who });\n');
      const b = await bundleHandler(file, { outDir });
      const dir = join(work, `run-${name}`);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, "index.mjs"), unzipSync(b.zip)["index.mjs"] ?? new Uint8Array());
      const mod = (await import(pathToFileURL(join(dir, "index.mjs")).href)) as { handler?: (e: unknown) => Promise<{ body: string }> };
      expect(await mod.handler?.({ who: "ann" })).toEqual({ statusCode: 200, body: "hi ann" });
    }
  });

  it("refuses a handler file without a handler export, naming the file", async () => {
    const esm = await handlerFile("nohandler.mjs", "export const main = async () => 1;\n");
    const esmErr = (await bundleHandler(esm, { outDir }).catch((e: unknown) => e)) as BundleError;
    expect(esmErr).toBeInstanceOf(BundleError);
    expect(esmErr.message).toMatch(/nohandler\.mjs: error: no `handler` export/);
    const cjs = await handlerFile("nohandler.cjs", "module.exports.main = async () => 1;\n");
    expect(((await bundleHandler(cjs, { outDir }).catch((e: unknown) => e)) as Error).message).toMatch(/nohandler\.cjs: error: no `handler` export.*exports\.handler = /);
  });

  it("keeps one cache entry per entry and options, and can be cleared", async () => {
    bundleCache.clear();
    const file = await handlerFile("counted.ts", "export const handler = async () => 1;\n");
    await bundleHandler(file, { outDir });
    await bundleHandler(file, { outDir, minify: false });
    expect(bundleCache.size).toBe(2);
    bundleCache.clear();
    expect(bundleCache.size).toBe(0);
  });
});

describe("the bundled chat handlers", () => {
  async function unpack(entry: string, dir: string): Promise<string> {
    const b = await bundleHandler(join(HANDLERS, entry), { outDir });
    const target = join(work, dir);
    await mkdir(target, { recursive: true });
    // Only the code: vitest would look for the map's sources, which the zip does not carry.
    await writeFile(join(target, "index.mjs"), unzipSync(b.zip)["index.mjs"] ?? new Uint8Array());
    return join(target, "index.mjs");
  }

  // Unpacked outside the project, where no node_modules is in reach: the zip must carry the SDK.
  it("run from the zip alone: $default answers over @connections and $connect writes to DynamoDB", async () => {
    const dynamo = await startDynalite();
    const server = await startConnectionsServer();
    server.connect(["zip-me"]);
    try {
      await dynamo.createConnectionsTable("zip-connections");
      for (const [k, v] of Object.entries(handlerEnv(dynamo.endpoint, server.endpoint, "zip-connections"))) vi.stubEnv(k, v);
      vi.spyOn(console, "log").mockImplementation(() => undefined);

      const defaultModule = (await import(pathToFileURL(await unpack("default.ts", "run-default")).href)) as { handler: (e: unknown) => Promise<{ statusCode: number }> };
      const ctx = { connectionId: "zip-me", routeKey: "$default", domainName: "x.example", stage: "prod", identity: { sourceIp: "127.0.0.1" } };
      expect((await defaultModule.handler({ requestContext: ctx, body: "{}" })).statusCode).toBe(200);
      expect(server.deliveredTo("zip-me")).toEqual([expect.objectContaining({ type: "error", actions: ["sendmessage"] })]);
      expect(server.badSignatures).toEqual([]);

      const connectModule = (await import(pathToFileURL(await unpack("connect.ts", "run-connect")).href)) as { handler: (e: unknown) => Promise<{ statusCode: number }> };
      expect((await connectModule.handler({ requestContext: { ...ctx, routeKey: "$connect" } })).statusCode).toBe(200);
      expect(await dynamo.connectionIds("zip-connections")).toEqual(["zip-me"]);
    } finally {
      vi.restoreAllMocks();
      await server.close();
      await dynamo.close();
    }
  });
});

describe("bundleHandlers", () => {
  it("builds several handlers in one go, each zip identical to its own build", async () => {
    const entries = ["connect", "default"].map((h) => join(HANDLERS, `${h}.ts`));
    const together = await bundleHandlers(entries, { outDir, cache: false });
    const alone = await Promise.all(entries.map((e) => bundleHandler(e, { outDir, cache: false })));
    expect(together.map((r) => (r.status === "fulfilled" ? r.value.sha256 : "failed"))).toEqual(alone.map((b) => b.sha256));
    const files = unzipSync(together[0]!.status === "fulfilled" ? together[0]!.value.zip : new Uint8Array());
    expect(Object.keys(files).sort()).toEqual(["index.mjs", "index.mjs.map"]);
    expect(Buffer.from(files["index.mjs"]!).toString("utf8")).toMatch(/\/\/# sourceMappingURL=index\.mjs\.map\s*$/);
  });

  it("reports a handler that does not compile against that handler, and still bundles the others", async () => {
    const good = await handlerFile("fine.ts", "export async function handler() { return { statusCode: 200 }; }\n");
    const bad = await handlerFile("broken2.ts", "export async function handler() {\n  return { statusCode: 200 ;\n}\n");
    const [ok, failed] = await bundleHandlers([good, bad], { outDir, cache: false });
    expect(ok?.status).toBe("fulfilled");
    expect(failed?.status).toBe("rejected");
    const reason = failed?.status === "rejected" ? (failed.reason as BundleError) : undefined;
    expect(reason).toBeInstanceOf(BundleError);
    expect(reason?.message).toMatch(/broken2\.ts:2:\d+: error:/);
  });
});
