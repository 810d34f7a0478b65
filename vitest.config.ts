import path from "node:path";
import { defineConfig } from "vitest/config";

// Tests find the Debian tools of scripts/debian-tools.txt by name: the set-up step's .tools/bin comes first.
process.env.PATH = [path.join(__dirname, ".tools", "bin"), process.env.PATH].join(path.delimiter);

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "infra",
          include: ["stacks/**/*.test.ts", "components/**/*.test.ts"],
          testTimeout: 60_000,
        },
      },
      "images/vitest.config.ts",
      "policies/vitest.config.ts",
    ],
  },
});
