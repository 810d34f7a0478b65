import { describe, expect, it } from "vitest";
import { k8sLabels } from "../labels";
import { kedaValues } from "./index";

const labels = k8sLabels({ environment: "production", costCenter: "platform-processing", team: "platform" }, "keda", "autoscaler");

describe("KEDA chart values", () => {
  it("add only the cost labels: the chart writes app.kubernetes.io/* on every object, and a second name would replace its own", () => {
    const v = kedaValues(labels) as any;
    expect(v.additionalLabels).toEqual({ "pitchey.io/environment": "production", "pitchey.io/cost-center": "platform-processing", "pitchey.io/team": "platform" });
  });

  it("run two replicas of each Deployment under restricted security contexts", () => {
    const v = kedaValues(labels) as any;
    expect([v.operator.replicaCount, v.metricsServer.replicaCount, v.webhooks.replicaCount]).toEqual([2, 2, 2]);
    for (const c of ["operator", "metricServer", "webhooks"]) {
      expect(v.securityContext[c]).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    }
  });
});
