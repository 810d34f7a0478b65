import { describe, expect, it } from "vitest";
import { evaluateFlow, inNamespace } from "../namespace/policy-eval";
import { databaseNetworkPolicies } from "./network";
import { BARMAN_PLUGIN_POD_LABELS, OPERATOR_POD_LABELS, operatorNetworkPolicies } from "./operator-network";

const policies = operatorNetworkPolicies([{ namespace: "jobs-db", name: "jobs-db" }]) as Record<string, any>;
const tcp = (port: number) => ({ protocol: "TCP", port });
const ports = (rules: any[]) => rules.flatMap((r) => r.ports.map((p: any) => `${p.protocol}/${p.port}`)).sort();
const operatorPods = { matchLabels: { "app.kubernetes.io/name": "cloudnative-pg", "app.kubernetes.io/instance": "cnpg" } };
const pluginPods = { matchLabels: { "app.kubernetes.io/name": "plugin-barman-cloud", "app.kubernetes.io/instance": "barman-cloud" } };

describe("CloudNativePG operator namespace NetworkPolicies", () => {
  it("deny all ingress and egress by default", () => {
    expect(policies["default-deny"]).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
  });

  it("let every pod resolve names and reach the API server, on its ports only", () => {
    expect(ports(policies["allow-dns-egress"].egress)).toEqual(["TCP/53", "UDP/53"]);
    expect(policies["allow-dns-egress"].egress[0].to[0].podSelector).toEqual({ matchLabels: { "k8s-app": "kube-dns" } });
    expect(policies["allow-apiserver-egress"]).toEqual({ podSelector: {}, policyTypes: ["Egress"], egress: [{ ports: [tcp(443), tcp(6443)] }] });
  });

  it("select the operator's and the plugin's pods by their charts' selector labels", () => {
    expect(policies.operator.podSelector).toEqual(operatorPods);
    expect(policies["barman-cloud"].podSelector).toEqual(pluginPods);
    expect({ matchLabels: OPERATOR_POD_LABELS }).toEqual(operatorPods);
    expect({ matchLabels: BARMAN_PLUGIN_POD_LABELS }).toEqual(pluginPods);
  });

  it("admit the API server to the operator's webhook server (9443), by port", () => {
    expect(policies.operator.ingress).toEqual([{ ports: [tcp(9443)] }]);
  });

  it("let the operator reach every managed cluster's instances on the status port (8000) and PostgreSQL (5432)", () => {
    expect(policies.operator.egress[0]).toEqual({
      to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "jobs-db" } }, podSelector: { matchLabels: { "cnpg.io/cluster": "jobs-db" } } }],
      ports: [tcp(8000), tcp(5432)],
    });
    const two = operatorNetworkPolicies([
      { namespace: "jobs-db", name: "jobs-db" },
      { namespace: "other", name: "reports" },
    ]) as Record<string, any>;
    expect(two.operator.egress[0].to.map((p: any) => p.podSelector.matchLabels["cnpg.io/cluster"])).toEqual(["jobs-db", "reports"]);
  });

  it("connect the operator and the Barman Cloud plugin over the plugin's gRPC port (9090), and nothing else to the plugin", () => {
    expect(policies.operator.egress[1]).toEqual({ to: [{ podSelector: pluginPods }], ports: [tcp(9090)] });
    expect(policies["barman-cloud"]).toEqual({ podSelector: pluginPods, policyTypes: ["Ingress"], ingress: [{ from: [{ podSelector: operatorPods }], ports: [tcp(9090)] }] });
  });

  it("open no rule to every address when no cluster is managed yet", () => {
    const none = operatorNetworkPolicies([]) as Record<string, any>;
    expect(none.operator.egress).toEqual([{ to: [{ podSelector: pluginPods }], ports: [tcp(9090)] }]);
  });

  it("allow nothing else: the only ports any rule opens (no metrics scrape: nothing scrapes the operator)", () => {
    const all = Object.values(policies).flatMap((p: any) => [...(p.ingress ?? []), ...(p.egress ?? [])]);
    expect([...new Set(ports(all))]).toEqual(["TCP/443", "TCP/53", "TCP/5432", "TCP/6443", "TCP/8000", "TCP/9090", "TCP/9443", "UDP/53"]);
  });

  it("meet the database namespace's policies: its instances admit the operator on every port the operator sends to", () => {
    const db = databaseNetworkPolicies({ clusterName: "jobs-db", clientNamespaces: ["processors", "keda"], operatorNamespace: "cnpg-system", monitoringNamespace: "monitoring" });
    const world = [...inNamespace("cnpg-system", policies), ...inNamespace("jobs-db", db)];
    const operator = { namespace: "cnpg-system", labels: { ...OPERATOR_POD_LABELS } };
    const instance = { namespace: "jobs-db", labels: { "cnpg.io/cluster": "jobs-db", "cnpg.io/podRole": "instance" } };
    for (const port of policies.operator.egress[0].ports) {
      expect(evaluateFlow(world, operator, instance, port.port).allowed, `port ${port.port}`).toBe(true);
    }
  });
});
