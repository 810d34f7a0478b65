import path from "node:path";
import { defineConfig } from "vitest/config";

// As in the root config: the project's tools first (also when this package is tested on its own).
if (!process.env.PATH?.includes(path.join(import.meta.dirname, "..", ".tools", "bin"))) {
  process.env.PATH = [path.join(import.meta.dirname, "..", ".tools", "bin"), process.env.PATH].join(path.delimiter);
}

export default defineConfig({
  test: {
    name: "images",
    root: import.meta.dirname,
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
