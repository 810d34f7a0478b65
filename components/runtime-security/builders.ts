import type * as k8s from "@pulumi/kubernetes";
import { chartLabels } from "../labels";

/** Pool facts Falco needs: the taints of every node it must run on. */
export interface TaintedPool {
  readonly taints: readonly { readonly key: string; readonly value: string; readonly effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute" }[];
}
type Effect = TaintedPool["taints"][number]["effect"];

/** The namespace Falco runs in. */
export const FALCO_NAMESPACE = "falco";

/** Tolerates every pool's taints, for DaemonSets that must run on every node (Falco). */
export function tolerateAll(pools: Readonly<Record<string, TaintedPool>>): { key: string; operator: "Exists"; effect: Effect }[] {
  const seen = new Map<string, { key: string; operator: "Exists"; effect: Effect }>();
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
  readonly pools: Readonly<Record<string, TaintedPool>>;
  readonly environment: string;
  /** The component's labels; the cost labels among them go on Falco's and falcosidekick's pods. */
  readonly labels: Readonly<Record<string, string>>;
}

/** Values for the falco chart: modern eBPF probe, the custom rules, falcosidekick forwarding to Alertmanager. */
export function falcoValues(a: FalcoValuesArgs): Record<string, unknown> {
  return {
    // CO-RE eBPF needs no kernel headers or module build, which COS and AL2023 nodes do not offer.
    driver: { kind: "modern_ebpf" },
    tolerations: tolerateAll(a.pools),
    podLabels: chartLabels(a.labels),
    customRules: { "pitchey-rules.yaml": FALCO_RULES },
    falco: { json_output: true, json_include_output_property: true, priority: a.minimumPriority },
    falcosidekick: {
      enabled: true,
      podLabels: chartLabels(a.labels),
      config: {
        customfields: `environment:${a.environment}`,
        alertmanager: { hostport: a.alertmanagerUrl, minimumpriority: a.minimumPriority },
      },
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

