import { describe, expect, it } from "vitest";
import { allPolicies } from "../policies";
import { describePolicies } from "./harness";
import { networkCases } from "./cases/network";
import { compliantStack, res, run } from "./util";

describePolicies(networkCases);

describe("k8s-namespace-default-deny on a namespace an operator runs pods in", () => {
    const policy = allPolicies.find((p) => p.name === "k8s-namespace-default-deny")!;

    it("accepts a CloudNativePG cluster's namespace that denies both ways by default", () => {
        const stack = compliantStack();
        stack.push(res("kubernetes:core/v1:Namespace", "jobs-db-ns", { metadata: { name: "jobs-db" } }));
        stack.push(res("kubernetes:postgresql.cnpg.io/v1:Cluster", "jobs-db-cluster", { metadata: { name: "jobs-db", namespace: "jobs-db" }, spec: { instances: 3 } }));
        stack.push(res("kubernetes:networking.k8s.io/v1:NetworkPolicy", "jobs-db-default-deny", { metadata: { name: "default-deny", namespace: "jobs-db" }, spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } }));
        expect(run(policy, stack)).toEqual([]);
    });

    it("names the missing direction", () => {
        const stack = compliantStack();
        stack.push(res("kubernetes:postgresql.cnpg.io/v1:Cluster", "jobs-db-cluster", { metadata: { name: "jobs-db", namespace: "jobs-db" }, spec: { instances: 3 } }));
        stack.push(res("kubernetes:networking.k8s.io/v1:NetworkPolicy", "jobs-db-default-deny-ingress", { metadata: { name: "default-deny-ingress", namespace: "jobs-db" }, spec: { podSelector: {}, policyTypes: ["Ingress"] } }));
        expect(run(policy, stack).map((v) => v.message)).toEqual(["Namespace jobs-db runs workloads but has no default-deny Egress NetworkPolicy."]);
    });
});
