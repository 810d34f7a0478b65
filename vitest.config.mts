import os from "node:os";
import path from "node:path";
import { defineConfig } from "vitest/config";

// Tests find the Debian tools of scripts/debian-tools.txt by name: the set-up step's .tools/bin comes first.
process.env.PATH = [path.join(import.meta.dirname, ".tools", "bin"), process.env.PATH].join(path.delimiter);

export default defineConfig({
  test: {
    // vitest's default for a run is one worker fewer than the cores: a single one on two. Most files here wait on
    // PostgreSQL, child processes and timers as much as they compute, so as many workers as cores (two at least)
    // overlap those waits; the CPU-bound files (ffmpeg, QuickJS) are few.
    maxWorkers: Math.max(2, os.availableParallelism()),
    projects: [
      {
        test: {
          name: "infra",
          include: ["stacks/**/*.test.ts", "components/**/*.test.ts", "scripts/**/*.test.ts", "docs/examples/**/*.test.ts"],
          // Several files run whole plans in child processes; on a busy two-core machine one takes over a minute.
          testTimeout: 120_000,
        },
      },
      "images/vitest.config.mts",
      "policies/vitest.config.mts",
    ],
  },
});
