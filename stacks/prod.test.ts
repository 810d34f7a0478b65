import { beforeAll, describe, expect, it } from "vitest";
import { monitoringChecks, stackRaw } from "./monitoring.shared";
import { planStack } from "./plan/wholeStack";
import { stackConfig } from "./config/test-support";
import { edgeChecks } from "./edge.shared";
import { commonStackChecks, placementMatchesPools, renderingChecks } from "./stack.shared";

let plan: Awaited<ReturnType<typeof planStack>>;
beforeAll(async () => {
  plan = await planStack("prod");
}, 120_000);

describe("prod stack (GKE, us-west1)", () => {
  commonStackChecks(() => plan, /^us-west1-docker\.pkg\.dev\/pitchey-prod\//);
  renderingChecks(() => plan);
  monitoringChecks(() => plan, () => stackRaw("prod"));
  edgeChecks(() => plan, () => stackConfig("prod"), "primary");
  placementMatchesPools(
    () => plan,
    "gcp:container/nodePool:NodePool",
    (p) => ({ labels: p.nodeConfig.labels, taints: p.nodeConfig.taints ?? [] }),
  );

  it("is built on GCP only", () => {
    const providers = new Set(plan.resources.filter((r) => r.custom).map((r) => r.type.split(":")[0]));
    expect(providers.has("gcp")).toBe(true);
    expect(providers.has("aws")).toBe(false);
    expect(plan.ofType("gcp:container/cluster:Cluster")).toHaveLength(1);
  });

  it("runs code-executor under GKE Sandbox's gVisor RuntimeClass", () => {
    const d = plan.k8s("Deployment").find((x) => x.metadata.name === "code-executor");
    expect(d.spec.template.spec.runtimeClassName).toBe("gvisor");
  });

  it("pre-warms video-processor on weekday mornings, Pacific time", () => {
    const so = plan.k8s("ScaledObject").find((x) => x.metadata.name === "video-processor");
    expect(so.spec.triggers.find((t: any) => t.type === "cron").metadata).toEqual({
      timezone: "America/Los_Angeles",
      start: "0 8 * * 1-5",
      end: "0 11 * * 1-5",
      desiredReplicas: "4",
    });
  });
});
