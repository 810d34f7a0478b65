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
import { EKS_ADDONS_BY_MINOR, eksAddonsFor } from "../versions";
import { clusterAdminProblems, type EksClusterAdmin } from "./eks-access";
import type { PoolName } from "./types";

/** An EKS managed node group. */
export interface EksNodeGroupArgs extends NodePoolArgs {
  /**
   * Instance types the group may launch; the spot group spreads over several so one type's shortage does not
   * empty it. Default: `[machineType]`.
   */
  readonly instanceTypes?: readonly string[];
}

export interface EksNetworkArgs {
  /** The VPC; private subnets for nodes and pods take three quarters of it. Default: 10.10.0.0/20. */
  readonly vpcCidr?: string;
  /** Range Kubernetes Services get addresses from. Default: 10.30.0.0/20. */
  readonly servicesCidr?: string;
  /** Availability zones the VPC spans (one private and one public subnet each), 2–6. Default: 3. */
  readonly availabilityZones?: number;
  /** One NAT gateway per zone (survives a zone loss) or one shared (cheaper). Default: true. */
  readonly natGatewayPerZone?: boolean;
}

export interface EksAutoscalingArgs {
  /** How long a node must be unneeded before the cluster autoscaler removes it. Default: `10m`. */
  readonly scaleDownUnneededTime?: string;
  /** Utilization below which a node counts as unneeded. Default: 0.5. */
  readonly scaleDownUtilizationThreshold?: number;
  /**
   * Longest grace the autoscaler gives a pod when it drains a node to remove it (`max-graceful-termination-sec`);
   * set it to the longest `terminationGracePeriodSeconds` of the cluster's workloads. Default: 600 (upstream's).
   */
  readonly maxGracefulTerminationSeconds?: number;
}

/** Arguments of `EksCluster`: only what EKS uses. */
export interface EksClusterArgs extends ClusterCommonArgs {
  /** Cluster name; also names the VPC, node groups, repositories, keys and log group. Required. */
  readonly name: string;
  /** AWS region. Required. */
  readonly region: string;
  /** CIDRs allowed to reach the public API endpoint; at least one. Required. */
  readonly authorizedNetworks: readonly AuthorizedNetwork[];
  /**
   * Control-plane and node group minor version; the EKS add-ons follow it (`EKS_ADDONS_BY_MINOR`), so it must be a
   * minor they are pinned for. A live cluster moves one minor per update. Default: `KUBERNETES_VERSION` (1.35).
   */
  readonly kubernetesVersion?: string;
  /** Address plan. Defaults: see `EksNetworkArgs`. */
  readonly network?: EksNetworkArgs;
  /** Cluster autoscaler flags. Defaults: see `EksAutoscalingArgs`. */
  readonly autoscaling?: EksAutoscalingArgs;
  /** The four node groups. Required. */
  readonly nodePools: Readonly<Record<PoolName, EksNodeGroupArgs>>;
  /** RuntimeClass the sandbox pool runs (its handler is gVisor's `runsc`). Default: `gvisor`. */
  readonly sandboxRuntimeClass?: string;
  /** Days the control-plane logs are kept. Default: 90. */
  readonly controlPlaneLogRetentionDays?: number;
  /**
   * IAM roles given cluster admin through access entries (the cluster uses the access-entry API only), e.g. the
   * deploy role CI runs as and the on-call break-glass role. Default: none, and then only the identity that
   * created the cluster can reach it.
   */
  readonly clusterAdmins?: readonly EksClusterAdmin[];
  /**
   * Namespaces of node agents (log shippers, node exporters) that may tolerate the sandbox taint by key and
   * still run under runc. kube-system and the Falco namespace are always exempt. Default: none.
   */
  readonly nodeAgentNamespaces?: readonly string[];
}

export const EKS_CLUSTER_DEFAULTS = {
  ...CLUSTER_ARG_DEFAULTS,
  network: { vpcCidr: "10.10.0.0/20", servicesCidr: "10.30.0.0/20", availabilityZones: 3, natGatewayPerZone: true },
  autoscaling: { scaleDownUnneededTime: "10m", scaleDownUtilizationThreshold: 0.5, maxGracefulTerminationSeconds: 600 },
  sandboxRuntimeClass: "gvisor",
  controlPlaneLogRetentionDays: 90,
  clusterAdmins: [] as readonly EksClusterAdmin[],
  nodeAgentNamespaces: [] as readonly string[],
};

export type ResolvedEksNodeGroup = Required<NodePoolArgs> & { readonly instanceTypes: readonly string[] };

export interface ResolvedEksClusterArgs extends ResolvedCommonArgs {
  readonly name: string;
  readonly region: string;
  readonly authorizedNetworks: readonly AuthorizedNetwork[];
  readonly kubernetesVersion: string;
  readonly network: Required<EksNetworkArgs>;
  readonly autoscaling: Required<EksAutoscalingArgs>;
  readonly nodePools: Readonly<Record<PoolName, ResolvedEksNodeGroup>>;
  readonly sandboxRuntimeClass: string;
  readonly controlPlaneLogRetentionDays: number;
  readonly clusterAdmins: readonly EksClusterAdmin[];
  readonly nodeAgentNamespaces: readonly string[];
}

const DNS_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Applies the defaults and checks what the types cannot; every problem is reported at once. */
export function resolveEksClusterArgs(args: EksClusterArgs): ResolvedEksClusterArgs {
  const r: ResolvedEksClusterArgs = {
    ...EKS_CLUSTER_DEFAULTS,
    ...args,
    network: { ...EKS_CLUSTER_DEFAULTS.network, ...args.network },
    autoscaling: { ...EKS_CLUSTER_DEFAULTS.autoscaling, ...args.autoscaling },
    nodePools: resolvePools(args.nodePools, { instanceTypes: [] as readonly string[] }),
  };
  const problems = [...commonProblems(r), ...poolProblems(r.nodePools), ...clusterAdminProblems(r.clusterAdmins)];
  if (!eksAddonsFor(r.kubernetesVersion)) {
    problems.push({
      propertyPath: "kubernetesVersion",
      reason: `"${r.kubernetesVersion}" has no EKS add-on pins (vpc-cni, kube-proxy, coredns…); pinned minors: ${Object.keys(EKS_ADDONS_BY_MINOR).join(", ")}`,
    });
  }
  const zones = r.network.availabilityZones;
  if (!Number.isInteger(zones) || zones < 2 || zones > 6) {
    problems.push({ propertyPath: "network.availabilityZones", reason: `expected 2–6 zones, got ${zones}` });
  }
  const grace = r.autoscaling.maxGracefulTerminationSeconds;
  if (!Number.isInteger(grace) || grace < 0) {
    problems.push({ propertyPath: "autoscaling.maxGracefulTerminationSeconds", reason: `expected a whole number of seconds ≥ 0, got ${grace}` });
  }
  if (!/^[a-z0-9][a-z0-9.-]*$/.test(r.sandboxRuntimeClass)) {
    problems.push({ propertyPath: "sandboxRuntimeClass", reason: `"${r.sandboxRuntimeClass}" is not a RuntimeClass name` });
  }
  r.nodeAgentNamespaces.forEach((ns, i) => {
    if (!DNS_LABEL.test(ns)) problems.push({ propertyPath: `nodeAgentNamespaces[${i}]`, reason: `"${ns}" is not a valid namespace` });
  });
  throwIfProblems("EksCluster", problems);
  return r;
}
