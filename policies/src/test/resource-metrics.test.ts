import { describe, expect, it } from "vitest";
import { metricsApiServed } from "../clusters/resource-metrics";
import { compliantStack, find, remove, res, run } from "./util";

const without = (...names: string[]) => {
    const s = compliantStack();
    for (const n of names) remove(s, n);
    return s;
};

describe("resource-metrics-api-served", () => {
    it("accepts a GKE-only stack: GKE serves metrics.k8s.io itself", () => {
        expect(run(metricsApiServed, without("eks", "metrics-server"))).toEqual([]);
    });

    it("accepts an EKS cluster whose metrics-server comes from the Helm chart", () => {
        const s = without("gke", "metrics-server");
        s.push(res("kubernetes:helm.sh/v3:Release", "metrics-server", { name: "metrics-server", chart: "metrics-server", version: "3.13.0", namespace: "kube-system" }));
        expect(run(metricsApiServed, s)).toEqual([]);
    });

    it("does not apply when nothing scales on cpu or memory", () => {
        const s = without("gke", "metrics-server");
        for (const r of s.filter((x) => x.type === "kubernetes:keda.sh/v1alpha1:ScaledObject")) {
            r.props.spec.triggers = r.props.spec.triggers.filter((t: { type: string }) => t.type === "postgresql");
        }
        expect(run(metricsApiServed, s)).toEqual([]);
    });

    it("names the EKS cluster and the ScaledObjects that cannot be read", () => {
        const [v, ...rest] = run(metricsApiServed, without("gke", "metrics-server"));
        expect(rest).toEqual([]);
        expect(v.urn).toBe(find(compliantStack(), "eks").urn);
        expect(v.message).toMatch(/EKS cluster pitchey-dr serves no metrics\.k8s\.io/);
        expect(v.message).toContain("code-executor");
    });

    it("counts an HPA with a Resource metric as a reader", () => {
        const s = without("gke", "metrics-server");
        for (const r of s.filter((x) => x.type === "kubernetes:keda.sh/v1alpha1:ScaledObject")) r.props.spec.triggers = [];
        s.push(res("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "reporting-hpa", {
            metadata: { name: "reporting", namespace: "processors" },
            spec: { scaleTargetRef: { kind: "Deployment", name: "reporting" }, minReplicas: 2, maxReplicas: 4, metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } }] },
        }));
        expect(run(metricsApiServed, s).map((v) => v.message)).toEqual([expect.stringContaining("reporting")]);
    });
});

describe("gvisor-pinned-release", () => {
    it("accepts a dated point release, written literally or through a pinned release variable", async () => {
        const { gvisorPinnedRelease } = await import("../clusters/sandbox-runtime");
        const { gvisorScript } = await import("./cases/clusters");
        for (const script of [gvisorScript("20260525.0"), gvisorScript("${release}")]) {
            const s = compliantStack();
            find(s, "eks-nodes-lt").props.userData = Buffer.from(script).toString("base64");
            expect(run(gvisorPinnedRelease, s)).toEqual([]);
        }
    });

    it("accepts the user data the cluster component renders for sandbox nodes", async () => {
        const { gvisorPinnedRelease } = await import("../clusters/sandbox-runtime");
        const { sandboxUserData } = await import("../../../components/cluster/gvisor");
        const s = compliantStack();
        find(s, "eks-nodes-lt").props.userData = Buffer.from(sandboxUserData()).toString("base64");
        expect(run(gvisorPinnedRelease, s)).toEqual([]);
    });
});
