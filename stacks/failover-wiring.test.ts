import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { main as policyCli } from "../policies/src/cli";
import { stackConfig } from "./config/test-support";
import { originHostOf } from "./edge";
import { drWithPhase, weightsByOrigin } from "./failover.shared";
import { planRecords, runPlan } from "./plan/run";

// Only phases 10 and 50 are planned here; phase 100 is planned once for the database's promotion in
// database.test.ts, which checks its weights with the same helper.
const plans = new Map<number, Awaited<ReturnType<typeof runPlan>>["resources"]>();
beforeAll(async () => {
  for (const phase of [10, 50]) plans.set(phase, (await runPlan("dr", drWithPhase(phase))).resources);
}, 300_000);

describe("failover.phase drives the global load balancer in the dr plan", () => {
  const prodOrigin = originHostOf(stackConfig("prod"));
  const drOrigin = originHostOf(stackConfig("dr"));

  it("names both regions' origins, prod's through the StackReference", () => {
    expect(prodOrigin).not.toBe(drOrigin);
    expect(Object.keys(weightsByOrigin(plans.get(50)!)).sort()).toEqual([drOrigin, prodOrigin].sort());
  });

  it("phase 10 sends 90 % to prod and 10 % to dr", () => {
    expect(weightsByOrigin(plans.get(10)!)).toEqual({ [prodOrigin]: 0.9, [drOrigin]: 0.1 });
  });

  it("phase 50 splits traffic evenly", () => {
    expect(weightsByOrigin(plans.get(50)!)).toEqual({ [prodOrigin]: 0.5, [drOrigin]: 0.5 });
  });
});


describe("the dr plan under the policy CLI", () => {
  it("records each StackReference with the URN and parent the engine gives a read resource, and `npm run policy` reads the file", () => {
    const records = planRecords(plans.get(10)!);
    const refs = records.filter((r) => r.type === "pulumi:pulumi:StackReference");
    // One for the edge's primary origin, one for the database's archive.
    expect(refs.map((r) => r.name).sort()).toEqual(["pitchey/pitchey-containers/prod", "primary-stack"]);
    for (const r of refs) {
      expect(r.urn).toBe(`urn:pulumi:dr::pitchey-containers::pulumi:pulumi:Stack$pulumi:pulumi:StackReference::${r.name}`);
      expect(r.parent).toBe("urn:pulumi:dr::pitchey-containers::pulumi:pulumi:Stack::pitchey-containers-dr");
    }
    expect(records.filter((r) => !r.urn)).toEqual([]);
    const dir = mkdtempSync(join(tmpdir(), "dr-plan-"));
    try {
      const file = join(dir, "resources.json");
      writeFileSync(file, JSON.stringify(records));
      const out: string[] = [];
      const err: string[] = [];
      const code = policyCli([file], (s) => out.push(s), (s) => err.push(s));
      expect(err).toEqual([]);
      expect(out.join("\n")).toMatch(/\b0 mandatory violation\(s\)/);
      expect(code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
