import {
  CLUSTER_ARG_DEFAULTS,
  commonProblems,
  poolProblems,
  resolvePools,
  throwIfProblems,
  type AuthorizedNetwork,
  type ClusterCommonArgs,
  type NodePoolArgs,
  type ResolvedCommonArgs,
} from "./args";
import { accountIdProblem } from "./gke-identities";
import { POOL_NAMES, type PoolName } from "./types";

/** A GKE node pool. */
export interface GkeNodePoolArgs extends NodePoolArgs {
  /** Accelerator type such as `nvidia-l4`; required on the gpu pool when `gpuCount` > 0. Default: none. */
  readonly gpuType?: string;
  /** Zones the pool's nodes run in (e.g. where its accelerator is offered). Default: every zone of the region. */
  readonly zones?: readonly string[];
}

export interface GkeNetworkArgs {
  /** The node subnet. Default: 10.10.0.0/20. */
  readonly nodesCidr?: string;
  /** Secondary range for pods. Default: 10.20.0.0/14. */
  readonly podsCidr?: string;
  /** Secondary range for Services. Default: 10.30.0.0/20. */
  readonly servicesCidr?: string;
  /** The private control plane's /28. Default: 172.16.0.32/28. */
  readonly masterCidr?: string;
}

/** Arguments of `GkeCluster`: only what GKE uses. */
export interface GkeClusterArgs extends ClusterCommonArgs {
  /** Cluster name; also names the VPC, the registry, the key ring and the node service account. Required. */
  readonly name: string;
  /** GCP project id. Required. */
  readonly project: string;
  /** Region of the (regional) cluster. Required. */
  readonly region: string;
  /** CIDRs allowed to reach the Kubernetes API; at least one. Required. */
  readonly authorizedNetworks: readonly AuthorizedNetwork[];
  /** GKE release channel. Default: `REGULAR`. */
  readonly releaseChannel?: "RAPID" | "REGULAR" | "STABLE";
  /** Minimum control-plane version; the release channel upgrades past it. Default: `KUBERNETES_VERSION` (1.35). */
  readonly kubernetesVersion?: string;
  /** Address plan. Defaults: see `GkeNetworkArgs`. */
  readonly network?: GkeNetworkArgs;
  /**
   * The managed autoscaler's profile (GKE takes no scale-down flags). BALANCED keeps the upstream figures
   * (10 m unneeded time, 0.5 utilization). Default: `BALANCED`.
   */
  readonly autoscalingProfile?: "BALANCED" | "OPTIMIZE_UTILIZATION";
  /** The four pools. Required. */
  readonly nodePools: Readonly<Record<PoolName, GkeNodePoolArgs>>;
}

export const GKE_CLUSTER_DEFAULTS = {
  ...CLUSTER_ARG_DEFAULTS,
  releaseChannel: "REGULAR" as GkeClusterArgs["releaseChannel"] & string,
  network: { nodesCidr: "10.10.0.0/20", podsCidr: "10.20.0.0/14", servicesCidr: "10.30.0.0/20", masterCidr: "172.16.0.32/28" },
  autoscalingProfile: "BALANCED" as "BALANCED" | "OPTIMIZE_UTILIZATION",
};

/** GKE Sandbox names its RuntimeClass; it cannot be chosen. */
export const GKE_SANDBOX_RUNTIME_CLASS = "gvisor";

export type ResolvedGkeNodePool = Required<NodePoolArgs> & GkeNodePoolArgs & { readonly zones: readonly string[] };

export interface ResolvedGkeClusterArgs extends ResolvedCommonArgs {
  readonly name: string;
  readonly project: string;
  readonly region: string;
  readonly authorizedNetworks: readonly AuthorizedNetwork[];
  readonly releaseChannel: "RAPID" | "REGULAR" | "STABLE";
  readonly kubernetesVersion: string;
  readonly network: Required<GkeNetworkArgs>;
  readonly autoscalingProfile: "BALANCED" | "OPTIMIZE_UTILIZATION";
  readonly nodePools: Readonly<Record<PoolName, ResolvedGkeNodePool>>;
}

/** Applies the defaults and checks what the types cannot; every problem is reported at once. */
export function resolveGkeClusterArgs(args: GkeClusterArgs): ResolvedGkeClusterArgs {
  const r: ResolvedGkeClusterArgs = {
    ...GKE_CLUSTER_DEFAULTS,
    ...args,
    network: { ...GKE_CLUSTER_DEFAULTS.network, ...args.network },
    nodePools: resolvePools(args.nodePools, { zones: [] as readonly string[] }),
  };
  const problems = [...commonProblems(r), ...poolProblems(r.nodePools)];
  // Service account ids are project-wide and derived from the cluster's name; say which input makes one invalid.
  const nodes = accountIdProblem(r.name, "nodes");
  if (nodes) problems.push({ propertyPath: "name", reason: nodes });
  r.workloads.forEach((w, i) => {
    const problem = accountIdProblem(r.name, w.name);
    if (problem) problems.push({ propertyPath: `workloads[${i}].name`, reason: problem });
  });
  if (!r.project) problems.push({ propertyPath: "project", reason: "required" });
  const gpu = r.nodePools.gpu;
  if (gpu && gpu.gpuCount > 0 && !gpu.gpuType) {
    problems.push({ propertyPath: "nodePools.gpu.gpuType", reason: "required when gpuCount > 0 (an accelerator type such as nvidia-l4)" });
  }
  for (const pool of POOL_NAMES) {
    if (pool !== "gpu" && r.nodePools[pool]?.gpuType) {
      problems.push({ propertyPath: `nodePools.${pool}.gpuType`, reason: "GPUs belong to the gpu pool only" });
    }
    r.nodePools[pool]?.zones.forEach((zone, i) => {
      if (!zone.startsWith(`${r.region}-`)) {
        problems.push({ propertyPath: `nodePools.${pool}.zones[${i}]`, reason: `must be a zone of region ${r.region}, got ${zone}` });
      }
    });
  }
  throwIfProblems("GkeCluster", problems);
  return r;
}
