import type * as k8s from "@pulumi/kubernetes";
import { API_SERVER_EGRESS, DNS_EGRESS, NON_PUBLIC_CIDRS, nsSelector, podsSelector, tcpPort } from "../namespace/builders";
import { poolerName } from "./builders";
import { OPERATOR_POD_LABELS, OPERATOR_PORTS } from "./operator-network";

type NetworkPolicySpec = k8s.types.input.networking.v1.NetworkPolicySpec;

/** Ports the database namespace's pods listen on, at CloudNativePG's defaults. */
export const DATABASE_PORTS = {
  /** PostgreSQL on each instance, and PgBouncer on each pooler pod. */
  postgres: OPERATOR_PORTS.postgres,
  /** Each instance manager's REST endpoint: the operator's status polls and the instances' isolation check. */
  instanceStatus: OPERATOR_PORTS.instanceStatus,
  /** Each instance's metrics exporter. */
  instanceMetrics: 9187,
  /** Each pooler pod's metrics exporter. */
  poolerMetrics: 9127,
  /** HTTPS to the object store holding the WAL archive and base backups. */
  objectStore: 443,
} as const;

/** Label CloudNativePG puts on every pod of a `Cluster`: its instances, their set-up Jobs, and its poolers too. */
const CLUSTER_LABEL = "cnpg.io/cluster";
/** Label only a `Pooler`'s pods carry (their Deployment's selector). */
const POOLER_LABEL = "cnpg.io/poolerName";

export interface DatabaseNetworkArgs {
  /** The `Cluster`'s name (its pods' `cnpg.io/cluster` label). Required. */
  readonly clusterName: string;
  /** Namespaces whose workloads connect to the pooler (processors, KEDA). Required. */
  readonly clientNamespaces: readonly string[];
  /** Namespace of the CloudNativePG operator; only its operator pods (`OPERATOR_POD_LABELS`) are admitted. Required. */
  readonly operatorNamespace: string;
  /** Namespace whose Prometheus scrapes the instances' and poolers' exporters. Required. */
  readonly monitoringNamespace: string;
}

/**
 * The database namespace: deny ingress and egress by default, then the flows CloudNativePG 1.30 and the Barman
 * Cloud plugin v0.13 use, as their sources show (docs/decisions.md #81 names each file):
 *
 * - A `Cluster`'s members are its instances and the Jobs that set them up (`initdb`, `join`, `full-recovery`): all
 *   carry `cnpg.io/cluster`, but so do the poolers' pods, so members are that label without `cnpg.io/poolerName`.
 * - Members reach each other on 5432 (a replica streams from the primary, `join` copies it with pg_basebackup,
 *   pg_rewind reads it; all through the `-rw` Service) and on 8000: the primary's liveness probe calls every
 *   instance's `/failsafe` (the isolation check, on by default since 1.27), and a primary that can reach neither the
 *   API server nor its peers is shut down. A pod selector covers the Service: GKE Dataplane V2 judges the connection
 *   after the Service's DNAT, at the primary's pod; the EKS VPC CNI judges it before, at the ClusterIP, which its
 *   policy controller adds to a rule whose pod selector matches the Service's selector, as the `-rw` Service's
 *   (`cnpg.io/cluster`, `cnpg.io/instanceRole: primary`) matches the members'. The same holds for the poolers.
 * - Every pod resolves names and talks to the API server: instance managers watch their `Cluster`, write its status
 *   and hold the primary's Lease; the plugin's sidecar reads its `ObjectStore`, Secrets and `Backup`s; PgBouncer
 *   pods watch their `Pooler`.
 * - Members reach the object store on 443: the plugin's sidecar inside each instance pod (and in the
 *   `full-recovery` Job) archives and restores WAL and takes base backups; dr's instances read prod's archive. The
 *   store is outside the cluster, so any public address, never a private one. The sidecar serves the instance
 *   manager over a socket in the pod and calls neither the plugin's manager nor the operator.
 * - Poolers reach members on 5432 only (PgBouncer's `* = host=<cluster>-rw`, its auth query included).
 * - In: PostgreSQL and 8000 from members; 5432 from poolers; 5432 and 8000 from the operator's pods only; the pooler
 *   from client namespaces; the exporters (9187, 9127) from monitoring.
 *
 * The API server has no address a selector can name (API_SERVER_EGRESS), so TCP 443 and 6443 stay open to every
 * address from every pod here, as in the operator's and KEDA's namespaces; the object-store rule is what members
 * would keep if that rule were ever narrowed to the control plane's addresses.
 */
export function databaseNetworkPolicies(a: DatabaseNetworkArgs): Record<string, NetworkPolicySpec> {
  const tcp = tcpPort;
  const p = DATABASE_PORTS;
  const members = podsSelector({ [CLUSTER_LABEL]: a.clusterName }, [POOLER_LABEL]);
  const poolers = podsSelector({ [POOLER_LABEL]: poolerName(a.clusterName) });
  const operator = { ...nsSelector(a.operatorNamespace), ...podsSelector(OPERATOR_POD_LABELS) };
  return {
    "default-deny": { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    "allow-dns-egress": { podSelector: {}, policyTypes: ["Egress"], egress: [DNS_EGRESS] },
    "allow-apiserver-egress": { podSelector: {}, policyTypes: ["Egress"], egress: [API_SERVER_EGRESS] },
    "allow-postgres": {
      ...members,
      policyTypes: ["Ingress"],
      ingress: [
        { from: [members, poolers], ports: [tcp(p.postgres)] },
        { from: [members], ports: [tcp(p.instanceStatus)] },
        { from: [operator], ports: [tcp(p.postgres), tcp(p.instanceStatus)] },
        { from: [nsSelector(a.monitoringNamespace)], ports: [tcp(p.instanceMetrics)] },
      ],
    },
    "allow-instance-egress": {
      ...members,
      policyTypes: ["Egress"],
      egress: [
        { to: [members], ports: [tcp(p.postgres), tcp(p.instanceStatus)] },
        { to: [{ ipBlock: { cidr: "0.0.0.0/0", except: NON_PUBLIC_CIDRS } }], ports: [tcp(p.objectStore)] },
      ],
    },
    "allow-pooler-clients": {
      ...poolers,
      policyTypes: ["Ingress"],
      ingress: [
        // An empty `from` would admit every source: without a client namespace there is no rule.
        ...(a.clientNamespaces.length > 0 ? [{ from: a.clientNamespaces.map(nsSelector), ports: [tcp(p.postgres)] }] : []),
        { from: [nsSelector(a.monitoringNamespace)], ports: [tcp(p.poolerMetrics)] },
      ],
    },
    "allow-pooler-egress": { ...poolers, policyTypes: ["Egress"], egress: [{ to: [members], ports: [tcp(p.postgres)] }] },
  };
}
