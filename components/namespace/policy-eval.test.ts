import { describe, expect, it } from "vitest";
import { evaluateFlow, inCidr, inNamespace, labelsMatch } from "./policy-eval";

const web = { namespace: "a", labels: { app: "web" } };
const db = { namespace: "b", labels: { app: "db" } };

describe("NetworkPolicy evaluation", () => {
  it("lets everything through where no policy selects either end", () => {
    expect(evaluateFlow([], web, db, 5432)).toEqual({ allowed: true, egress: "unrestricted", ingress: "unrestricted" });
  });

  it("needs both the sender's egress and the receiver's ingress once each is isolated", () => {
    const denyB = inNamespace("b", { deny: { podSelector: {}, policyTypes: ["Ingress"] } });
    expect(evaluateFlow(denyB, web, db, 5432)).toEqual({ allowed: false, egress: "unrestricted", ingress: [] });
    const allowB = inNamespace("b", { in: { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "a" } } }], ports: [{ port: 5432 }] }] } });
    expect(evaluateFlow([...denyB, ...allowB], web, db, 5432).allowed).toBe(true);
    expect(evaluateFlow([...denyB, ...allowB], web, db, 5433).allowed).toBe(false);
    const denyA = inNamespace("a", { deny: { podSelector: {}, policyTypes: ["Egress"] } });
    expect(evaluateFlow([...denyA, ...denyB, ...allowB], web, db, 5432)).toEqual({ allowed: false, egress: [], ingress: ["in"] });
  });

  it("reads a spec without policyTypes as Kubernetes defaults it: Ingress, and Egress only with egress rules", () => {
    const ingressOnly = inNamespace("a", { p: { podSelector: {} } });
    expect(evaluateFlow(ingressOnly, web, db, 1).egress).toBe("unrestricted");
    const both = inNamespace("a", { p: { podSelector: {}, egress: [] } });
    expect(evaluateFlow(both, web, db, 1).egress).toEqual([]);
  });

  it("matches a peer with both selectors only where both match, and a pod selector alone in the policy's namespace", () => {
    const peer = { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "a" } }, podSelector: { matchLabels: { app: "web" } } };
    const world = inNamespace("b", { p: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [peer] }, { from: [{ podSelector: { matchLabels: { app: "job" } } }] }] } });
    expect(evaluateFlow(world, web, db, 1).allowed).toBe(true);
    expect(evaluateFlow(world, { namespace: "a", labels: { app: "other" } }, db, 1).allowed).toBe(false);
    expect(evaluateFlow(world, { namespace: "a", labels: { app: "job" } }, db, 1).allowed).toBe(false);
    expect(evaluateFlow(world, { namespace: "b", labels: { app: "job" } }, db, 1).allowed).toBe(true);
  });

  it("matches label expressions", () => {
    const sel = { matchLabels: { c: "x" }, matchExpressions: [{ key: "p", operator: "DoesNotExist" }, { key: "r", operator: "NotIn", values: ["pooler"] }] };
    expect(labelsMatch(sel, { c: "x" })).toBe(true);
    expect(labelsMatch(sel, { c: "x", p: "y" })).toBe(false);
    expect(labelsMatch(sel, { c: "x", r: "pooler" })).toBe(false);
    expect(labelsMatch({ matchExpressions: [{ key: "r", operator: "In", values: ["a"] }] }, { r: "a" })).toBe(true);
    expect(labelsMatch({ matchExpressions: [{ key: "r", operator: "Exists" }] }, {})).toBe(false);
  });

  it("matches addresses to ipBlocks minus their exceptions, and ports to ranges and protocols", () => {
    expect(inCidr("10.1.2.3", "10.0.0.0/8")).toBe(true);
    expect(inCidr("11.1.2.3", "10.0.0.0/8")).toBe(false);
    expect(inCidr("203.0.113.9", "0.0.0.0/0")).toBe(true);
    const world = inNamespace("a", {
      p: { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8"] } }], ports: [{ protocol: "TCP", port: 8000, endPort: 8010 }] }] },
    });
    expect(evaluateFlow(world, web, { ip: "203.0.113.9" }, 8005).allowed).toBe(true);
    expect(evaluateFlow(world, web, { ip: "203.0.113.9" }, 8011).allowed).toBe(false);
    expect(evaluateFlow(world, web, { ip: "203.0.113.9" }, 8005, "UDP").allowed).toBe(false);
    expect(evaluateFlow(world, web, { ip: "10.0.0.1" }, 8005).allowed).toBe(false);
    // An ipBlock names addresses outside the cluster, not pods.
    expect(evaluateFlow(world, web, db, 8005).allowed).toBe(false);
  });
});
