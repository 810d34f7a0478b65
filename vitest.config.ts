import { defineConfig } from "vitest/config";

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
