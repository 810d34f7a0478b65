import pulumi from "@pulumi/eslint-plugin";
import importPlugin from "eslint-plugin-import";
import tseslint from "typescript-eslint";

/**
 * Imports run one way: the composition roots in stacks/ use components/, never the reverse, so every component
 * can be used by a program that has none of this repository's stack config.
 */
export const boundaryRule = {
  "import/no-restricted-paths": [
    "error",
    {
      zones: [
        {
          target: "./components",
          from: "./stacks",
          message: "components/ must not import stacks/: declare the argument type in the component and map stack config onto it in stacks/",
        },
        {
          target: "./docs/examples",
          from: "./stacks",
          message: "the examples show the components standing alone: use their arguments, not the stack config",
        },
      ],
    },
  ],
};

export default tseslint.config(
  { ignores: ["**/node_modules/**", "out/**", "**/dist/**", "**/vitest.config.mts", "**/*.mjs", "**/*.js"] },
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    languageOptions: {
      parserOptions: {
        project: ["./tsconfig.json", "./policies/tsconfig.json", "./images/tsconfig.test.json"],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { "@pulumi": pulumi, import: importPlugin },
    settings: { "import/resolver": { node: { extensions: [".ts", ".js", ".json"] } } },
    rules: {
      "@pulumi/no-output-in-template-literal": "error",
      "@pulumi/no-output-instance-in-template-literal": "error",
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      ...boundaryRule,
    },
  },
);
