import { describe, expect, it } from "vitest";
import { networkPolicies, NON_PUBLIC_CIDRS, podSecurityLabels } from "./builders";

const policies = networkPolicies({
  ingressNamespace: "ingress-nginx",
  monitoringNamespace: "monitoring",
  httpPort: 8080,
  databaseCidrs: ["10.40.0.0/24"],
  databasePort: 5432,
  httpsEgressLabel: "pitchey.io/egress-https",
}) as Record<string, any>;

describe("processor namespace NetworkPolicies", () => {
  it("deny all ingress and egress by default", () => {
    expect(policies["default-deny"]).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
  });

  it("admit only the ingress controller and the monitoring namespace, on 8080", () => {
    const ingress = Object.values(policies).filter((p) => p.ingress);
    expect(ingress.map((p) => p.ingress[0].from[0].namespaceSelector.matchLabels["kubernetes.io/metadata.name"]).sort()).toEqual([
      "ingress-nginx",
      "monitoring",
    ]);
    for (const p of ingress) expect(p.ingress[0].ports).toEqual([{ protocol: "TCP", port: 8080 }]);
  });

  it("let every pod reach DNS and the database, and nothing else without the HTTPS label", () => {
    const unlabelled = Object.values(policies).filter((p) => p.egress && Object.keys(p.podSelector).length === 0);
    const targets = unlabelled.flatMap((p) => p.egress.flatMap((e: any) => e.ports.map((port: any) => `${port.protocol}/${port.port}`)));
    expect(targets.sort()).toEqual(["TCP/53", "TCP/5432", "UDP/53"]);
    expect(policies["allow-database-egress"].egress[0].to).toEqual([{ ipBlock: { cidr: "10.40.0.0/24" } }]);
  });

  it("open HTTPS to public addresses only for labelled pods, never the metadata server or private ranges", () => {
    const https = policies["allow-https-egress"];
    expect(https.podSelector).toEqual({ matchLabels: { "pitchey.io/egress-https": "true" } });
    expect(https.egress[0].to[0].ipBlock.except).toEqual(NON_PUBLIC_CIDRS);
    expect(NON_PUBLIC_CIDRS).toContain("169.254.0.0/16");
    expect(https.egress[0].ports).toEqual([{ protocol: "TCP", port: 443 }]);
  });
});

describe("Pod Security Admission", () => {
  it("enforces, audits and warns at restricted", () => {
    expect(podSecurityLabels()).toMatchObject({
      "pod-security.kubernetes.io/enforce": "restricted",
      "pod-security.kubernetes.io/audit": "restricted",
      "pod-security.kubernetes.io/warn": "restricted",
    });
  });
});
