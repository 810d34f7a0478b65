import { SPOT_FALLBACK_POOL, type Cloud, type PoolName, type PoolScheduling, type Taint } from "./types";

export type { Cloud } from "./types";

/** The label every pool carries on both clouds; workloads select on it, so a placement rule is cloud-neutral. */
export const POOL_LABEL = "pitchey.io/pool";

/** The node label and taint key GKE matches a ComputeClass's manually created node pools by. */
export const COMPUTE_CLASS_KEY = "cloud.google.com/compute-class";

/** The GKE ComputeClass that ranks the spot pool above its on-demand fallback when the autoscaler adds nodes. */
export const SPOT_FIRST_CLASS = "pitchey-spot-first";

/** GKE repels every pod but the class's own from a ComputeClass's pools with this taint (and tolerates it for them). */
export const SPOT_FIRST_TAINT: Taint = { key: COMPUTE_CLASS_KEY, value: SPOT_FIRST_CLASS, effect: "NoSchedule" };

/**
 * Taints per pool and cloud. GKE's are the ones GKE itself uses (the playbook's spot taint; GKE adds the GPU and
 * sandbox taints to such pools). EKS has no built-in equivalents, so the spot and sandbox keys live in our own
 * `pitchey.io/` namespace: EKS rejects node-group taints and labels under its reserved prefixes, and a key we own
 * cannot collide with a taint another controller adds or removes.
 */
export const POOL_TAINTS: Record<Cloud, Record<PoolName, readonly Taint[]>> = {
  gcp: {
    general: [],
    // The spot pool belongs to the spot-first ComputeClass, whose node pools GKE requires to carry its taint.
    spot: [{ key: "cloud.google.com/gke-spot", value: "true", effect: "NoSchedule" }, SPOT_FIRST_TAINT],
    gpu: [{ key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" }],
    sandbox: [{ key: "sandbox.gke.io/runtime", value: "gvisor", effect: "NoSchedule" }],
  },
  aws: {
    general: [],
    spot: [{ key: "pitchey.io/spot", value: "true", effect: "NoSchedule" }],
    gpu: [{ key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" }],
    sandbox: [{ key: "pitchey.io/sandbox", value: "gvisor", effect: "NoSchedule" }],
  },
};

/**
 * Seconds a pod gets to drain when its node is reclaimed. GKE's graceful node shutdown gives non-system pods
 * 15 s of a spot VM's 30 s notice; on EKS the termination handler cordons and drains on the 2-minute notice.
 */
export const SPOT_DRAIN_SECONDS: Record<Cloud, number> = { gcp: 15, aws: 120 };

/** Name of the node pool / node group resource for a pool; cloud labels below refer to it. */
export function poolResourceName(cloud: Cloud, clusterName: string, pool: PoolName): string {
  return cloud === "gcp" ? pool : `${clusterName}-${pool}`;
}

/** Labels set on the pool's nodes by this program (what the pool resource declares). */
export function declaredPoolLabels(cloud: Cloud, pool: PoolName): Record<string, string> {
  const labels: Record<string, string> = { [POOL_LABEL]: pool };
  if (cloud === "gcp" && pool === "spot") labels[COMPUTE_CLASS_KEY] = SPOT_FIRST_CLASS;
  // The NVIDIA device plugin chart's default node affinity looks for this label; GKE sets its own GPU labels.
  if (cloud === "aws" && pool === "gpu") labels["nvidia.com/gpu.present"] = "true";
  return labels;
}

/**
 * Labels the cloud adds to every node of the pool: documented, stable ones that follow from the pool's own
 * declaration (its name, capacity type, sandbox), so anything reading the plan can derive them too.
 */
function cloudPoolLabels(cloud: Cloud, clusterName: string, pool: PoolName): Record<string, string> {
  const name = poolResourceName(cloud, clusterName, pool);
  if (cloud === "gcp") {
    const labels: Record<string, string> = { "cloud.google.com/gke-nodepool": name };
    if (pool === "spot") labels["cloud.google.com/gke-spot"] = "true";
    if (pool === "sandbox") labels["sandbox.gke.io/runtime"] = "gvisor";
    return labels;
  }
  return {
    "eks.amazonaws.com/nodegroup": name,
    "eks.amazonaws.com/capacityType": pool === "spot" ? "SPOT" : "ON_DEMAND",
  };
}

/** What a workload needs to land on `pool`: every label its nodes carry and every taint it must tolerate. */
export function poolScheduling(cloud: Cloud, pool: PoolName, clusterName: string): PoolScheduling {
  return {
    name: pool,
    labels: { ...cloudPoolLabels(cloud, clusterName, pool), ...declaredPoolLabels(cloud, pool) },
    taints: POOL_TAINTS[cloud][pool],
    ...(pool === "spot" ? { drainSeconds: SPOT_DRAIN_SECONDS[cloud] } : {}),
  };
}

/**
 * GKE's on-demand pool behind the spot pool: in the spot-first ComputeClass only, with no spot taint, so the class's
 * pods fall back to it when spot capacity is short and nothing else lands there.
 */
export function gkeSpotFallbackScheduling(): PoolScheduling {
  return {
    name: SPOT_FALLBACK_POOL,
    labels: { "cloud.google.com/gke-nodepool": SPOT_FALLBACK_POOL, [POOL_LABEL]: SPOT_FALLBACK_POOL, [COMPUTE_CLASS_KEY]: SPOT_FIRST_CLASS },
    taints: [SPOT_FIRST_TAINT],
  };
}

/** Kubernetes toleration for a taint, in the shape a pod spec takes. */
export function toleration(t: Taint): { key: string; operator: "Equal"; value: string; effect: Taint["effect"] } {
  return { key: t.key, operator: "Equal", value: t.value, effect: t.effect };
}

/** GKE and EKS spell taint effects in upper snake case. */
export function cloudTaintEffect(effect: Taint["effect"]): "NO_SCHEDULE" | "PREFER_NO_SCHEDULE" | "NO_EXECUTE" {
  return effect === "NoSchedule" ? "NO_SCHEDULE" : effect === "PreferNoSchedule" ? "PREFER_NO_SCHEDULE" : "NO_EXECUTE";
}
