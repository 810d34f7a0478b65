import { beforeAll, describe, expect, it } from "vitest";
import { monitoringChecks, stackRaw } from "./monitoring.shared";
import { planStack } from "./plan/wholeStack";
import { clusterStateBackupChecks } from "./velero.shared";
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
  clusterStateBackupChecks(() => plan, "gcp");
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

  it("adds spot nodes first: spot-preferring processors select a ComputeClass ranking the spot pool above its on-demand fallback", () => {
    const [cls] = plan.k8s("ComputeClass");
    expect(cls.apiVersion).toBe("cloud.google.com/v1");
    expect(cls.spec.priorities).toEqual([{ nodepools: ["spot"] }, { nodepools: ["spot-fallback"] }]);
    expect(cls.spec.whenUnsatisfiable).toBe("DoNotScaleUp");
    expect(cls.spec.nodePoolAutoCreation).toEqual({ enabled: false });
    const pools = Object.fromEntries(plan.ofType("gcp:container/nodePool:NodePool").map((r) => [(r.props as any).name, r.props as any]));
    // GKE uses a manually created pool for a class only when the pool carries the class's label and taint.
    for (const name of cls.spec.priorities.flatMap((p: any) => p.nodepools)) {
      expect(pools[name].nodeConfig.labels["cloud.google.com/compute-class"], name).toBe(cls.metadata.name);
      expect(pools[name].nodeConfig.taints, name).toContainEqual({ key: "cloud.google.com/compute-class", value: cls.metadata.name, effect: "NO_SCHEDULE" });
    }
    expect(pools.spot.nodeConfig.spot).toBe(true);
    expect(pools["spot-fallback"].nodeConfig.spot).toBeUndefined();
    expect(pools["spot-fallback"].nodeConfig.machineType).toBe(pools.spot.nodeConfig.machineType);
    expect(pools["spot-fallback"].autoscaling).toMatchObject({ totalMinNodeCount: 0, totalMaxNodeCount: pools.spot.autoscaling.totalMaxNodeCount });
    for (const name of ["video-processor", "media-transcoder"]) {
      const spec = plan.k8s("Deployment").find((d) => d.metadata.name === name).spec.template.spec;
      expect(spec.nodeSelector, name).toEqual({ "cloud.google.com/compute-class": cls.metadata.name });
      expect(spec.tolerations, name).toContainEqual({ key: "cloud.google.com/compute-class", operator: "Equal", value: cls.metadata.name, effect: "NoSchedule" });
    }
    // Nothing else may land on the class's pools.
    for (const name of ["document-processor", "ai-inference", "code-executor"]) {
      const spec = plan.k8s("Deployment").find((d) => d.metadata.name === name).spec.template.spec;
      expect(JSON.stringify(spec), name).not.toContain("compute-class");
    }
  });

  it("keeps GKE's autoscaler, which drains for at most 600 s, away from workers whose grace is longer", () => {
    for (const d of plan.k8s("Deployment")) {
      const tpl = d.spec.template;
      const annotation = tpl.metadata.annotations?.["cluster-autoscaler.kubernetes.io/safe-to-evict"];
      expect(annotation, d.metadata.name).toBe(tpl.spec.terminationGracePeriodSeconds > 600 ? "false" : undefined);
    }
    const video = plan.k8s("Deployment").find((d) => d.metadata.name === "video-processor").spec.template;
    expect(video.spec.terminationGracePeriodSeconds).toBe(930);
    expect(video.metadata.annotations["cluster-autoscaler.kubernetes.io/safe-to-evict"]).toBe("false");
  });
});
