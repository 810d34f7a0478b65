import { describe, expect, it } from "vitest";
import { networkPolicies as processorPolicies } from "../namespace/builders";
import { evaluateFlow, inNamespace, type Endpoint } from "../namespace/policy-eval";
import { databaseNetworkPolicies } from "./network";
import { BARMAN_PLUGIN_POD_LABELS, OPERATOR_POD_LABELS, operatorNetworkPolicies } from "./operator-network";

const args = { clusterName: "jobs-db", clientNamespaces: ["processors", "keda"], operatorNamespace: "cnpg-system", monitoringNamespace: "monitoring" };
const policies = databaseNetworkPolicies(args) as Record<string, any>;
const tcp = (port: number) => ({ protocol: "TCP", port });
const ports = (rules: any[]) => rules.flatMap((r) => r.ports.map((p: any) => `${p.protocol}/${p.port}`)).sort();
const ns = (name: string) => ({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": name } } });
const members = { matchLabels: { "cnpg.io/cluster": "jobs-db" }, matchExpressions: [{ key: "cnpg.io/poolerName", operator: "DoesNotExist" }] };
const poolers = { matchLabels: { "cnpg.io/poolerName": "jobs-db-pooler-rw" } };

describe("database namespace NetworkPolicies", () => {
  it("deny all ingress and egress by default", () => {
    expect(policies["default-deny"]).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
  });

  it("let every pod resolve names and reach the API server, on its ports only", () => {
    expect(ports(policies["allow-dns-egress"].egress)).toEqual(["TCP/53", "UDP/53"]);
    expect(policies["allow-dns-egress"].podSelector).toEqual({});
    expect(policies["allow-apiserver-egress"]).toEqual({ podSelector: {}, policyTypes: ["Egress"], egress: [{ ports: [tcp(443), tcp(6443)] }] });
  });

  it("tell the cluster's members from its poolers, which carry the cluster's label too", () => {
    expect(policies["allow-postgres"].podSelector).toEqual(members);
    expect(policies["allow-instance-egress"].podSelector).toEqual(members);
    expect(policies["allow-pooler-clients"].podSelector).toEqual(poolers);
    expect(policies["allow-pooler-egress"].podSelector).toEqual(poolers);
  });

  it("admit the operator's pods, not its whole namespace, to PostgreSQL and the status port: one peer with both selectors", () => {
    expect(policies["allow-postgres"].ingress).toContainEqual({
      from: [{ ...ns("cnpg-system"), podSelector: { matchLabels: { "app.kubernetes.io/name": "cloudnative-pg", "app.kubernetes.io/instance": "cnpg" } } }],
      ports: [tcp(5432), tcp(8000)],
    });
  });

  it("let members reach each other on PostgreSQL and the status port, and public addresses on HTTPS only", () => {
    expect(policies["allow-instance-egress"].egress).toEqual([
      { to: [{ podSelector: members }], ports: [tcp(5432), tcp(8000)] },
      { to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10"] } }], ports: [tcp(443)] },
    ]);
  });

  it("let the poolers reach the members' PostgreSQL and nothing else", () => {
    expect(policies["allow-pooler-egress"]).toEqual({ podSelector: poolers, policyTypes: ["Egress"], egress: [{ to: [{ podSelector: members }], ports: [tcp(5432)] }] });
  });

  it("admit the pooler's clients only from the client namespaces, and open no rule to every source without one", () => {
    expect(policies["allow-pooler-clients"].ingress[0]).toEqual({ from: [ns("processors"), ns("keda")], ports: [tcp(5432)] });
    const none = databaseNetworkPolicies({ ...args, clientNamespaces: [] }) as Record<string, any>;
    expect(none["allow-pooler-clients"].ingress).toEqual([{ from: [ns("monitoring")], ports: [tcp(9127)] }]);
  });

  it("allow nothing else: the only ports any rule opens", () => {
    const all = Object.values(policies).flatMap((p: any) => [...(p.ingress ?? []), ...(p.egress ?? [])]);
    expect([...new Set(ports(all))]).toEqual(["TCP/443", "TCP/53", "TCP/5432", "TCP/6443", "TCP/8000", "TCP/9127", "TCP/9187", "UDP/53"]);
  });
});

describe("database namespace flows, evaluated as Kubernetes does", () => {
  const world = [
    ...inNamespace("jobs-db", policies),
    ...inNamespace("cnpg-system", operatorNetworkPolicies([{ namespace: "jobs-db", name: "jobs-db" }])),
    ...inNamespace(
      "processors",
      processorPolicies({
        ingressNamespace: "ingress",
        ingressControllerPodLabels: { app: "ingress" },
        monitoringNamespace: "monitoring",
        httpPort: 8080,
        metricsPort: 9090,
        databaseCidrs: [],
        databasePort: 5432,
        databasePods: { namespace: "jobs-db", labels: { "cnpg.io/poolerName": "jobs-db-pooler-rw" } },
        httpsEgressLabel: "pitchey.io/https-egress",
      }),
    ),
  ];
  // Pods as CloudNativePG 1.30 labels them (pkg/specs/pods.go, jobs.go, pgbouncer/deployments.go).
  const cluster = { "cnpg.io/cluster": "jobs-db", "app.kubernetes.io/name": "postgresql" };
  const instance = (n: number): Endpoint => ({ namespace: "jobs-db", labels: { ...cluster, "cnpg.io/instanceName": `jobs-db-${n}`, "cnpg.io/podRole": "instance" } });
  const job = (role: string): Endpoint => ({ namespace: "jobs-db", labels: { ...cluster, "cnpg.io/instanceName": "jobs-db-2", "cnpg.io/jobRole": role } });
  const pooler: Endpoint = { namespace: "jobs-db", labels: { ...cluster, "cnpg.io/poolerName": "jobs-db-pooler-rw", "cnpg.io/podRole": "pooler" } };
  const operator: Endpoint = { namespace: "cnpg-system", labels: { ...OPERATOR_POD_LABELS } };
  const plugin: Endpoint = { namespace: "cnpg-system", labels: { ...BARMAN_PLUGIN_POD_LABELS } };
  const processor: Endpoint = { namespace: "processors", labels: { "app.kubernetes.io/component": "processor" } };
  const kedaOperator: Endpoint = { namespace: "keda", labels: { app: "keda-operator" } };
  const prometheus: Endpoint = { namespace: "monitoring", labels: { "app.kubernetes.io/name": "prometheus" } };
  const dns: Endpoint = { namespace: "kube-system", labels: { "k8s-app": "kube-dns" } };
  const r2: Endpoint = { ip: "104.18.8.90" };
  const apiServer: Endpoint = { ip: "172.16.0.2" };
  const privateService: Endpoint = { ip: "10.20.0.5" };

  const allowed = (from: Endpoint, to: Endpoint, port: number, protocol = "TCP") => evaluateFlow(world, from, to, port, protocol).allowed;

  it.each([
    ["a replica streams from the primary (behind the -rw Service)", instance(2), instance(1), 5432],
    ["the primary's isolation check calls a peer's /failsafe", instance(1), instance(3), 8000],
    ["a join Job copies the primary with pg_basebackup", job("join"), instance(1), 5432],
    ["the primary's sidecar archives WAL to R2", instance(1), r2, 443],
    ["dr's full-recovery Job restores prod's archive from R2", job("full-recovery"), r2, 443],
    ["an instance manager watches its Cluster", instance(1), apiServer, 443],
    ["an initdb Job reads its Cluster", job("initdb"), apiServer, 443],
    ["an instance resolves the -rw Service", instance(2), dns, 53, "UDP"],
    ["a pooler forwards to the primary", pooler, instance(1), 5432],
    ["a pooler watches its Pooler", pooler, apiServer, 6443],
    ["a pooler resolves the -rw Service", pooler, dns, 53, "UDP"],
    ["the operator polls an instance's status", operator, instance(1), 8000],
    ["the operator connects to PostgreSQL", operator, instance(2), 5432],
    ["a processor connects through the pooler", processor, pooler, 5432],
    ["KEDA's operator queries the queue depth through the pooler", kedaOperator, pooler, 5432],
    ["Prometheus scrapes an instance", prometheus, instance(1), 9187],
    ["Prometheus scrapes a pooler", prometheus, pooler, 9127],
  ] as [string, Endpoint, Endpoint, number, string?][])("allows: %s", (_name, from, to, port, protocol) => {
    expect(allowed(from, to, port, protocol)).toBe(true);
  });

  it.each([
    ["an instance into the processors' namespace", instance(1), processor, 8080],
    ["an instance to a processor's metrics port", instance(1), processor, 9090],
    ["an instance to a private address off the HTTPS port", instance(1), privateService, 9000],
    ["an instance to the cloud metadata server", instance(1), { ip: "169.254.169.254" }, 80],
    ["an instance to an internet database", instance(1), { ip: "203.0.113.9" }, 5432],
    ["an instance to the pooler", instance(1), pooler, 5432],
    ["an instance to the operator's webhook", instance(1), operator, 9443],
    ["a pooler to the internet off the HTTPS port", pooler, { ip: "203.0.113.9" }, 80],
    ["a pooler to an instance's status port", pooler, instance(1), 8000],
    ["a pooler into the processors' namespace", pooler, processor, 8080],
    ["the Barman Cloud plugin's manager to PostgreSQL", plugin, instance(1), 5432],
    ["the Barman Cloud plugin's manager to the status port", plugin, instance(1), 8000],
    ["a processor straight to an instance", processor, instance(1), 5432],
    ["KEDA straight to an instance", kedaOperator, instance(1), 5432],
    ["Prometheus to PostgreSQL", prometheus, instance(1), 5432],
  ] as [string, Endpoint, Endpoint, number][])("denies: %s", (_name, from, to, port) => {
    expect(allowed(from, to, port)).toBe(false);
  });

  it("keeps the object-store rule to public addresses: a private address on 443 passes only as a possible API server", () => {
    expect(evaluateFlow(world, instance(1), r2, 443).egress).toEqual(["allow-apiserver-egress", "allow-instance-egress"]);
    expect(evaluateFlow(world, instance(1), privateService, 443).egress).toEqual(["allow-apiserver-egress"]);
    expect(evaluateFlow(world, instance(1), { ip: "169.254.169.254" }, 443).egress).toEqual(["allow-apiserver-egress"]);
    // The poolers have no object-store rule: the internet on 443 is open to them only as the API server's port.
    expect(evaluateFlow(world, pooler, r2, 443).egress).toEqual(["allow-apiserver-egress"]);
  });

  it("admits only the operator's pods from its namespace, whatever that namespace lets its other pods send", () => {
    const own = inNamespace("jobs-db", policies);
    expect(evaluateFlow(own, operator, instance(1), 8000).ingress).toEqual(["allow-postgres"]);
    expect(evaluateFlow(own, plugin, instance(1), 5432).ingress).toEqual([]);
    expect(evaluateFlow(own, plugin, instance(1), 8000).ingress).toEqual([]);
  });

  it("isolates every pod of the namespace both ways", () => {
    for (const pod of [instance(1), job("initdb"), pooler, { namespace: "jobs-db", labels: { run: "debug" } }]) {
      const v = evaluateFlow(world, pod, { namespace: "jobs-db", labels: { run: "debug" } }, 5432);
      expect(v.egress).not.toBe("unrestricted");
      expect(v.ingress).not.toBe("unrestricted");
      expect(v.allowed).toBe(false);
    }
  });
});
