import { describe, expect, it } from "vitest";
import { failoverPhase, standbyFloor, type FailoverPhase } from "./failover";

describe("failover phases", () => {
  it.each([
    [0, 1, 0, false],
    [10, 0.9, 0.1, false],
    [50, 0.5, 0.5, false],
    [100, 0, 1, true],
  ] as const)("phase %i sends %f to the primary and %f to the standby; promotes: %s", (phase, primary, standby, promote) => {
    const p = failoverPhase(phase);
    expect(p.poolWeights).toEqual({ primary, standby });
    expect(p.poolWeights.primary + p.poolWeights.standby).toBeCloseTo(1, 12);
    expect(p.promoteStandbyDatabase).toBe(promote);
  });

  it("refuses any other phase, naming the key", () => {
    expect(() => failoverPhase(20 as FailoverPhase)).toThrow("failover.phase: expected one of 0, 10, 50, 100, got 20");
  });

  it("raises the standby's floors with its share of traffic, never below warm or above max", () => {
    // code-executor: production floor 5, warm 1, max 50.
    expect([0, 10, 50, 100].map((p) => standbyFloor(p as FailoverPhase, 1, 5, 50))).toEqual([1, 1, 3, 5]);
    expect(standbyFloor(100, 1, 5, 4)).toBe(4);
    expect(standbyFloor(10, 2, 3, 10)).toBe(2);
  });
});
