import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { gcpLabels, type LabelContext } from "../labels";
import { movedFrom, type MovedFrom } from "../moved";
import type { ResolvedGkeClusterArgs, ResolvedGkeNodePool } from "./gke-args";
import { cloudTaintEffect, declaredPoolLabels, gkeSpotFallbackScheduling, poolResourceName, poolScheduling } from "./scheduling";
import { POOL_NAMES, SPOT_FALLBACK_POOL, type PoolName } from "./types";

export interface GkeNodePoolInputs {
  readonly cluster: pulumi.Input<string>;
  readonly nodeServiceAccount: pulumi.Input<string>;
  readonly ctx: LabelContext;
}

/** A pool's autoscaling bounds: totals across the region's zones, as the playbook counts nodes. */
function gkeAutoscaling(pool: PoolName, p: ResolvedGkeNodePool): gcp.types.input.container.NodePoolAutoscaling {
  return {
    totalMinNodeCount: p.minNodes,
    totalMaxNodeCount: p.maxNodes,
    // Spot capacity comes from whichever zone has it; on-demand pools stay spread for zone failures.
    locationPolicy: pool === "spot" ? "ANY" : "BALANCED",
  };
}

export function gkeNodePoolArgs(pool: PoolName, cfg: ResolvedGkeClusterArgs, i: GkeNodePoolInputs): gcp.container.NodePoolArgs {
  const p = cfg.nodePools[pool];
  const scheduling = poolScheduling("gcp", pool, cfg.name);
  // GKE taints sandbox pools itself; declaring that taint again is rejected.
  const taints = pool === "sandbox" ? [] : scheduling.taints;
  const sharing =
    p.gpuTimeSlicingReplicas > 1
      ? { gpuSharingConfig: { gpuSharingStrategy: "TIME_SHARING", maxSharedClientsPerGpu: p.gpuTimeSlicingReplicas } }
      : {};
  return {
    name: poolResourceName("gcp", cfg.name, pool),
    project: cfg.project,
    location: cfg.region,
    cluster: i.cluster,
    ...(p.zones.length > 0 ? { nodeLocations: [...p.zones] } : {}),
    initialNodeCount: p.minNodes > 0 ? 1 : 0,
    autoscaling: gkeAutoscaling(pool, p),
    management: { autoRepair: true, autoUpgrade: true },
    upgradeSettings: { strategy: "SURGE", maxSurge: 1, maxUnavailable: 0 },
    nodeConfig: {
      machineType: p.machineType,
      diskSizeGb: p.diskSizeGb,
      diskType: "pd-balanced",
      imageType: "COS_CONTAINERD",
      serviceAccount: i.nodeServiceAccount,
      oauthScopes: ["https://www.googleapis.com/auth/cloud-platform"],
      labels: declaredPoolLabels("gcp", pool),
      taints: taints.map((t) => ({ key: t.key, value: t.value, effect: cloudTaintEffect(t.effect) })),
      resourceLabels: { ...gcpLabels(i.ctx), pool },
      metadata: { "disable-legacy-endpoints": "true" },
      shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
      workloadMetadataConfig: { mode: "GKE_METADATA" },
      ...(pool === "spot" ? { spot: true } : {}),
      ...(pool === "gpu" && p.gpuType && p.gpuCount > 0
        ? {
            guestAccelerators: [
              { type: p.gpuType, count: p.gpuCount, gpuDriverInstallationConfig: { gpuDriverVersion: "LATEST" }, ...sharing },
            ],
          }
        : {}),
      ...(pool === "sandbox" ? { sandboxConfig: { sandboxType: "gvisor" } } : {}),
    },
  };
}

/**
 * The spot pool's on-demand fallback: the spot pool's shape and bound, on-demand, from zero nodes, spread across
 * zones. Its nodes carry only the spot-first class's label and taint, so only pods that select the class land there.
 */
export function gkeSpotFallbackPoolArgs(cfg: ResolvedGkeClusterArgs, i: GkeNodePoolInputs): gcp.container.NodePoolArgs {
  const spot = gkeNodePoolArgs("spot", cfg, i);
  const fallback = gkeSpotFallbackScheduling();
  const nodeConfig = spot.nodeConfig as gcp.types.input.container.NodePoolNodeConfig;
  const onDemand = { ...nodeConfig };
  delete onDemand.spot;
  return {
    ...spot,
    name: SPOT_FALLBACK_POOL,
    initialNodeCount: 0,
    autoscaling: { totalMinNodeCount: 0, totalMaxNodeCount: cfg.nodePools.spot.maxNodes, locationPolicy: "BALANCED" },
    nodeConfig: {
      ...onDemand,
      // GKE sets the node-pool label itself; the pool declares the rest.
      labels: Object.fromEntries(Object.entries(fallback.labels).filter(([k]) => k !== "cloud.google.com/gke-nodepool")),
      taints: fallback.taints.map((t) => ({ key: t.key, value: t.value, effect: cloudTaintEffect(t.effect) })),
      resourceLabels: { ...gcpLabels(i.ctx), pool: SPOT_FALLBACK_POOL },
    },
  };
}

export interface GkeNodePoolsArgs {
  /** The resolved cluster arguments: name, project, region, pools. Required. */
  readonly cluster: ResolvedGkeClusterArgs;
  /** The GKE cluster the pools belong to. Required. */
  readonly clusterName: pulumi.Input<string>;
  /** The node service account. Required. */
  readonly nodeServiceAccount: pulumi.Input<string>;
  /** What the pools wait for (the node account's registry pull grant). Default: none. */
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
  /** Where these resources were declared before this component existed (aliases keep them). Default: none. */
  readonly movedFrom?: MovedFrom;
}

/** One node pool per pool with nodes: shielded, private, autoscaled within the configured bounds. */
export class GkeNodePools extends pulumi.ComponentResource {
  readonly pools: Partial<Record<PoolName, gcp.container.NodePool>>;
  /** The spot pool's on-demand fallback in the spot-first ComputeClass; absent when the spot pool is. */
  readonly spotFallback?: gcp.container.NodePool;

  constructor(name: string, args: GkeNodePoolsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pitchey:cluster:GkeNodePools", name, {}, opts);
    const cfg = args.cluster;
    const inputs = { cluster: args.clusterName, nodeServiceAccount: args.nodeServiceAccount, ctx: cfg.labels };
    const pools: Partial<Record<PoolName, gcp.container.NodePool>> = {};
    for (const pool of POOL_NAMES) {
      // A pool bounded at zero nodes would never schedule anything; leaving it out keeps the plan honest.
      if (cfg.nodePools[pool].maxNodes === 0) continue;
      pools[pool] = new gcp.container.NodePool(
        `${name}-${pool}`,
        gkeNodePoolArgs(pool, cfg, inputs),
        { parent: this, ...movedFrom(args.movedFrom, pool), dependsOn: args.dependsOn, ignoreChanges: ["initialNodeCount", "nodeCount"] },
      );
    }
    this.pools = pools;
    this.spotFallback =
      cfg.nodePools.spot.maxNodes > 0
        ? new gcp.container.NodePool(`${name}-${SPOT_FALLBACK_POOL}`, gkeSpotFallbackPoolArgs(cfg, inputs), {
            parent: this,
            dependsOn: args.dependsOn,
            ignoreChanges: ["initialNodeCount", "nodeCount"],
          })
        : undefined;
    this.registerOutputs({});
  }
}
