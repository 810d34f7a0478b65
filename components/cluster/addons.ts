import type * as k8s from "@pulumi/kubernetes";
import type { PoolName, PoolScheduling, Taint } from "./types";
import { POOL_LABEL, toleration } from "./scheduling";

/** Namespaces the in-cluster add-ons live in. */
export const ADDON_NAMESPACES = { falco: "falco", system: "kube-system" } as const;

/** Tolerates every pool's taints, for DaemonSets that must run on every node (Falco). */
export function tolerateAll(pools: Readonly<Record<PoolName, PoolScheduling>>): { key: string; operator: "Exists"; effect: Taint["effect"] }[] {
  const seen = new Map<string, { key: string; operator: "Exists"; effect: Taint["effect"] }>();
  for (const pool of Object.values(pools)) {
    for (const t of pool.taints) seen.set(`${t.key}:${t.effect}`, { key: t.key, operator: "Exists", effect: t.effect });
  }
  return [...seen.values()];
}

/**
 * The playbook's four runtime rules. Conditions build on the macros of Falco's default ruleset
 * (`spawned_process`, `container`, `container_started`), which the chart loads before custom rules.
 */
export const FALCO_RULES = `
- list: pitchey_shell_binaries
  items: [ash, bash, csh, dash, ksh, sh, tcsh, zsh, fish, busybox]

- list: pitchey_miner_binaries
  items: [xmrig, xmr-stak, minerd, cpuminer, cgminer, bfgminer, ccminer, ethminer, nbminer, t-rex, lolminer, nanominer]

- macro: pitchey_sensitive_mount
  condition: >
    (container.mount.dest[/proc*] != "N/A" or
     container.mount.dest[/var/run/docker.sock] != "N/A" or
     container.mount.dest[/run/containerd/containerd.sock] != "N/A" or
     container.mount.dest[/var/lib/kubelet*] != "N/A" or
     container.mount.dest[/etc*] != "N/A" or
     container.mount.dest[/root*] != "N/A" or
     container.mount.dest[/] != "N/A")

- rule: Shell in container
  desc: A shell started inside a container; the processors never start one.
  condition: spawned_process and container and proc.name in (pitchey_shell_binaries)
  output: >
    Shell in container (user=%user.name command=%proc.cmdline parent=%proc.pname pod=%k8s.pod.name
    ns=%k8s.ns.name image=%container.image.repository)
  priority: WARNING
  tags: [pitchey, container, shell, mitre_execution]

- rule: Privileged container
  desc: A container started with privileged mode, which lifts every isolation boundary.
  condition: container_started and container and container.privileged=true
  output: >
    Privileged container started (pod=%k8s.pod.name ns=%k8s.ns.name image=%container.image.repository)
  priority: CRITICAL
  tags: [pitchey, container, privileged, mitre_privilege_escalation]

- rule: Sensitive mount in container
  desc: A container started with a host path that exposes the node (procfs, runtime sockets, kubelet, /etc, /root).
  condition: container_started and container and pitchey_sensitive_mount
  output: >
    Sensitive mount in container (pod=%k8s.pod.name ns=%k8s.ns.name image=%container.image.repository
    mounts=%container.mounts)
  priority: CRITICAL
  tags: [pitchey, container, mount, mitre_privilege_escalation]

- rule: Crypto mining in container
  desc: A known miner binary, or a process speaking the stratum mining protocol.
  condition: >
    spawned_process and container and
    (proc.name in (pitchey_miner_binaries) or proc.cmdline contains "stratum+tcp" or proc.cmdline contains "stratum2+tcp")
  output: >
    Crypto mining in container (command=%proc.cmdline pod=%k8s.pod.name ns=%k8s.ns.name
    image=%container.image.repository)
  priority: CRITICAL
  tags: [pitchey, container, cryptomining, mitre_impact]
`.trimStart();

/** Names of the custom rules, for tests and for Alertmanager routes keyed on `rule`. */
export const FALCO_RULE_NAMES = [
  "Shell in container",
  "Privileged container",
  "Sensitive mount in container",
  "Crypto mining in container",
] as const;

export interface FalcoValuesArgs {
  readonly alertmanagerUrl: string;
  readonly minimumPriority: string;
  readonly pools: Readonly<Record<PoolName, PoolScheduling>>;
  readonly environment: string;
}

