import { describe, expect, it } from "vitest";
import { KEDA_PORTS, kedaDatabaseProblems, kedaNetworkPolicies } from "./network";

const pooler = { namespace: "jobs-db", labels: { "cnpg.io/poolerName": "jobs-db-pooler-rw" } };
const policies = kedaNetworkPolicies({ pods: pooler, port: 5432 }) as Record<string, any>;
const tcp = (port: number) => ({ protocol: "TCP", port });
const ports = (rules: any[]) => rules.flatMap((r) => r.ports.map((p: any) => `${p.protocol}/${p.port}`)).sort();

describe("KEDA namespace NetworkPolicies", () => {
  it("deny all ingress and egress by default", () => {
    expect(policies["default-deny"]).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
  });

  it("let every pod resolve names and reach the API server, on its ports only", () => {
    expect(policies["allow-dns-egress"].podSelector).toEqual({});
    expect(policies["allow-dns-egress"].egress[0].to).toEqual([
      { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } },
    ]);
    expect(ports(policies["allow-dns-egress"].egress)).toEqual(["TCP/53", "UDP/53"]);
    expect(policies["allow-apiserver-egress"]).toEqual({ podSelector: {}, policyTypes: ["Egress"], egress: [{ ports: [tcp(443), tcp(6443)] }] });
  });

  it("select the chart's pods by the `app` label its Deployments select them by", () => {
    expect(policies.operator.podSelector).toEqual({ matchLabels: { app: "keda-operator" } });
    expect(policies["metrics-apiserver"].podSelector).toEqual({ matchLabels: { app: "keda-operator-metrics-apiserver" } });
    expect(policies["admission-webhooks"].podSelector).toEqual({ matchLabels: { app: "keda-admission-webhooks" } });
  });

  it("admit the API server to the metrics API server's secure port (6443) and the webhooks (9443), by port", () => {
    expect(policies["metrics-apiserver"].ingress).toEqual([{ ports: [tcp(6443)] }]);
    expect(policies["admission-webhooks"]).toMatchObject({ policyTypes: ["Ingress"], ingress: [{ ports: [tcp(9443)] }] });
    expect(policies["admission-webhooks"].egress).toBeUndefined();
  });

  it("connect the metrics API server to the operator's gRPC port (9666), and nothing else to it", () => {
    expect(policies["metrics-apiserver"].egress).toEqual([{ to: [{ podSelector: { matchLabels: { app: "keda-operator" } } }], ports: [tcp(9666)] }]);
    expect(policies.operator.ingress).toEqual([{ from: [{ podSelector: { matchLabels: { app: "keda-operator-metrics-apiserver" } } }], ports: [tcp(9666)] }]);
    expect(KEDA_PORTS.operatorGrpc).toBe(9666);
  });

  it("let only the operator query the database, at the pooler's pods and port", () => {
    expect(policies.operator.egress).toEqual([
      {
        to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "jobs-db" } }, podSelector: { matchLabels: { "cnpg.io/poolerName": "jobs-db-pooler-rw" } } }],
        ports: [tcp(5432)],
      },
    ]);
    const withDatabase = Object.entries(policies).filter(([, p]) => (p.egress ?? []).some((r: any) => r.ports.some((x: any) => x.port === 5432)));
    expect(withDatabase.map(([name]) => name)).toEqual(["operator"]);
  });

  it("reach an external database at its CIDRs", () => {
    const external = kedaNetworkPolicies({ cidrs: ["10.40.0.0/24"], port: 6432 }) as Record<string, any>;
    expect(external.operator.egress).toEqual([{ to: [{ ipBlock: { cidr: "10.40.0.0/24" } }], ports: [tcp(6432)] }]);
  });

  it("open nothing at all when the database has no address (an empty `to` would open every one)", () => {
    const none = kedaNetworkPolicies({ port: 5432 }) as Record<string, any>;
    expect(none.operator.egress).toEqual([]);
  });

  it("allow nothing else: the only ports any rule opens", () => {
    const all = Object.values(policies).flatMap((p: any) => [...(p.ingress ?? []), ...(p.egress ?? [])]);
    expect([...new Set(ports(all))]).toEqual(["TCP/443", "TCP/53", "TCP/5432", "TCP/6443", "TCP/9443", "TCP/9666", "UDP/53"]);
    // No Prometheus scrape: nothing in the program scrapes KEDA's metrics ports.
    expect(all.some((r: any) => r.ports.some((p: any) => p.port === 8080))).toBe(false);
  });
});

describe("KEDA database target problems", () => {
  it("accept pods or CIDRs and a TCP port", () => {
    expect(kedaDatabaseProblems({ pods: pooler, port: 5432 }, "queueDatabase")).toEqual([]);
    expect(kedaDatabaseProblems({ cidrs: ["10.40.0.0/24"], port: 5432 }, "queueDatabase")).toEqual([]);
  });

  it("name every problem with its path", () => {
    expect(kedaDatabaseProblems({ cidrs: [], port: 0 }, "queueDatabase")).toEqual([
      { propertyPath: "queueDatabase", reason: "needs cidrs or pods: the queue trigger must reach the database" },
      { propertyPath: "queueDatabase.port", reason: "expected a TCP port, got 0" },
    ]);
  });
});
