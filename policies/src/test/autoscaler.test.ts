import { describe, expect, it } from "vitest";
import { graceWithinAutoscalerDrain, spotPreferenceVisibleToAutoscaler } from "../clusters/autoscaler";
import { clusterAutoscaler, compliantStack, computeClass, find, preferSpot, remove, run } from "./util";

/** Happy paths beyond the compliant stack (where no workload prefers spot): each cloud's way of ranking spot first. */
describe("spot-preference-visible-to-autoscaler", () => {
    it("accepts a GKE workload that selects a spot-first ComputeClass", () => {
        const s = compliantStack();
        remove(s, "eks");
        const d = preferSpot(find(s, "video-processor"));
        d.props.spec.template.spec.nodeSelector = { "cloud.google.com/compute-class": "spot-first" };
        s.push(computeClass());
        expect(run(spotPreferenceVisibleToAutoscaler, s)).toEqual([]);
    });

    it("fires on a GKE ComputeClass that ranks the on-demand pool first", () => {
        const s = compliantStack();
        remove(s, "eks");
        const d = preferSpot(find(s, "video-processor"));
        d.props.spec.template.spec.nodeSelector = { "cloud.google.com/compute-class": "spot-first" };
        s.push(computeClass(["general"], ["spot"]));
        expect(run(spotPreferenceVisibleToAutoscaler, s).map((v) => v.message).join("\n")).toMatch(/does not rank spot pools first \(first priority: general\)/);
    });

    it("accepts an EKS autoscaler whose priority expander ranks the spot node group first", () => {
        const s = compliantStack();
        remove(s, "gke");
        preferSpot(find(s, "video-processor"));
        s.push(clusterAutoscaler());
        expect(run(spotPreferenceVisibleToAutoscaler, s)).toEqual([]);
    });
});

describe("workload-grace-within-autoscaler-drain", () => {
    it("accepts an EKS autoscaler that waits as long as the longest grace, without the opt-out", () => {
        const s = compliantStack();
        remove(s, "gke");
        for (const name of ["video-processor", "document-processor", "media-transcoder", "ai-inference", "code-executor"]) {
            delete find(s, name).props.spec.template.metadata.annotations;
        }
        s.push(clusterAutoscaler({ maxGrace: 660 }));
        expect(run(graceWithinAutoscalerDrain, s)).toEqual([]);
    });

    it("takes the shorter limit when GKE is in the stack too", () => {
        const s = compliantStack();
        delete find(s, "ai-inference").props.spec.template.metadata.annotations;
        s.push(clusterAutoscaler({ maxGrace: 3600 }));
        expect(run(graceWithinAutoscalerDrain, s).map((v) => v.message)).toEqual([
            "Deployment processors/ai-inference: terminationGracePeriodSeconds 660 exceeds the 600 s the cluster autoscaler waits before deleting a node it drains.",
        ]);
    });
});
