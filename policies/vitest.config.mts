import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "policies",
    root: import.meta.dirname,
    include: ["**/*.test.ts"],
    exclude: ["node_modules/**"],
  },
});
