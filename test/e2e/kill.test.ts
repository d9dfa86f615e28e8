import { describe, expect, it } from "vitest";
import { runCli } from "../support/cloud.js";
import { builtCli, chatStackInventory, inventory, spawnCli, STACK_TRACE, withCloud } from "../support/reliability.js";

// A CI runner killed in the middle of apply (SIGKILL: no clean-up, the lock
// left behind): the next apply on the same machine takes over and converges,
// and nothing exists twice.

const SPEC = "specs/chat.yaml";
const STEPS = 32; // a cold apply of specs/chat.yaml

/**
 * Steps to let finish before the kill: drawn from the seed, one seed per third
 * of the apply, so the kills land early, in the middle and late.
 */
function stepsBeforeKill(seed: number, third: number): number {
  let t = (seed + 0x6d2b79f5) >>> 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  const unit = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  const width = Math.floor((STEPS - 1) / SEEDS.length);
  return 1 + third * width + Math.floor(unit * width);
}

const SEEDS = [1, 2, 3];
const CASES = SEEDS.map((seed, third) => ({ seed, after: stepsBeforeKill(seed, third) }));

describe.skipIf(builtCli() === undefined)("apply killed with SIGKILL part-way", () => {
  it.each(CASES)(
    "seed $seed: killed after $after completed steps, the next apply converges",
    async ({ after }) => {
      await withCloud(
        async (cloud) => {
          let killedAt = -1;
          const run = await spawnCli(["apply", "-f", SPEC, "--endpoint-url", cloud.url, "--auto-approve"], {
            onStdout: (soFar, child) => {
              const done = soFar.split("\n").filter((l) => /^\s+✓ /.test(l)).length;
              if (killedAt < 0 && done >= after) {
                killedAt = done;
                child.kill("SIGKILL");
              }
            },
          });
          expect(run.signal, run.stdout + run.stderr).toBe("SIGKILL");
          expect(killedAt).toBeGreaterThanOrEqual(after);
          expect(run.stdout).not.toMatch(/Apply complete/);

          // The killed run's lock names a dead process on this machine: taken over at once.
          const next = await runCli(["apply", "-f", SPEC, "--endpoint-url", cloud.url, "--auto-approve"]);
          expect(next.stdout + next.stderr).not.toMatch(STACK_TRACE);
          expect(next.code, next.stdout + next.stderr).toBe(0);
          expect(next.stdout).toMatch(/Apply complete: \d+ created, \d+ updated, 0 replaced, 0 deleted\./);
          const plan = await runCli(["plan", "-f", SPEC, "--endpoint-url", cloud.url, "--detailed-exitcode"]);
          expect(plan.code, plan.stdout).toBe(0);
          expect(await inventory(cloud)).toEqual(chatStackInventory());
        },
        { callDelayMs: 10 },
      );
    },
    // Two applies of 32 steps with 10 ms per call, on 2 shared cores.
    60_000,
  );
});

if (builtCli() === undefined) {
  describe("apply killed with SIGKILL part-way", () => {
    it.skip("needs dist/ (npm test runs tsc first): dist/cli/main.js is missing", () => {});
  });
}
