import { describe, expect, it } from "vitest";
import { allPolicies } from "../policies";
import { compliantStack, run, type Case } from "./util";

/** For each policy: the compliant stack passes, and each case's single mutation makes it fire against the culprit. */
export function describePolicies(cases: Record<string, Case[]>): void {
    for (const [name, list] of Object.entries(cases)) {
        const policy = allPolicies.find((p) => p.name === name);
        describe(name, () => {
            it("is registered in the pack", () => {
                expect(policy, `policy ${name} is not in allPolicies`).toBeDefined();
            });
            if (!policy) return;
            it("accepts the compliant stack", () => {
                expect(run(policy, compliantStack())).toEqual([]);
            });
            it.each(list.map((c) => [c.name, c] as const))("fires when %s", (_n, c) => {
                const stack = compliantStack();
                c.mutate(stack);
                const culprit = stack.find((r) => r.name === c.culprit);
                expect(culprit, `culprit ${c.culprit} missing after mutation`).toBeDefined();
                const violations = run(policy, stack, c.config);
                expect(violations.map((v) => v.urn)).toContain(culprit!.urn);
                for (const v of violations) {
                    expect(v.policy).toBe(name);
                    expect(v.enforcement).toBe(policy.enforcementLevel);
                    expect(v.message.length).toBeGreaterThan(10);
                }
            });
        });
    }
}
