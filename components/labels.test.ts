import { describe, expect, it } from "vitest";
import { chartLabels, costLabels, k8sLabels } from "./labels";

describe("chartLabels", () => {
  it("keeps the cost labels and leaves every app.kubernetes.io/* key to the chart", () => {
    const labels = k8sLabels({ environment: "production", costCenter: "platform-processing", team: "platform" }, "keda", "autoscaler");
    expect(chartLabels(labels)).toEqual({ "pitchey.io/environment": "production", "pitchey.io/cost-center": "platform-processing", "pitchey.io/team": "platform" });
  });

  it("is exactly the cost labels: what a chart's pods carry is what the program's own objects carry", () => {
    const ctx = { environment: "dr", costCenter: "platform-processing", team: "platform" };
    expect(chartLabels(k8sLabels(ctx, "loki", "monitoring"))).toEqual(costLabels(ctx));
  });
});
