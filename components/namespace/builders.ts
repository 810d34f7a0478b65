import type * as k8s from "@pulumi/kubernetes";

type NetworkPolicySpec = k8s.types.input.networking.v1.NetworkPolicySpec;

/** Pod Security Admission at `restricted` for enforce, audit and warn. */
export function podSecurityLabels(level: "restricted" | "baseline" | "privileged" = "restricted"): Record<string, string> {
  return {
    "pod-security.kubernetes.io/enforce": level,
    "pod-security.kubernetes.io/enforce-version": "latest",
    "pod-security.kubernetes.io/audit": level,
    "pod-security.kubernetes.io/warn": level,
  };
}

/** Containers that forget their resources still get bounded ones, and none may exceed one node's worth. */
export function limitRangeSpec(): k8s.types.input.core.v1.LimitRangeSpec {
  return {
    limits: [
      {
        type: "Container",
        defaultRequest: { cpu: "100m", memory: "128Mi", "ephemeral-storage": "256Mi" },
        default: { cpu: "500m", memory: "512Mi", "ephemeral-storage": "1Gi" },
        max: { cpu: "8", memory: "32Gi", "ephemeral-storage": "50Gi" },
      },
    ],
  };
}

/** Selects a namespace by the name label Kubernetes sets on every namespace. */
export const nsSelector = (ns: string) => ({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } } });

/**
 * Selects pods by their labels (a copy, so the policy never shares the caller's object) and, optionally, by labels
 * they must not carry: an operator that puts one label on several kinds of pod is told apart by the others.
 */
export const podsSelector = (labels: Readonly<Record<string, string>>, without: readonly string[] = []) => ({
  podSelector: {
    matchLabels: { ...labels },
    ...(without.length > 0 ? { matchExpressions: without.map((key) => ({ key, operator: "DoesNotExist" })) } : {}),
  },
});

/** A NetworkPolicy port entry for one TCP port. */
export const tcpPort = (port: number) => ({ protocol: "TCP", port });

/** The egress rule every namespace's default-deny leaves open: cluster DNS, UDP and TCP 53. */
export const DNS_EGRESS = {
  to: [{ ...nsSelector("kube-system"), podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
  ports: [
    { protocol: "UDP", port: 53 },
    { protocol: "TCP", port: 53 },
  ],
};

/**
 * GKE's metadata server, which serves Workload Identity tokens: 169.254.169.254:80, and 169.254.169.252:988 where
 * GKE Dataplane V2 serves it. A pod signing in with Workload Identity under a default-deny policy needs both.
 */
export const GKE_METADATA_EGRESS = [
  { to: [{ ipBlock: { cidr: "169.254.169.254/32" } }], ports: [{ protocol: "TCP", port: 80 }] },
  { to: [{ ipBlock: { cidr: "169.254.169.252/32" } }], ports: [{ protocol: "TCP", port: 988 }] },
];

/**
 * The Kubernetes API server. Its address is the cluster's to choose (GKE's control plane, EKS's cross-account
 * interfaces, both behind the `kubernetes` Service), so no selector or block can name it: any address, on its ports
 * only (443, and 6443 where the API server listens there).
 */
export const API_SERVER_EGRESS = {
  ports: [
    { protocol: "TCP", port: 443 },
    { protocol: "TCP", port: 6443 },
  ],
};

/** Labels of the Prometheus server pods (kube-prometheus-stack's operator sets this one on them). */
export const PROMETHEUS_POD_LABELS: Readonly<Record<string, string>> = { "app.kubernetes.io/name": "prometheus" };

export interface NetworkPolicyArgs {
  /** Namespace of the ingress controller allowed to reach the processors' HTTP port. */
  readonly ingressNamespace: string;
  /** Labels of the ingress controller's pods: only they, not their whole namespace, reach the API port. */
  readonly ingressControllerPodLabels: Readonly<Record<string, string>>;
  /** Namespace whose Prometheus scrapes the processors. */
  readonly monitoringNamespace: string;
  /** Labels of Prometheus's pods: only they reach the metrics port. Default: `PROMETHEUS_POD_LABELS`. */
  readonly prometheusPodLabels?: Readonly<Record<string, string>>;
  /** Processors' HTTP (API) port. */
  readonly httpPort: number;
  /** Processors' metrics port, separate from the API. */
  readonly metricsPort: number;
  /** Jobs database CIDRs (an external database) and port. */
  readonly databaseCidrs: readonly string[];
  readonly databasePort: number;
  /** Pods serving the jobs database in the cluster (the pooler of a database the program runs). Default none. */
  readonly databasePods?: { readonly namespace: string; readonly labels: Readonly<Record<string, string>> };
  /** Label that opts a pod into HTTPS egress (inputs by URL, results store). */
  readonly httpsEgressLabel: string;
}

/** Private, link-local (metadata server) and CGNAT ranges: HTTPS egress may not reach them. */
export const NON_PUBLIC_CIDRS = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10"];

/**
 * Default deny both ways, then the few flows the processors need. Every policy selects by label so a new
 * processor is covered without touching this list.
 */
export function networkPolicies(args: NetworkPolicyArgs): Record<string, NetworkPolicySpec> {
  const tcp = tcpPort;
  return {
    "default-deny": { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    "allow-ingress-controller": {
      podSelector: { matchLabels: { "app.kubernetes.io/component": "processor" } },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [{ ...nsSelector(args.ingressNamespace), podSelector: { matchLabels: { ...args.ingressControllerPodLabels } } }],
          ports: [tcp(args.httpPort)],
        },
      ],
    },
    "allow-monitoring-scrape": {
      podSelector: {},
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [{ ...nsSelector(args.monitoringNamespace), podSelector: { matchLabels: { ...(args.prometheusPodLabels ?? PROMETHEUS_POD_LABELS) } } }],
          ports: [tcp(args.metricsPort)],
        },
      ],
    },
    "allow-dns-egress": { podSelector: {}, policyTypes: ["Egress"], egress: [DNS_EGRESS] },
    "allow-database-egress": {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [
        {
          to: [
            ...args.databaseCidrs.map((cidr) => ({ ipBlock: { cidr } })),
            ...(args.databasePods
              ? [{ ...nsSelector(args.databasePods.namespace), podSelector: { matchLabels: { ...args.databasePods.labels } } }]
              : []),
          ],
          ports: [tcp(args.databasePort)],
        },
      ],
    },
    "allow-https-egress": {
      podSelector: { matchLabels: { [args.httpsEgressLabel]: "true" } },
      policyTypes: ["Egress"],
      egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0", except: NON_PUBLIC_CIDRS } }], ports: [tcp(443)] }],
    },
  };
}
