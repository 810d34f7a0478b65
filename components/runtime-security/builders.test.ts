import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, RecordingMocks } from "../testing/mocks";
import { FALCO_RULE_NAMES, FALCO_RULES, falcoNetworkPolicies, falcoValues, urlPort } from "./builders";

const pools = {
  general: { taints: [] },
  spot: { taints: [{ key: "pitchey.io/spot", value: "true", effect: "NoSchedule" as const }] },
  gpu: { taints: [{ key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" as const }] },
  sandbox: { taints: [{ key: "pitchey.io/sandbox", value: "gvisor", effect: "NoSchedule" as const }] },
};

describe("Falco values", () => {
  it("writes the four playbook rules and routes them to Alertmanager at the configured priority", () => {
    expect(FALCO_RULES.match(/^- rule: /gm)).toHaveLength(4);
    expect(FALCO_RULES).toContain("container.privileged=true");
    expect(FALCO_RULES).toContain("stratum+tcp");
    const v = falcoValues({ alertmanagerUrl: "http://am:9093", minimumPriority: "error", pools, environment: "dr", labels: {} }) as any;
    expect(v.falcosidekick).toMatchObject({ enabled: true, config: { alertmanager: { hostport: "http://am:9093", minimumpriority: "error" } } });
    expect(v.tolerations).toHaveLength(3);
  });

  it("fences the Falco namespace: default deny, then only its documented flows", () => {
    const [deny, flows] = falcoNetworkPolicies("http://alertmanager-operated.monitoring.svc:9093");
    expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    const ports = (flows.spec.egress as any[]).flatMap((r) => r.ports.map((p: any) => p.port));
    expect(ports.sort((a, b) => a - b)).toEqual([53, 53, 443, 2801, 9093]);
    expect(urlPort("https://am.example")).toBe(443);
    expect(urlPort("http://am.example")).toBe(80);
  });

});

describe("RuntimeSecurity", () => {
  const mocks = new RecordingMocks();
  beforeAll(async () => {
    await installMocks(mocks, "p", "s");
    const { RuntimeSecurity } = await import("./index");
    const former = new pulumi.ComponentResource("test:x:Cluster", "c", {});
    new RuntimeSecurity("c-falco", { labels: { environment: "dr", costCenter: "cc", team: "t" }, pools, movedFrom: { parent: former, prefix: "c-falco" } });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    await (require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> }).waitForRPCs();
  });
  const byName = (name: string) => mocks.resources.find((r) => r.name === name)!;

  it("installs the pinned chart with the four rules into a privileged, fenced namespace", () => {
    const release = byName("c-falco-release").props as any;
    expect(release).toMatchObject({ name: "falco", chart: "falco", namespace: "falco" });
    for (const rule of FALCO_RULE_NAMES) expect(release.values.customRules["pitchey-rules.yaml"]).toContain(`- rule: ${rule}`);
    expect(release.values.tolerations.map((t: any) => t.key).sort()).toEqual(["nvidia.com/gpu", "pitchey.io/sandbox", "pitchey.io/spot"]);
    expect((byName("c-falco-ns").props as any).metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("privileged");
    expect(["c-falco-default-deny", "c-falco-falco-flows"].map((n) => (byName(n).props as any).metadata.namespace)).toEqual(["falco", "falco"]);
  });

  it("keeps the URNs the resources had in the component that declared them before", () => {
    expect(byName("c-falco-release").aliases).toEqual(["urn:pulumi:s::p::test:x:Cluster$kubernetes:helm.sh/v3:Release::c-falco"]);
    expect(byName("c-falco-ns").aliases).toEqual(["urn:pulumi:s::p::test:x:Cluster$kubernetes:core/v1:Namespace::c-falco-ns"]);
  });
});
