import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { parse } from "yaml";
import { OBJECT_STORE_GRANTS_ANNOTATION, R2_PERMISSION_GROUPS } from "../components/backup/credentials";
import { ruleGroups } from "../components/observability/rules";
import { parsePlatformConfig, PROJECT } from "./config";
import { observabilityRuleArgs } from "./observability";
import { PROCESSOR_NAMES } from "./config/defaults";
import { renderMonitoring } from "./plan/render";
import type { planStack } from "./plan/wholeStack";

type Plan = Awaited<ReturnType<typeof planStack>>;

/** A committed stack file's project keys, as `loadStackInputs` hands them to the parser. */
export function stackRaw(stack: string): Record<string, unknown> {
  const doc = parse(readFileSync(join(__dirname, "..", `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
  return Object.fromEntries(
    Object.entries(doc.config)
      .filter(([k]) => k.startsWith(`${PROJECT}:`))
      .map(([k, v]) => [k.slice(PROJECT.length + 1), structuredClone(v)]),
  );
}

/** What every stack's plan must show of its monitoring: rules, scrapes, releases, secrets kept out of sight. */
export function monitoringChecks(get: () => Plan, raw: () => Record<string, unknown>): void {
  it("installs the rules generated from its own config as one PrometheusRule, and renders them as a rule file", () => {
    const rule = get().k8s("PrometheusRule").find((r) => r.metadata.name === "pitchey-platform");
    expect(rule.metadata.namespace).toBe("monitoring");
    expect(rule.spec.groups).toEqual(JSON.parse(JSON.stringify(ruleGroups(observabilityRuleArgs(parsePlatformConfig(raw()))))));
    const file = parse(renderMonitoring(get().resources).get("prometheus/rules.yaml")!);
    expect(file.groups).toEqual(get().k8s("PrometheusRule").flatMap((r) => r.spec.groups));
  });

  it("alerts on the staleness of the cloud copy and the results mirror exactly where their CronJobs run unsuspended", () => {
    const rules = get().k8s("PrometheusRule").flatMap((r) => r.spec.groups.flatMap((g: { rules: { alert?: string; expr: string }[] }) => g.rules));
    const watched = rules
      .filter((r) => r.alert && r.expr.includes("kube_cronjob_status_last_successful_time"))
      .map((r) => /namespace="([^"]+)", cronjob="([^"]+)"/.exec(r.expr)!.slice(1).join("/"))
      .sort();
    const cronJobs = get().k8s("CronJob");
    const running = cronJobs.filter((c) => ["backup-copy", "results-mirror"].includes(c.metadata.name) && !c.spec.suspend).map((c) => `${c.metadata.namespace}/${c.metadata.name}`);
    expect(running).toContain("processors/backup-copy");
    expect(watched).toEqual(running.sort());
    // Every watched name is a CronJob of the plan (a rule on a name nothing declares would only ever fire on absence).
    for (const w of watched) expect(cronJobs.map((c) => `${c.metadata.namespace}/${c.metadata.name}`)).toContain(w);
  });

  it("scrapes every processor with a PodMonitor on the `metrics` port, job named after the service", () => {
    const monitors = get().k8s("PodMonitor").filter((m) => m.metadata.namespace === "processors");
    expect(monitors.map((m) => m.metadata.name).sort()).toEqual([...PROCESSOR_NAMES].sort());
    for (const m of monitors) {
      expect(m.metadata.namespace).toBe("processors");
      expect(m.spec.jobLabel).toBe("app.kubernetes.io/name");
      expect(m.spec.podMetricsEndpoints[0].port).toBe("metrics");
    }
  });

  it("pins the four monitoring charts and renders Alertmanager's config and three dashboards", () => {
    const releases = get().ofType("kubernetes:helm.sh/v3:Release").map((r) => r.props as any);
    for (const name of ["kube-prometheus-stack", "loki", "alloy", "grafana"]) {
      const r = releases.find((x) => x.name === name);
      expect(r, name).toBeDefined();
      expect(r.version, name).toMatch(/^\d+\.\d+\.\d+$/);
    }
    const files = renderMonitoring(get().resources);
    expect([...files.keys()].sort()).toEqual(["alertmanager/alertmanager.yaml", "grafana/pitchey-jobs.json", "grafana/pitchey-overview.json", "grafana/pitchey-slo.json", "prometheus/rules.yaml"]);
  });

  it("keeps the receivers' keys, Grafana's password and the logs token out of the plan", () => {
    const secrets = get().k8s("Secret").filter((s) => ["alertmanager-receivers", "grafana-admin", "loki-object-store"].includes(s.metadata.name));
    expect(secrets).toHaveLength(3);
    for (const s of secrets) for (const v of Object.values(s.stringData)) expect(v).toBe("[secret]");
    const am = renderMonitoring(get().resources).get("alertmanager/alertmanager.yaml")!;
    expect(am).toContain("routing_key_file: /etc/alertmanager/secrets/alertmanager-receivers/pagerduty-routing-key");
  });

  it("mints Loki's R2 token itself, limited to writing the logs bucket, into the Secret Loki alone mounts", () => {
    const config = parsePlatformConfig(raw());
    const bucket = config.observability.loki.bucket ?? `${config.cluster.name}-logs`;
    const token = get().ofType("cloudflare:index/accountToken:AccountToken").find((t) => (t.props as any).name === `${config.cluster.name}-loki-object-store`);
    expect(token, "Loki's token").toBeDefined();
    const policies = (token!.props as any).policies;
    expect(policies).toHaveLength(1);
    expect(Object.keys(JSON.parse(policies[0].resources))).toEqual([`com.cloudflare.edge.r2.bucket.${config.backups.accountId}_default_${bucket}`]);
    expect(policies[0].permissionGroups).toEqual([{ id: R2_PERMISSION_GROUPS.write }]);
    const secret = get().k8s("Secret").find((s) => s.metadata.name === "loki-object-store");
    expect(secret.metadata.annotations[OBJECT_STORE_GRANTS_ANNOTATION]).toBe(`write:${bucket}`);
    expect(Object.keys(secret.stringData).sort()).toEqual(["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]);
    const loki = get().ofType("kubernetes:helm.sh/v3:Release").find((r) => (r.props as any).name === "loki")!.props as any;
    expect(loki.values.singleBinary.extraEnvFrom).toEqual([{ secretRef: { name: "loki-object-store" } }]);
  });

  it("puts monitoring under PSA restricted and its node agents in their own privileged namespace, both default-deny", () => {
    const ns = get().k8s("Namespace");
    expect(ns.find((n) => n.metadata.name === "monitoring").metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    expect(ns.find((n) => n.metadata.name === "monitoring-agents").metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("privileged");
    const deny = get().k8s("NetworkPolicy").filter((p) => p.metadata.name === "default-deny").map((p) => p.metadata.namespace);
    expect(deny).toEqual(expect.arrayContaining(["monitoring", "monitoring-agents"]));
  });

  it("stores logs in a bucket of the stack's own, with a lifecycle", () => {
    const bucket = get().ofType("cloudflare:index/r2Bucket:R2Bucket").find((b) => String(b.props.name).endsWith("-logs"));
    expect(bucket).toBeDefined();
    const lifecycle = get().ofType("cloudflare:index/r2BucketLifecycle:R2BucketLifecycle").find((l) => l.props.bucketName === bucket!.props.name);
    expect(lifecycle).toBeDefined();
  });
}
