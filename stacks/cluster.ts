import type * as pulumi from "@pulumi/pulumi";
import {
  EksCluster,
  GkeCluster,
  POOL_NAMES,
  type ClusterCommonArgs,
  type ClusterFacts,
  type EksClusterArgs,
  type GkeClusterArgs,
  type PoolName,
} from "../components/cluster";
import type { ClusterConfig } from "./config";

/** What the composition root asks of a cluster: the stack's `cluster` config plus the program's own needs. */
export interface ClusterRequest extends ClusterCommonArgs {
  /** The parsed `cluster` stack config; `cloud` picks the component. */
  readonly config: ClusterConfig;
  /**
   * The longest `terminationGracePeriodSeconds` the workloads want. EKS raises its autoscaler's drain to it; GKE's
   * cannot be raised, so workloads longer than the cluster's `autoscalerMaxGraceSeconds` opt out of its evictions
   * instead. Default: none.
   */
  readonly longestTerminationGraceSeconds?: number;
}

type Common = Omit<ClusterRequest, "config" | "longestTerminationGraceSeconds">;

/** The autoscaler never drains faster than upstream's 10 minutes; longer when a workload needs it. */
export const AUTOSCALER_DEFAULT_MAX_GRACE_SECONDS = 600;

const eachPool = <T>(f: (pool: PoolName) => T): Record<PoolName, T> =>
  Object.fromEntries(POOL_NAMES.map((pool) => [pool, f(pool)])) as Record<PoolName, T>;

/** The stack's GKE settings as `GkeCluster` takes them; EKS-only keys are not carried. */
export function toGkeClusterArgs(c: ClusterConfig, common: Common): GkeClusterArgs {
  if (!c.project) throw new Error("cluster.project: required when cloud is gcp");
  return {
    ...common,
    name: c.name,
    project: c.project,
    region: c.region,
    authorizedNetworks: c.authorizedNetworks,
    releaseChannel: c.releaseChannel,
    kubernetesVersion: c.kubernetesVersion,
    network: { nodesCidr: c.network.nodesCidr, podsCidr: c.network.podsCidr, servicesCidr: c.network.servicesCidr, masterCidr: c.network.masterCidr },
    autoscalingProfile: c.autoscaling.gkeProfile,
    nodePools: eachPool((pool) => {
      const p = c.nodePools[pool];
      return {
        machineType: p.machineType,
        minNodes: p.minNodes,
        maxNodes: p.maxNodes,
        diskSizeGb: p.diskSizeGb,
        gpuCount: p.gpuCount,
        gpuTimeSlicingReplicas: p.gpuTimeSlicingReplicas,
        zones: p.zones,
        ...(p.gpuType ? { gpuType: p.gpuType } : {}),
      };
    }),
    deletionProtection: c.deletionProtection,
    falcoMinimumPriority: c.falcoMinimumPriority,
  };
}

/** The stack's EKS settings as `EksCluster` takes them; GKE-only keys are not carried. */
export function toEksClusterArgs(c: ClusterConfig, common: Common, longestTerminationGraceSeconds = 0): EksClusterArgs {
  return {
    ...common,
    name: c.name,
    region: c.region,
    authorizedNetworks: c.authorizedNetworks,
    kubernetesVersion: c.kubernetesVersion,
    network: {
      vpcCidr: c.network.nodesCidr,
      servicesCidr: c.network.servicesCidr,
      availabilityZones: c.network.availabilityZones,
      natGatewayPerZone: c.network.natGatewayPerZone,
    },
    autoscaling: {
      scaleDownUnneededTime: c.autoscaling.scaleDownUnneededTime,
      scaleDownUtilizationThreshold: c.autoscaling.scaleDownUtilizationThreshold,
      maxGracefulTerminationSeconds: Math.max(AUTOSCALER_DEFAULT_MAX_GRACE_SECONDS, longestTerminationGraceSeconds),
    },
    nodePools: eachPool((pool) => {
      const p = c.nodePools[pool];
      return {
        machineType: p.machineType,
        minNodes: p.minNodes,
        maxNodes: p.maxNodes,
        diskSizeGb: p.diskSizeGb,
        gpuCount: p.gpuCount,
        gpuTimeSlicingReplicas: p.gpuTimeSlicingReplicas,
        instanceTypes: p.instanceTypes,
      };
    }),
    sandboxRuntimeClass: c.sandboxRuntimeClass,
    controlPlaneLogRetentionDays: c.controlPlaneLogRetentionDays,
    clusterAdmins: c.access
      ? [
          { name: "deploy", roleArn: c.access.deployRoleArn },
          { name: "break-glass", roleArn: c.access.breakGlassRoleArn },
        ]
      : [],
    deletionProtection: c.deletionProtection,
    falcoMinimumPriority: c.falcoMinimumPriority,
  };
}

/** The cluster for a stack: GKE or EKS as `config.cloud` says, behind the same facts. */
export function createCluster(name: string, request: ClusterRequest, opts?: pulumi.ComponentResourceOptions): ClusterFacts {
  const { config, longestTerminationGraceSeconds, ...common } = request;
  switch (config.cloud) {
    case "gcp":
      return new GkeCluster(name, toGkeClusterArgs(config, common), opts);
    case "aws":
      return new EksCluster(name, toEksClusterArgs(config, common, longestTerminationGraceSeconds), opts);
  }
}
