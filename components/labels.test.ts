import { describe, expect, it } from "vitest";
import { chartLabels, k8sLabels } from "./labels";

describe("chartLabels", () => {
  it("keeps the cost labels and leaves every app.kubernetes.io/* key to the chart", () => {
    const labels = k8sLabels({ environment: "production", costCenter: "platform-processing", team: "platform" }, "keda", "autoscaler");
    expect(chartLabels(labels)).toEqual({ "pitchey.io/environment": "production", "pitchey.io/cost-center": "platform-processing", "pitchey.io/team": "platform" });
  });
});