/** Values for the falco chart: modern eBPF probe, the custom rules, falcosidekick forwarding to Alertmanager. */
export function falcoValues(a: FalcoValuesArgs): Record<string, unknown> {
  return {
    // CO-RE eBPF needs no kernel headers or module build, which COS and AL2023 nodes do not offer.
    driver: { kind: "modern_ebpf" },
    tolerations: tolerateAll(a.pools),
    customRules: { "pitchey-rules.yaml": FALCO_RULES },
    falco: { json_output: true, json_include_output_property: true, priority: a.minimumPriority },
    falcosidekick: {
      enabled: true,
      config: {
        customfields: `environment:${a.environment}`,
        alertmanager: { hostport: a.alertmanagerUrl, minimumpriority: a.minimumPriority },
      },
    },
  };
}

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
  readonly general: PoolScheduling;
}

export const CLUSTER_AUTOSCALER_SA = "cluster-autoscaler";

/** Values for cluster-autoscaler: auto-discovery of the managed node groups, the playbook's scale-down flags. */
export function clusterAutoscalerValues(a: ClusterAutoscalerValuesArgs): Record<string, unknown> {
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
      expander: "least-waste",
    },
    // On the on-demand pool so a spot reclaim never takes the autoscaler down with the nodes it must replace.
    nodeSelector: { [POOL_LABEL]: a.general.labels[POOL_LABEL] },
  };
}

/**
 * Values for aws-node-termination-handler in IMDS mode: a DaemonSet on the spot pool only, which cordons and
 * drains its node on the 2-minute interruption notice and on scheduled maintenance. Rebalance recommendations
 * are left to the managed node group, whose capacity rebalancing already starts a replacement and drains the
 * node; draining on them here too would evict pods before the replacement is up.
 */
export function nodeTerminationHandlerValues(spot: PoolScheduling): Record<string, unknown> {
  return {
    enableSqsTerminationDraining: false,
    enableSpotInterruptionDraining: true,
    enableRebalanceMonitoring: false,
    enableRebalanceDraining: false,
    enableScheduledEventDraining: true,
    daemonsetNodeSelector: { [POOL_LABEL]: spot.labels[POOL_LABEL] },
    daemonsetTolerations: spot.taints.map(toleration),
  };
}

/** RuntimeClass for gVisor on EKS: pods naming it land on the sandbox pool and tolerate its taint automatically. */
export function gvisorRuntimeClass(name: string, sandbox: PoolScheduling) {
  return {
    metadata: { name },
    handler: "runsc",
    scheduling: {
      nodeSelector: { [POOL_LABEL]: sandbox.labels[POOL_LABEL] },
      tolerations: sandbox.taints.map(toleration),
    },
  };
}

/** Port of an http(s) URL, explicit or implied by its scheme. */
export function urlPort(url: string): number {
  const u = new URL(url);
  return u.port ? Number(u.port) : u.protocol === "https:" ? 443 : 80;
}

/** Port falcosidekick listens on for Falco's HTTP output. */
export const FALCOSIDEKICK_PORT = 2801;

/**
 * NetworkPolicies for the Falco namespace: deny everything, then allow Falco → falcosidekick, DNS, HTTPS (the API
 * server for pod metadata, and the rules registry falcoctl follows) and falcosidekick → Alertmanager.
 */
export function falcoNetworkPolicies(alertmanagerUrl: string): { name: string; spec: k8s.types.input.networking.v1.NetworkPolicySpec }[] {
  return [
    { name: "default-deny", spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } },
    {
      name: "falco-flows",
      spec: {
        podSelector: {},
        policyTypes: ["Ingress", "Egress"],
        ingress: [{ from: [{ podSelector: {} }], ports: [{ protocol: "TCP", port: FALCOSIDEKICK_PORT }] }],
        egress: [
          { to: [{ podSelector: {} }], ports: [{ protocol: "TCP", port: FALCOSIDEKICK_PORT }] },
          { ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }] },
          { ports: [{ protocol: "TCP", port: 443 }] },
          { to: [{ namespaceSelector: {} }], ports: [{ protocol: "TCP", port: urlPort(alertmanagerUrl) }] },
        ],
      },
    },
  ];
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
