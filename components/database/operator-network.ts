import type * as k8s from "@pulumi/kubernetes";
import { API_SERVER_EGRESS, DNS_EGRESS, nsSelector, podsSelector, tcpPort } from "../namespace/builders";

type NetworkPolicySpec = k8s.types.input.networking.v1.NetworkPolicySpec;

/** Helm release names of the operator and the Barman Cloud plugin; the charts' pod selector labels carry them. */
export const OPERATOR_RELEASE = "cnpg";
export const BARMAN_PLUGIN_RELEASE = "barman-cloud";

/** The charts' selector labels (chart name and release) on the operator's and the plugin's pods. */
export const OPERATOR_POD_LABELS = { "app.kubernetes.io/name": "cloudnative-pg", "app.kubernetes.io/instance": OPERATOR_RELEASE } as const;
export const BARMAN_PLUGIN_POD_LABELS = { "app.kubernetes.io/name": "plugin-barman-cloud", "app.kubernetes.io/instance": BARMAN_PLUGIN_RELEASE } as const;

/** Ports of the operator side and of every instance, at the charts' and CloudNativePG's defaults. */
export const OPERATOR_PORTS = {
  /** The operator's admission webhook server (the chart's `webhook.port`). */
  webhook: 9443,
  /** The plugin's gRPC server, which the operator calls (the chart's `--server-address` and Service). */
  barmanPlugin: 9090,
  /** Each instance manager's status endpoint, which the operator polls. */
  instanceStatus: 8000,
  /** PostgreSQL on each instance. */
  postgres: 5432,
} as const;

/** A CloudNativePG `Cluster` the operator manages: its namespace and name (its pods' `cnpg.io/cluster` label). */
export interface ManagedCluster {
  /** Namespace the `Cluster` runs in. Required. */
  readonly namespace: string;
  /** The `Cluster`'s name. Required. */
  readonly name: string;
}

const tcp = tcpPort;
const pods = podsSelector;

/**
 * The operator's namespace: deny by default, then the operator's and the Barman Cloud plugin's flows. The API server
 * calls the operator's webhooks from control-plane addresses no selector names, so that flow is admitted by port.
 * The operator reaches every instance of the clusters it manages on the status port and PostgreSQL, and the plugin
 * over gRPC; the plugin's manager only serves the operator and talks to the API server (object stores are reached
 * by the instances' sidecars, in the database's namespace). Nothing scrapes the operator's metrics port.
 */
export function operatorNetworkPolicies(clusters: readonly ManagedCluster[]): Record<string, NetworkPolicySpec> {
  return {
    "default-deny": { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    "allow-dns-egress": { podSelector: {}, policyTypes: ["Egress"], egress: [DNS_EGRESS] },
    // Both controllers watch their resources and hold a leader-election lease.
    "allow-apiserver-egress": { podSelector: {}, policyTypes: ["Egress"], egress: [API_SERVER_EGRESS] },
    operator: {
      ...pods(OPERATOR_POD_LABELS),
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ ports: [tcp(OPERATOR_PORTS.webhook)] }],
      egress: [
        // An empty `to` would mean every address: without a cluster there is no rule.
        ...(clusters.length > 0
          ? [
              {
                to: clusters.map((c) => ({ ...nsSelector(c.namespace), ...pods({ "cnpg.io/cluster": c.name }) })),
                ports: [tcp(OPERATOR_PORTS.instanceStatus), tcp(OPERATOR_PORTS.postgres)],
              },
            ]
          : []),
        { to: [pods(BARMAN_PLUGIN_POD_LABELS)], ports: [tcp(OPERATOR_PORTS.barmanPlugin)] },
      ],
    },
    "barman-cloud": {
      ...pods(BARMAN_PLUGIN_POD_LABELS),
      policyTypes: ["Ingress"],
      ingress: [{ from: [pods(OPERATOR_POD_LABELS)], ports: [tcp(OPERATOR_PORTS.barmanPlugin)] }],
    },
  };
}
