import { describe, expect, it } from "vitest";
import { networkPolicies, NON_PUBLIC_CIDRS, podSecurityLabels } from "./builders";

const policies = networkPolicies({
  ingressNamespace: "ingress-nginx",
  ingressControllerPodLabels: { "app.kubernetes.io/name": "nginx-ingress" },
  monitoringNamespace: "monitoring",
  httpPort: 8080,
  metricsPort: 9090,
  databaseCidrs: ["10.40.0.0/24"],
  databasePort: 5432,
  httpsEgressLabel: "pitchey.io/egress-https",
}) as Record<string, any>;

describe("processor namespace NetworkPolicies", () => {
  it("deny all ingress and egress by default", () => {
    expect(policies["default-deny"]).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
  });

  it("admit the ingress controller's pods (not its whole namespace) to the API port only", () => {
    const p = policies["allow-ingress-controller"];
    expect(p.ingress).toEqual([
      {
        from: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } },
            podSelector: { matchLabels: { "app.kubernetes.io/name": "nginx-ingress" } },
          },
        ],
        ports: [{ protocol: "TCP", port: 8080 }],
      },
    ]);
  });

  it("admit only Prometheus's pods, and only to the metrics port", () => {
    const p = policies["allow-monitoring-scrape"];
    expect(p.ingress).toEqual([
      {
        from: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } },
            podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } },
          },
        ],
        ports: [{ protocol: "TCP", port: 9090 }],
      },
    ]);
    const ingress = Object.values(policies).filter((x) => x.ingress);
    expect(ingress).toHaveLength(2);
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
