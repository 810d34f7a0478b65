import type * as k8s from "@pulumi/kubernetes";
import { API_SERVER_EGRESS, DNS_EGRESS as DNS, NON_PUBLIC_CIDRS, nsSelector as ns, podsSelector, tcpPort } from "../namespace/builders";
import { PORTS } from "./values";

type NetworkPolicySpec = k8s.types.input.networking.v1.NetworkPolicySpec;

/** Labels the operator and the charts put on the monitoring pods; policies select by them. */
export const POD_LABELS = {
  prometheus: { "app.kubernetes.io/name": "prometheus" },
  alertmanager: { "app.kubernetes.io/name": "alertmanager" },
  grafana: { "app.kubernetes.io/name": "grafana" },
  loki: { "app.kubernetes.io/name": "loki" },
  kubeStateMetrics: { "app.kubernetes.io/name": "kube-state-metrics" },
  alloy: { "app.kubernetes.io/name": "alloy" },
} as const;

export interface MonitoringNetworkArgs {
  readonly namespace: string;
  readonly agentsNamespace: string;
  /** Namespace of the processors Prometheus scrapes, and their metrics port. */
  readonly processorNamespace: string;
  readonly metricsPort: number;
  /** Namespaces whose pods may post alerts to Alertmanager (Falco's sidekick). */
  readonly alertSenderNamespaces: readonly string[];
  /** Namespaces of other exporters Prometheus scrapes (KEDA, cert-manager, the database), with their ports. */
  readonly exporterTargets: readonly { readonly namespace: string; readonly ports: readonly number[] }[];
}

const tcp = (...ports: number[]) => ports.map(tcpPort);
const pods = podsSelector;
/** Public addresses only: webhooks, object storage and SMTP relays are on the internet, never in private ranges. */
const PUBLIC = [{ ipBlock: { cidr: "0.0.0.0/0", except: NON_PUBLIC_CIDRS } }];

/**
 * The monitoring namespace's guard rails, as the processors have them: deny by default, then each flow by pod.
 * The API server, kubelets and node-exporters sit on node or control-plane addresses no selector can name, so those
 * flows are by port only.
 */
export function monitoringNetworkPolicies(a: MonitoringNetworkArgs): Record<string, NetworkPolicySpec> {
  return {
    "default-deny": { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    "allow-dns-egress": { podSelector: {}, policyTypes: ["Egress"], egress: [DNS] },
    // The operator, Prometheus (service discovery), kube-state-metrics and Grafana's dashboard sidecar watch the API.
    "allow-api-server-egress": { podSelector: {}, policyTypes: ["Egress"], egress: [API_SERVER_EGRESS] },
    prometheus: {
      ...pods(POD_LABELS.prometheus),
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ from: [pods(POD_LABELS.grafana)], ports: tcp(PORTS.prometheus) }],
      egress: [
        { to: [{ ...ns(a.processorNamespace), podSelector: {} }], ports: tcp(a.metricsPort) },
        { to: [pods(POD_LABELS.kubeStateMetrics)], ports: tcp(PORTS.kubeStateMetrics) },
        { to: [pods(POD_LABELS.alertmanager)], ports: tcp(PORTS.alertmanager) },
        { to: [pods(POD_LABELS.loki)], ports: tcp(PORTS.loki) },
        { to: [pods(POD_LABELS.grafana)], ports: tcp(PORTS.grafana) },
        { to: [{ ...ns(a.agentsNamespace), ...pods(POD_LABELS.alloy) }], ports: tcp(PORTS.alloy) },
        // Kubelets (cAdvisor) and node-exporter listen on node addresses.
        { ports: tcp(PORTS.kubelet, PORTS.nodeExporter) },
        ...a.exporterTargets.map((t) => ({ to: [{ ...ns(t.namespace), podSelector: {} }], ports: tcp(...t.ports) })),
      ],
    },
    alertmanager: {
      ...pods(POD_LABELS.alertmanager),
      policyTypes: ["Ingress", "Egress"],
      ingress: [
        { from: [pods(POD_LABELS.prometheus), pods(POD_LABELS.grafana), ...a.alertSenderNamespaces.map(ns)], ports: tcp(PORTS.alertmanager) },
        { from: [pods(POD_LABELS.alertmanager)], ports: [...tcp(PORTS.alertmanagerCluster), { protocol: "UDP", port: PORTS.alertmanagerCluster }] },
      ],
      egress: [
        { to: [pods(POD_LABELS.alertmanager)], ports: [...tcp(PORTS.alertmanagerCluster), { protocol: "UDP", port: PORTS.alertmanagerCluster }] },
        // PagerDuty and Slack (HTTPS), the SMTP relay (submission with STARTTLS).
        { to: PUBLIC, ports: tcp(443, 587) },
      ],
    },
    grafana: {
      ...pods(POD_LABELS.grafana),
      policyTypes: ["Ingress", "Egress"],
      // No ingress controller route: operators reach Grafana with `kubectl port-forward`.
      ingress: [{ from: [pods(POD_LABELS.prometheus)], ports: tcp(PORTS.grafana) }],
      egress: [
        { to: [pods(POD_LABELS.prometheus)], ports: tcp(PORTS.prometheus) },
        { to: [pods(POD_LABELS.loki)], ports: tcp(PORTS.loki) },
        { to: [pods(POD_LABELS.alertmanager)], ports: tcp(PORTS.alertmanager) },
      ],
    },
    loki: {
      ...pods(POD_LABELS.loki),
      policyTypes: ["Ingress", "Egress"],
      ingress: [
        { from: [{ ...ns(a.agentsNamespace), ...pods(POD_LABELS.alloy) }, pods(POD_LABELS.grafana), pods(POD_LABELS.prometheus)], ports: tcp(PORTS.loki) },
        { from: [pods(POD_LABELS.loki)], ports: tcp(PORTS.lokiGrpc, 7946) },
      ],
      egress: [
        { to: [pods(POD_LABELS.loki)], ports: tcp(PORTS.lokiGrpc, 7946) },
        // The object store (R2) over HTTPS.
        { to: PUBLIC, ports: tcp(443) },
      ],
    },
    "kube-state-metrics": {
      ...pods(POD_LABELS.kubeStateMetrics),
      policyTypes: ["Ingress"],
      ingress: [{ from: [pods(POD_LABELS.prometheus)], ports: tcp(PORTS.kubeStateMetrics) }],
    },
  };
}

/**
 * The agents namespace: node-exporter uses the host network (policies do not apply to it); the log agent reads
 * files, talks to the API server and pushes to Loki, and Prometheus may scrape its own metrics.
 */
export function agentNetworkPolicies(a: Pick<MonitoringNetworkArgs, "namespace">): Record<string, NetworkPolicySpec> {
  return {
    "default-deny": { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    alloy: {
      ...pods(POD_LABELS.alloy),
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ from: [{ ...ns(a.namespace), ...pods(POD_LABELS.prometheus) }], ports: tcp(PORTS.alloy) }],
      egress: [DNS, API_SERVER_EGRESS, { to: [{ ...ns(a.namespace), ...pods(POD_LABELS.loki) }], ports: tcp(PORTS.loki) }],
    },
  };
}
