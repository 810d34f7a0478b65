import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";

const root = join(__dirname, "..", "..");
const work = mkdtempSync(join(tmpdir(), "plan-cli-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function plan(args: string[]) {
  return spawnSync(process.execPath, [join(root, "node_modules/tsx/dist/cli.mjs"), join(root, "stacks/plan/cli.ts"), ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 120_000,
  });
}

function prodWith(mutate: (config: Record<string, any>) => void): string {
  const doc = parse(readFileSync(join(root, "Pulumi.prod.yaml"), "utf8"));
  mutate(doc.config);
  const file = join(work, `cfg-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, stringify(doc));
  return file;
}

describe("npm run plan with a bad --config", () => {
  it("exits non-zero naming the key, and writes nothing", () => {
    const file = prodWith((c) => {
      c["pitchey-containers:processors"]["video-processor"].scaling = { minReplicas: 12 };
    });
    const out = join(work, "out-bad");
    const r = plan(["--config", file, "--out", out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("processors.video-processor.scaling.minReplicas: must be ≤ maxReplicas (10), got 12");
    expect(existsSync(out)).toBe(false);
  });

  it("refuses a misspelt top-level key", () => {
    const file = prodWith((c) => {
      c["pitchey-containers:procesors"] = {};
    });
    const r = plan(["--config", file, "--out", join(work, "out-typo")]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("procesors: unknown key");
  });

  it("refuses unknown flags and a missing config file", () => {
    expect(plan(["--stak", "prod"]).status).toBe(2);
    const missing = plan(["--config", join(work, "nope.yaml")]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("nope.yaml: cannot read stack config");
    expect(missing.stderr).not.toContain("    at ");
  });
});
