import { describe, expect, it } from "vitest";
import { ceilingWithinBudget, costPerJob, floorHeadroom } from "../cost/budget";
import { describePolicies } from "./harness";
import { costCases, gcpBudget } from "./cases/cost";
import { compliantStack, find, run } from "./util";

describePolicies(costCases);

describe("cost policies against the compliant stack's own estimate", () => {
    it("do not apply to a stack that declares no budget", () => {
        expect(run(ceilingWithinBudget, compliantStack())).toEqual([]);
        expect(run(floorHeadroom, compliantStack())).toEqual([]);
    });

    it("pass a budget above the ceiling and name the figures when the ceiling is over", () => {
        const s = compliantStack();
        s.push(gcpBudget("budget", 100_000));
        expect(run(ceilingWithinBudget, s)).toEqual([]);
        find(s, "budget").props.amount.specifiedAmount.units = "10";
        const [v] = run(ceilingWithinBudget, s);
        expect(v.message).toMatch(/^Estimated monthly ceiling \$[\d,]+\.\d\d exceeds the budget \$10\.00 \(cost\.monthlyBudgetUsd\)\. Largest: /);
        expect(v.urn).toBe(find(s, "budget").urn);
    });

    it("takes the floor share from the pack's config", () => {
        const s = compliantStack();
        s.push(gcpBudget("budget", 100));
        const floorPct = Number(/is (\d+) % of the budget/.exec(run(floorHeadroom, s)[0].message)![1]);
        expect(run(floorHeadroom, s, { "cost-floor-headroom": { floorShare: (floorPct + 5) / 100 } })).toEqual([]);
    });

    it("judges a job at the processor's p95 against $0.25, or the configured limit", () => {
        const s = compliantStack();
        costCases["cost-per-job-at-p95"][0].mutate(s);
        expect(run(costPerJob, s)[0].message).toMatch(/^video-processor: a job at its p95 \(3600 s\) costs \$3\.60 at 0\.001 USD\/s, above \$0\.25\.$/);
        expect(run(costPerJob, s, { "cost-per-job-at-p95": { maxCostPerJobUsd: 5 } })).toEqual([]);
    });
});
