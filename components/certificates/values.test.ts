import { describe, expect, it } from "vitest";
import { k8sLabels } from "../labels";
import { certManagerValues } from "./index";

const labels = k8sLabels({ environment: "production", costCenter: "platform-processing", team: "platform" }, "cert-manager", "certificates");
const cost = { "pitchey.io/environment": "production", "pitchey.io/cost-center": "platform-processing", "pitchey.io/team": "platform" };

describe("cert-manager chart values", () => {
  it("label the controller's pods with the cost labels only: its Deployment selects them by the chart's app.kubernetes.io/component", () => {
    const v = certManagerValues(labels) as any;
    expect(v.podLabels).toEqual(cost);
    expect(v.podLabels).not.toHaveProperty("app.kubernetes.io/component");
  });

  it("label the webhook's and the CA injector's pods with the cost labels too", () => {
    const v = certManagerValues(labels) as any;
    expect(v.webhook.podLabels).toEqual(cost);
    expect(v.cainjector.podLabels).toEqual(cost);
  });
});
