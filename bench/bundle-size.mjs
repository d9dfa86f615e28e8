// Handler bundle sizes and cold import times, with the AWS SDK bundled and with
// @aws-sdk/* left to the runtime. Prints the table in BENCHMARKS.md.
//   node bench/bundle-size.mjs [runs=9]
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { unzipSync } from "fflate";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
// Worktrees share one node_modules: a folder per checkout keeps their bundles apart.
const cache = join(root, "node_modules", ".cache", "chatctl-bench", basename(root));
const runs = Number(process.argv[2] ?? 9);

// The bundler itself is TypeScript; compile it on the fly rather than depend on dist/.
await build({ entryPoints: [join(root, "src/bundle/index.ts")], bundle: true, platform: "node", format: "esm", packages: "external", outfile: join(cache, "bundle-lib.mjs"), logLevel: "error" });
const { bundleHandler } = await import(pathToFileURL(join(cache, "bundle-lib.mjs")).href);

const variants = [
  { name: "SDK bundled (default)", external: [] },
  { name: "@aws-sdk/* from runtime", external: ["@aws-sdk/*"] },
];

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

// A fresh process per run: what a Lambda cold start pays to load the module.
function coldImportMs(file) {
  const script = `const t=performance.now();await import(${JSON.stringify(pathToFileURL(file).href)});process.stdout.write(String(performance.now()-t));`;
  const times = [];
  for (let i = 0; i < runs; i++) {
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" } });
    times.push(Number(out.toString()));
  }
  return median(times);
}

console.log(`node ${process.version}, esbuild ${(await import("esbuild")).version}, median of ${runs} cold imports`);
console.log("| handler | variant | zip bytes | index.mjs bytes | index.mjs.map bytes | cold import ms |");
console.log("|---|---|---:|---:|---:|---:|");
for (const handler of ["connect", "disconnect", "sendmessage", "default"]) {
  for (const v of variants) {
    const b = await bundleHandler(join(root, "handlers", `${handler}.ts`), { external: v.external, outDir: join(cache, "zips"), cache: false });
    const files = unzipSync(b.zip);
    // Unpacked inside the project so an external @aws-sdk resolves to node_modules, as it would to the runtime's copy.
    const dir = join(cache, "cold", `${handler}-${v.external.length ? "external" : "bundled"}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
    const ms = coldImportMs(join(dir, "index.mjs"));
    console.log(`| ${handler} | ${v.name} | ${b.size} | ${files["index.mjs"].byteLength} | ${files["index.mjs.map"].byteLength} | ${ms.toFixed(1)} |`);
  }
}
