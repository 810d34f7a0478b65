import { chartLabels } from "../labels";
import type { PoolScheduling } from "./types";
import { POOL_LABEL, toleration } from "./scheduling";

import { FALCO_NAMESPACE } from "../runtime-security/builders";

/** Namespaces the in-cluster add-ons live in. */
export const ADDON_NAMESPACES = { falco: FALCO_NAMESPACE, system: "kube-system" } as const;

/** The device plugin's config: one GPU shown as `replicas` schedulable GPUs, or no sharing at all. */
export function devicePluginConfig(replicas: number): string {
  if (replicas <= 1) return "version: v1\nflags:\n  migStrategy: none\n";
  return [
    "version: v1",
    "flags:",
    "  migStrategy: none",
    "sharing:",
    "  timeSlicing:",
    "    resources:",
    "      - name: nvidia.com/gpu",
    `        replicas: ${replicas}`,
    "",
  ].join("\n");
}

/** Values for nvidia-device-plugin on the EKS GPU pool (GKE installs its own plugin and drivers). */
export function nvidiaDevicePluginValues(gpu: PoolScheduling, timeSlicingReplicas: number): Record<string, unknown> {
  return {
    nodeSelector: { [POOL_LABEL]: gpu.labels[POOL_LABEL] },
    tolerations: gpu.taints.map(toleration),
    config: { map: { default: devicePluginConfig(timeSlicingReplicas) }, default: "default" },
    gfd: { enabled: false },
    nfd: { enabled: false },
  };
}

export interface ClusterAutoscalerValuesArgs {
  readonly clusterName: string;
  /** The cluster's Kubernetes minor version, e.g. `1.33`; the autoscaler release must match it. */
  readonly kubernetesVersion: string;
  readonly region: string;
  readonly roleArn: string;
  readonly scaleDownUnneededTime: string;
  readonly scaleDownUtilizationThreshold: number;
  /** Longest grace a pod gets when the autoscaler drains its node (`max-graceful-termination-sec`). */
  readonly maxGracefulTerminationSeconds: number;
  readonly general: PoolScheduling;
  /** The spot node group's name (EKS `nodeGroupName`), ranked first by the priority expander; unset without one. */
  readonly spotNodeGroup?: string;
  /** The add-on's labels; the cost labels among them go on the autoscaler's objects and pod. */
  readonly labels: Readonly<Record<string, string>>;
}

export const CLUSTER_AUTOSCALER_SA = "cluster-autoscaler";

/** Priority expander ranks: the highest wins; spot first, every other group below it. */
export const EXPANDER_PRIORITY = { spot: 50, other: 10 } as const;

/**
 * The priority expander's ranking for EKS managed node groups. It matches the Auto Scaling group's name, which EKS
 * derives from the node group's as `eks-<nodeGroupName>-<uuid>`: the spot group's name and a UUID, nothing else, so a
 * group whose name extends the spot group's is not ranked with it.
 */
export function expanderPriorities(spotNodeGroup: string): Record<number, string[]> {
  if (!/^[a-z0-9-]+$/.test(spotNodeGroup)) throw new Error(`expanderPriorities: "${spotNodeGroup}" is not an EKS node group name`);
  const uuid = "[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}";
  return { [EXPANDER_PRIORITY.spot]: [`^eks-${spotNodeGroup}-${uuid}$`], [EXPANDER_PRIORITY.other]: [".*"] };
}

/**
 * Values for cluster-autoscaler: auto-discovery of the managed node groups, the playbook's scale-down flags, spot
 * first at scale-up, and a drain as long as the longest pod's grace.
 */
