import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { chartLabels, k8sLabels, type LabelContext } from "../labels";
import { DNS_EGRESS, nsSelector, podSecurityLabels } from "../namespace/builders";
import { CHARTS } from "../versions";

type NetworkPolicySpec = k8s.types.input.networking.v1.NetworkPolicySpec;

export const CERT_MANAGER_NAMESPACE = "cert-manager";
export const CLUSTER_ISSUER = "cloudflare-dns01";
/** cert-manager's controller exposes certificate expiry (`certmanager_certificate_expiration_timestamp_seconds`) here. */
export const CERT_MANAGER_METRICS_PORT = 9402;
const TOKEN_SECRET = "cloudflare-dns01-token";
const TOKEN_KEY = "api-token";

export interface CertificatesArgs {
  readonly labels: LabelContext;
  /** ACME directory, e.g. Let's Encrypt production. */
  readonly acmeServer: string;
  /** Cloudflare API token allowed to edit DNS in the zone (DNS-01 challenges). */
  readonly dnsApiToken: pulumi.Input<string>;
  /** The zone the issuer may answer challenges for. */
  readonly zone: string;
  readonly monitoringNamespace: string;
  readonly prometheusPodLabels: Readonly<Record<string, string>>;
}

/** Chart values: CRDs installed and kept, a PodMonitor so Prometheus sees every certificate's expiry, cost labels on every pod. */
export function certManagerValues(labels: Record<string, string>): Record<string, unknown> {
  return {
    crds: { enabled: true, keep: true },
    replicaCount: 2,
    podDisruptionBudget: { enabled: true, minAvailable: 1 },
    webhook: { replicaCount: 2, podDisruptionBudget: { enabled: true, minAvailable: 1 }, podLabels: chartLabels(labels) },
    cainjector: { replicaCount: 2, podDisruptionBudget: { enabled: true, minAvailable: 1 }, podLabels: chartLabels(labels) },
    // The post-install API check is a Job of its own, with its own pod labels.
    startupapicheck: { podLabels: chartLabels(labels) },
    prometheus: { enabled: true, servicemonitor: { enabled: false }, podmonitor: { enabled: true } },
    // Cost labels only: the chart writes the controller's app.kubernetes.io/* labels, its selector among them.
    podLabels: chartLabels(labels),
  };
}

/** ACME DNS-01 through Cloudflare: the origin needs no inbound port for validation, and wildcards stay possible. */
export function clusterIssuerSpec(args: Pick<CertificatesArgs, "acmeServer" | "zone">): Record<string, unknown> {
  return {
    acme: {
      server: args.acmeServer,
      privateKeySecretRef: { name: `${CLUSTER_ISSUER}-account` },
      solvers: [
        {
          selector: { dnsZones: [args.zone] },
          dns01: { cloudflare: { apiTokenSecretRef: { name: TOKEN_SECRET, key: TOKEN_KEY } } },
        },
      ],
    },
  };
}


/** Default deny; the webhook from the API server, metrics to Prometheus, DNS, and HTTPS out (ACME, Cloudflare, API server). */
export function certManagerNetworkPolicies(a: Pick<CertificatesArgs, "monitoringNamespace" | "prometheusPodLabels">): Record<string, NetworkPolicySpec> {
  return {
    "default-deny": { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    "allow-webhook": {
      podSelector: { matchLabels: { "app.kubernetes.io/component": "webhook" } },
      policyTypes: ["Ingress"],
      ingress: [{ ports: [{ protocol: "TCP", port: 10250 }] }],
    },
    "allow-monitoring-scrape": {
      podSelector: {},
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [{ ...nsSelector(a.monitoringNamespace), podSelector: { matchLabels: { ...a.prometheusPodLabels } } }],
          ports: [{ protocol: "TCP", port: CERT_MANAGER_METRICS_PORT }],
        },
      ],
    },
    "allow-dns-egress": { podSelector: {}, policyTypes: ["Egress"], egress: [DNS_EGRESS] },
    "allow-https-egress": {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [{ ports: [{ protocol: "TCP", port: 443 }, { protocol: "TCP", port: 6443 }] }],
    },
  };
}

/** cert-manager from its chart and the ClusterIssuer that gets origin certificates through Cloudflare DNS. */
export class Certificates extends pulumi.ComponentResource {
  readonly release: k8s.helm.v3.Release;
  /** Name of the ClusterIssuer, resolved once it exists. */
  readonly clusterIssuer: pulumi.Output<string>;

  constructor(name: string, args: CertificatesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pitchey:certificates:Certificates", name, {}, opts);
    const child = { parent: this };
    const labels = k8sLabels(args.labels, "cert-manager", "certificates");
    const ns = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      { metadata: { name: CERT_MANAGER_NAMESPACE, labels: { ...labels, ...podSecurityLabels() } } },
      child,
    );
    const netpols = Object.entries(certManagerNetworkPolicies(args)).map(
      ([policy, spec]) =>
        new k8s.networking.v1.NetworkPolicy(`${name}-${policy}`, { metadata: { name: policy, namespace: ns.metadata.name, labels }, spec }, child),
    );
    const pin = CHARTS.certManager;
    this.release = new k8s.helm.v3.Release(
      `${name}-release`,
      {
        name: "cert-manager",
        chart: pin.chart,
        version: pin.version,
        repositoryOpts: { repo: pin.repo },
        namespace: ns.metadata.name,
        atomic: true,
        values: certManagerValues(labels),
      },
      { ...child, dependsOn: netpols },
    );
    const token = new k8s.core.v1.Secret(
      `${name}-dns-token`,
      { metadata: { name: TOKEN_SECRET, namespace: ns.metadata.name, labels }, type: "Opaque", stringData: { [TOKEN_KEY]: pulumi.secret(args.dnsApiToken) } },
      child,
    );
    const issuer = new k8s.apiextensions.CustomResource(
      `${name}-cluster-issuer`,
      { apiVersion: "cert-manager.io/v1", kind: "ClusterIssuer", metadata: { name: CLUSTER_ISSUER, labels }, spec: clusterIssuerSpec(args) },
      { ...child, dependsOn: [this.release, token] },
    );
    this.clusterIssuer = issuer.metadata.name;
    this.registerOutputs({ clusterIssuer: this.clusterIssuer });
  }
}
