import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { allPolicies } from "../policies";
import { evaluatePlan } from "../evaluate";
import { compliantStack } from "./util";
import { allCases, defectiveStack } from "./cases";

describe("the pack as a whole", () => {
    it("has at least 40 policies with unique names", () => {
        const names = allPolicies.map((p) => p.name);
        expect(names.length).toBeGreaterThanOrEqual(40);
        expect(new Set(names).size).toBe(names.length);
    });

    it("gives every policy an enforcement level, a source, a reason and a fix", () => {
        for (const p of allPolicies) {
            expect(["mandatory", "advisory"], p.name).toContain(p.enforcementLevel);
            expect(p.meta.source.length, p.name).toBeGreaterThan(5);
            expect(p.meta.why.length, p.name).toBeGreaterThan(20);
            expect(p.remediationSteps?.length ?? 0, p.name).toBeGreaterThan(10);
        }
    });

    it("has a happy path and at least one violating case for every policy", () => {
        const missing = allPolicies.filter((p) => (allCases[p.name]?.length ?? 0) === 0).map((p) => p.name);
        expect(missing).toEqual([]);
        const unknown = Object.keys(allCases).filter((n) => !allPolicies.some((p) => p.name === n));
        expect(unknown).toEqual([]);
    });

    it("reports nothing on the compliant stack", () => {
        expect(evaluatePlan(compliantStack()).violations).toEqual([]);
    });

    it("fires every policy at least once on the defective fixture stack", () => {
        const report = evaluatePlan(defectiveStack());
        const fired = new Set(report.violations.map((v) => v.policy));
        expect(allPolicies.map((p) => p.name).filter((n) => !fired.has(n))).toEqual([]);
        expect(report.policies).toBe(allPolicies.length);
    });
});

describe("policies/fixtures", () => {
    it("hold the current compliant and defective stacks (run `npm run -w @pitchey/policies fixtures`)", () => {
        const dir = resolve(__dirname, "../../fixtures");
        expect(JSON.parse(readFileSync(resolve(dir, "compliant-resources.json"), "utf8"))).toEqual(compliantStack());
        expect(JSON.parse(readFileSync(resolve(dir, "defective-resources.json"), "utf8"))).toEqual(defectiveStack());
    });
});
