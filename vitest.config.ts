import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    setupFiles: ["test/setup.ts"],
    // clipanion's ESM build imports a directory, which Node's ESM loader refuses; let vite resolve it.
    server: { deps: { inline: ["clipanion"] } },
  },
});