export function clusterAutoscalerValues(a: ClusterAutoscalerValuesArgs): Record<string, unknown> {
  // `least-waste` alone picks between equal spot and on-demand shapes at random; the priority expander ranks spot
  // first and least-waste breaks ties within a rank. The chart writes the expander's ConfigMap from expanderPriorities.
  const expander = a.spotNodeGroup ? { expander: "priority,least-waste" } : { expander: "least-waste" };
  return {
    cloudProvider: "aws",
    awsRegion: a.region,
    // The autoscaler simulates the scheduler of its own Kubernetes minor; a chart's default may lag the cluster.
    image: { tag: `v${a.kubernetesVersion.split(".").slice(0, 2).join(".")}.0` },
    autoDiscovery: { clusterName: a.clusterName },
    rbac: {
      serviceAccount: { create: true, name: CLUSTER_AUTOSCALER_SA, annotations: { "eks.amazonaws.com/role-arn": a.roleArn } },
    },
    extraArgs: {
      "scale-down-unneeded-time": a.scaleDownUnneededTime,
      "scale-down-utilization-threshold": String(a.scaleDownUtilizationThreshold),
      // The playbook's ConfigMap: nodes with emptyDir or kube-system pods may still be removed.
      "skip-nodes-with-local-storage": "false",
      "skip-nodes-with-system-pods": "false",
      "balance-similar-node-groups": "true",
      ...expander,
      "max-graceful-termination-sec": String(a.maxGracefulTerminationSeconds),
    },
    ...(a.spotNodeGroup ? { expanderPriorities: expanderPriorities(a.spotNodeGroup) } : {}),
    // On the on-demand pool so a spot reclaim never takes the autoscaler down with the nodes it must replace.
    nodeSelector: { [POOL_LABEL]: a.general.labels[POOL_LABEL] },
    // Not podLabels: the chart adds those to the Deployment's selector, which cannot change once created.
    additionalLabels: chartLabels(a.labels),
  };
}

/**
 * Values for aws-node-termination-handler in IMDS mode: a DaemonSet on the spot pool only, which cordons and
 * drains its node on the 2-minute interruption notice and on scheduled maintenance. Rebalance recommendations
 * are left to the managed node group, whose capacity rebalancing already starts a replacement and drains the
 * node; draining on them here too would evict pods before the replacement is up.
 */
export function nodeTerminationHandlerValues(spot: PoolScheduling, labels: Readonly<Record<string, string>>): Record<string, unknown> {
  return {
    enableSqsTerminationDraining: false,
    enableSpotInterruptionDraining: true,
    enableRebalanceMonitoring: false,
    enableRebalanceDraining: false,
    enableScheduledEventDraining: true,
    daemonsetNodeSelector: { [POOL_LABEL]: spot.labels[POOL_LABEL] },
    daemonsetTolerations: spot.taints.map(toleration),
    podLabels: chartLabels(labels),
  };
}

/** RuntimeClass for gVisor on EKS: pods naming it land on the sandbox pool and tolerate its taint automatically. */
/**
 * What a gVisor pod costs beyond its containers' requests: the Sentry (the user-space kernel) and the Gofer run
 * per pod outside the containers' cgroups. An allowance, not a measurement: the scheduler and the quota count it,
 * so a node of sandboxes is not overcommitted by the sandbox's own processes.
 */
export const GVISOR_POD_OVERHEAD = { cpu: "100m", memory: "64Mi" } as const;

export function gvisorRuntimeClass(name: string, sandbox: PoolScheduling) {
  return {
    metadata: { name },
    handler: "runsc",
    overhead: { podFixed: { ...GVISOR_POD_OVERHEAD } },
    scheduling: {
      nodeSelector: { [POOL_LABEL]: sandbox.labels[POOL_LABEL] },
      tolerations: sandbox.taints.map(toleration),
    },
  };
}

/**
 * Admission rule for EKS's sandbox pool: a pod that tolerates the sandbox taint must run under the gVisor
 * RuntimeClass, so untrusted code cannot land on those nodes under runc. Node agents that tolerate every taint
 * (a keyless `Exists`, as monitoring DaemonSets do) are not matched, and kube-system and Falco are exempt.
 * Runs after the RuntimeClass admission plugin has merged the class's tolerations, so pods naming the class pass.
 */
export function sandboxAdmissionPolicy(runtimeClassName: string, sandbox: PoolScheduling, exemptNamespaces: readonly string[]) {
  const keys = sandbox.taints.map((t) => `'${t.key}'`).join(", ");
  const expression = [
    "!has(object.spec.tolerations) ||",
    `!object.spec.tolerations.exists(t, has(t.key) && t.key in [${keys}]) ||`,
    `(has(object.spec.runtimeClassName) && object.spec.runtimeClassName == '${runtimeClassName}')`,
  ].join(" ");
  return {
    policy: {
      failurePolicy: "Fail",
      matchConstraints: {
        resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["pods"] }],
        namespaceSelector: {
          matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: [...exemptNamespaces] }],
        },
      },
      validations: [
        {
          expression,
          message: `pods that tolerate the sandbox pool's taint must set runtimeClassName: ${runtimeClassName}`,
        },
      ],
    },
    binding: { validationActions: ["Deny"] },
  };
}
