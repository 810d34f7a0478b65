import type * as k8s from "@pulumi/kubernetes";
import { API_SERVER_EGRESS, DNS_EGRESS, nsSelector, podsSelector, tcpPort } from "../namespace/builders";

type NetworkPolicySpec = k8s.types.input.networking.v1.NetworkPolicySpec;

/**
 * The `app` label the KEDA chart puts on each Deployment's pods and selects them by, one value per Deployment.
 */
export const KEDA_POD_LABELS = {
  operator: { app: "keda-operator" },
  metricsApiServer: { app: "keda-operator-metrics-apiserver" },
  admissionWebhooks: { app: "keda-admission-webhooks" },
} as const;

/** Ports the chart's containers listen on, at the chart's defaults (the values leave them alone). */
export const KEDA_PORTS = {
  /** The operator's gRPC metrics service: the metrics API server asks it for every scaler's value. */
  operatorGrpc: 9666,
  /** The metrics API server's secure port (`service.portHttpsTarget`), behind the external.metrics.k8s.io APIService. */
  metricsApiServer: 6443,
  /** The admission webhooks' server (`webhooks.port`, empty, so 9443). */
  admissionWebhooks: 9443,
} as const;

/** Where the queue-depth (postgresql) trigger connects. */
export interface KedaDatabaseTarget {
  /** CIDRs of an external jobs database. Default: none. */
  readonly cidrs?: readonly string[];
  /** Pods serving the jobs database in the cluster (the pooler of a database the program runs). Default: none. */
  readonly pods?: { readonly namespace: string; readonly labels: Readonly<Record<string, string>> };
  /** Port the trigger connects to. Required. */
  readonly port: number;
}

/** Every problem with the trigger's database target, with its path under `prefix`. */
export function kedaDatabaseProblems(db: KedaDatabaseTarget, prefix: string): { propertyPath: string; reason: string }[] {
  const problems: { propertyPath: string; reason: string }[] = [];
  if ((db.cidrs ?? []).length === 0 && !db.pods) problems.push({ propertyPath: prefix, reason: "needs cidrs or pods: the queue trigger must reach the database" });
  if (!Number.isInteger(db.port) || db.port < 1 || db.port > 65535) problems.push({ propertyPath: `${prefix}.port`, reason: `expected a TCP port, got ${db.port}` });
  return problems;
}

const tcp = tcpPort;
const pods = podsSelector;

/**
 * The KEDA namespace: deny by default, then the flows of its three Deployments. The API server calls the metrics
 * API server (external metrics for the HPAs) and the admission webhooks from control-plane addresses no selector
 * names, so those two are admitted by port. The operator queries the triggers' sources; of the triggers the
 * processors use, only postgresql leaves the pod (cpu and memory are read by the HPA from metrics.k8s.io, cron
 * is local). Nothing scrapes KEDA's metrics ports: no allowance for Prometheus.
 */
export function kedaNetworkPolicies(db: KedaDatabaseTarget): Record<string, NetworkPolicySpec> {
  const database = [
    ...(db.cidrs ?? []).map((cidr) => ({ ipBlock: { cidr } })),
    ...(db.pods ? [{ ...nsSelector(db.pods.namespace), ...pods(db.pods.labels) }] : []),
  ];
  return {
    "default-deny": { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    "allow-dns-egress": { podSelector: {}, policyTypes: ["Egress"], egress: [DNS_EGRESS] },
    // The operator reconciles ScaledObjects and HPAs, the metrics API server delegates authentication and
    // authorization, the webhooks read the objects they validate.
    "allow-apiserver-egress": { podSelector: {}, policyTypes: ["Egress"], egress: [API_SERVER_EGRESS] },
    operator: {
      ...pods(KEDA_POD_LABELS.operator),
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ from: [pods(KEDA_POD_LABELS.metricsApiServer)], ports: [tcp(KEDA_PORTS.operatorGrpc)] }],
      // An empty `to` would mean every address: without a destination there is no rule.
      egress: database.length > 0 ? [{ to: database, ports: [tcp(db.port)] }] : [],
    },
    "metrics-apiserver": {
      ...pods(KEDA_POD_LABELS.metricsApiServer),
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ ports: [tcp(KEDA_PORTS.metricsApiServer)] }],
      egress: [{ to: [pods(KEDA_POD_LABELS.operator)], ports: [tcp(KEDA_PORTS.operatorGrpc)] }],
    },
    "admission-webhooks": {
      ...pods(KEDA_POD_LABELS.admissionWebhooks),
      policyTypes: ["Ingress"],
      ingress: [{ ports: [tcp(KEDA_PORTS.admissionWebhooks)] }],
    },
  };
}
