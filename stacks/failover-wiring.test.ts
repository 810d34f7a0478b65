import { beforeAll, describe, expect, it } from "vitest";
import { stackConfig } from "./config/test-support";
import { originHostOf } from "./edge";
import { drWithPhase, weightsByOrigin } from "./failover.shared";
import { runPlan } from "./plan/run";

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

