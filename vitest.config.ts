import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // Vitest's default on 2 cores is one worker, and most of a test file's time here is waiting
    // (child processes, sockets, lock leases): two files side by side take 170 s instead of 290 s.
    maxWorkers: 2,
    setupFiles: ["test/setup.ts"],
    // clipanion's ESM build imports a directory, which Node's ESM loader refuses; let vite resolve it.
    server: { deps: { inline: ["clipanion"] } },
  },
});
