import { describe, expect, it } from "vitest";
import { k8sLabels } from "../labels";
import { barmanCloudValues, cnpgOperatorValues } from "./index";

const labels = k8sLabels({ environment: "production", costCenter: "platform-processing", team: "platform" }, "cloudnative-pg", "database-operator");
const cost = { "pitchey.io/environment": "production", "pitchey.io/cost-center": "platform-processing", "pitchey.io/team": "platform" };

describe("CloudNativePG chart values", () => {
  it("label the operator's pods through podLabels: the chart has no commonLabels, so a value of that name was ignored", () => {
    const v = cnpgOperatorValues(labels);
    expect(v).not.toHaveProperty("commonLabels");
    expect(v.podLabels).toEqual(cost);
    expect(v).toMatchObject({ replicaCount: 2, crds: { create: true }, monitoring: { podMonitorEnabled: false } });
  });

  it("label the Barman Cloud plugin's pods through podLabels, for the same reason", () => {
    const v = barmanCloudValues(labels);
    expect(v).toEqual({ podLabels: cost });
  });
});
