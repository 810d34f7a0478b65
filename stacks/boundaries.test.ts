import { join } from "node:path";
import { ESLint } from "eslint";
import { beforeAll, describe, expect, it } from "vitest";

const ROOT = join(__dirname, "..");
let eslint: ESLint;
let boundaryRule: Record<string, unknown>;

beforeAll(async () => {
  const config = await import(join(ROOT, "eslint.config.mjs"));
  boundaryRule = config.boundaryRule;
  const importPlugin = (await import("eslint-plugin-import")).default;
  const tseslint = (await import("typescript-eslint")).default;
  // The project's own rule, without the type-aware rules that need every linted file in a tsconfig.
  eslint = new ESLint({
    cwd: ROOT,
    overrideConfigFile: true,
    overrideConfig: [
      {
        files: ["**/*.ts"],
        languageOptions: { parser: tseslint.parser as any },
        plugins: { import: importPlugin },
        settings: { "import/resolver": { node: { extensions: [".ts", ".js", ".json"] } } },
        rules: boundaryRule as any,
      },
    ],
  });
}, 60_000);

const lint = async (file: string, code: string) => (await eslint.lintText(code, { filePath: join(ROOT, file) }))[0].messages;

describe("import direction", () => {
  it("is part of the project's lint configuration for components", async () => {
    const real = new ESLint({ cwd: ROOT });
    const rules = (await real.calculateConfigForFile(join(ROOT, "components/processor/index.ts"))).rules;
    expect(rules["import/no-restricted-paths"]).toEqual([2, ...(boundaryRule["import/no-restricted-paths"] as unknown[]).slice(1)]);
  });

  it("refuses a component that imports the stack config", async () => {
    const messages = await lint("components/cluster/violating.ts", 'import type { ClusterConfig } from "../../stacks/config";\nexport type X = ClusterConfig;\n');
    expect(messages.map((m) => m.ruleId)).toEqual(["import/no-restricted-paths"]);
    expect(messages[0].message).toContain("components/ must not import stacks/");
  });

  it("refuses a component test that imports the plan", async () => {
    const messages = await lint("components/processor/violating.test.ts", 'import { runPlan } from "../../stacks/plan/run";\nvoid runPlan;\n');
    expect(messages.map((m) => m.ruleId)).toEqual(["import/no-restricted-paths"]);
  });

  it("refuses an example program that reaches into the stack config", async () => {
    const messages = await lint("docs/examples/standalone/violating.ts", 'import { PROCESSOR_DEFAULTS } from "../../../stacks/config";\nvoid PROCESSOR_DEFAULTS;\n');
    expect(messages.map((m) => m.ruleId)).toEqual(["import/no-restricted-paths"]);
  });

  it("lets stacks import components, and components import each other", async () => {
    expect(await lint("stacks/ok.ts", 'import { POOL_NAMES } from "../components/cluster";\nvoid POOL_NAMES;\n')).toEqual([]);
    expect(await lint("components/processor/ok.ts", 'import { POOL_NAMES } from "../cluster/types";\nvoid POOL_NAMES;\n')).toEqual([]);
  });
});
