import { describe, expect, it } from "vitest";
import type { PoolScheduling } from "../cluster/types";
import { k8sLabels } from "../labels";
import type { RuleArgs } from "./args";
import { jobsDashboard, overviewDashboard, promExpressions, sloDashboard } from "./dashboards";
import { logsLifecycleRules, podMonitorSpec, validateObservabilityArgs, type ObservabilityArgs } from "./index";
import { metricNames } from "./metrics";
import { agentNetworkPolicies, monitoringNetworkPolicies, POD_LABELS } from "./network";
import { durationSeconds, leMatcher, validateRuleArgs } from "./rules";
import { alloyConfig, grafanaValues, lokiValues, prometheusStackValues } from "./values";

const pool: PoolScheduling = { name: "general", labels: { "pitchey.io/pool": "general" }, taints: [] };
const services = ["video-processor", "code-executor"];
const rules: RuleArgs = {
  services: [
    { name: "video-processor", jobType: "video", availability: 99.9, latencyP95Seconds: 600 },
    { name: "code-executor", jobType: "code", availability: 99.99, latencyP95Seconds: 30 },
  ],
  processorNamespace: "processors",
  alerts: {
    containerDown: { for: "2m" },
    highCpu: { threshold: 85, for: "5m" },
    highMemory: { threshold: 90, for: "5m" },
    queueBacklog: { threshold: 500, for: "10m" },
    errorRate: { threshold: 0.01, for: "5m" },
    responseTimeP95: { threshold: 1, for: "5m" },
    costPerJob: { threshold: 0.25, for: "15m" },
    databaseConnections: { threshold: 5, for: "2m" },
    storage: { threshold: 90, for: "5m" },
    certificateExpiryDays: { threshold: 7, for: "1h" },
    deadLetters: { threshold: 0, for: "0m", window: "15m" },
    leaseExpiries: { threshold: 5, for: "0m", window: "15m" },
  },
  burnRate: {
    periodDays: 30,
    page: [{ factor: 14.4, long: "1h", short: "5m" }],
    ticket: [{ factor: 1, long: "3d", short: "6h" }],
    pageFor: "2m",
    ticketFor: "15m",
  },
  runbookBaseUrl: "docs/runbooks/",
};

describe("rule arguments", () => {
  it("reads Prometheus durations", () => {
    expect(durationSeconds("90s")).toBe(90);
    expect(durationSeconds("3d")).toBe(259200);
    expect(durationSeconds("5 minutes")).toBeNaN();
  });

  it("matches a bucket edge as Prometheus 2 and 3 write it", () => {
    const re = new RegExp(`^${/le=~"(.*)"/.exec(leMatcher(600))![1].replace(/\\\\/g, "\\")}$`);
    expect(re.test("600")).toBe(true);
    expect(re.test("600.0")).toBe(true);
    expect(re.test("6000")).toBe(false);
  });

  it("reports every bad argument at once, with its path", () => {
    const bad: RuleArgs = {
      ...rules,
      services: [{ ...rules.services[0], latencyP95Seconds: 450 }],
      alerts: { ...rules.alerts, highCpu: { threshold: 85, for: "soon" } },
      burnRate: { ...rules.burnRate, page: [{ factor: 14.4, long: "5m", short: "1h" }] },
      runbookBaseUrl: "https://example.invalid/runbooks",
    };
    expect(validateRuleArgs(bad).map((p) => p.propertyPath)).toEqual([
      "services[0].latencyP95Seconds",
      "alerts.highCpu.for",
      "burnRate.page[0].short",
      "runbookBaseUrl",
    ]);
  });

  it("refuses a Prometheus retention shorter than the SLO period", () => {
    const args = { namespace: "monitoring", agentsNamespace: "monitoring", processors: { namespace: "processors", services }, rules, prometheus: { retention: "15d" } } as unknown as ObservabilityArgs;
    expect(validateObservabilityArgs(args).map((p) => p.propertyPath)).toEqual(["agentsNamespace", "prometheus.retention"]);
  });
});

describe("scrape and network", () => {
  it("scrapes each processor by the port name `metrics`, with the service name as job and label", () => {
    expect(podMonitorSpec("video-processor", "metrics", "15s")).toEqual({
      jobLabel: "app.kubernetes.io/name",
      selector: { matchLabels: { "app.kubernetes.io/name": "video-processor" } },
      podMetricsEndpoints: [
        {
          port: "metrics",
          path: "/metrics",
          interval: "15s",
          relabelings: [{ sourceLabels: ["__meta_kubernetes_pod_label_app_kubernetes_io_name"], targetLabel: "service", action: "replace" }],
        },
      ],
    });
  });

  const np = monitoringNetworkPolicies({ namespace: "monitoring", agentsNamespace: "monitoring-agents", processorNamespace: "processors", metricsPort: 9090, alertSenderNamespaces: ["falco"], exporterTargets: [] });

  it("denies by default and lets only Prometheus reach the processors, on the metrics port", () => {
    expect(np["default-deny"]).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    const toProcessors = Object.values(np).flatMap((p) =>
      (p.egress as any[] | undefined ?? []).filter((e) => e.to?.some((t: any) => t.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"] === "processors")).map((e) => ({ pod: p.podSelector, ports: e.ports })),
    );
    expect(toProcessors).toEqual([{ pod: { matchLabels: POD_LABELS.prometheus }, ports: [{ protocol: "TCP", port: 9090 }] }]);
  });

  it("admits Falco's namespace to Alertmanager and nothing from outside to Grafana", () => {
    const am = np.alertmanager.ingress as any[];
    expect(am[0].from).toContainEqual({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "falco" } } });
    const grafana = np.grafana.ingress as any[];
    expect(grafana.flatMap((i) => i.from).every((f: any) => !f.namespaceSelector && !f.ipBlock)).toBe(true);
  });

  it("gives the agents namespace a default deny and the log agent only its flows", () => {
    const a = agentNetworkPolicies({ namespace: "monitoring" });
    expect(a["default-deny"]).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    expect(JSON.stringify(a.alloy.egress)).toContain('"port":3100');
  });
});

describe("chart values", () => {
  const routing = { slackChannel: "#ops", email: { to: "a@b.c", from: "d@b.c", smarthost: "smtp.b.c:587", username: "u" }, digest: { groupWait: "5m", groupInterval: "1h", repeatInterval: "24h" } };
  const kpsArgs = {
    environment: "dr",
    agentsNamespace: "monitoring-agents",
    pool,
    prometheus: { scrapeInterval: "15s", evaluationInterval: "15s", retention: "30d", retentionSize: "45GB", storageSize: "50Gi", replicas: 1 },
    alertmanager: { replicas: 2, storageSize: "1Gi" },
    routing,
    labels: {},
  };
  const kps = prometheusStackValues(kpsArgs) as any;

  it("labels the stack's objects with the cost labels only: the chart writes the app.kubernetes.io/* keys itself", () => {
    const labelled = prometheusStackValues({ ...kpsArgs, labels: k8sLabels({ environment: "dr", costCenter: "platform", team: "platform" }, "kube-prometheus-stack", "monitoring") }) as any;
    expect(labelled.commonLabels).toEqual({ "pitchey.io/environment": "dr", "pitchey.io/cost-center": "platform", "pitchey.io/team": "platform" });
  });

  it("scrapes and evaluates every 15 s with the playbook's external labels, keeping 30 days on a volume", () => {
    const p = kps.prometheus.prometheusSpec;
    expect(p).toMatchObject({ scrapeInterval: "15s", evaluationInterval: "15s", externalLabels: { monitor: "pitchey-containers", environment: "dr" }, retention: "30d" });
    expect(p.storageSpec.volumeClaimTemplate.spec.resources.requests.storage).toBe("50Gi");
    expect(p.podMonitorSelectorNilUsesHelmValues).toBe(false);
    expect(p.ruleSelectorNilUsesHelmValues).toBe(false);
    expect(p.nodeSelector).toEqual({ "pitchey.io/pool": "general" });
  });

  it("scrapes kube-state-metrics, node-exporter (in the agents namespace) and cAdvisor", () => {
    expect(kps.kubeStateMetrics.enabled).toBe(true);
    expect(kps.nodeExporter.enabled).toBe(true);
    expect(kps["prometheus-node-exporter"].namespaceOverride).toBe("monitoring-agents");
    expect(kps.kubelet.serviceMonitor.cAdvisor).toBe(true);
    expect(kps.grafana.enabled).toBe(false);
  });

  it("mounts the receivers' Secret into Alertmanager, whose config reads it from files", () => {
    expect(kps.alertmanager.alertmanagerSpec.secrets).toEqual(["alertmanager-receivers"]);
    expect(kps.alertmanager.config.receivers.find((r: any) => r.name === "pagerduty").pagerduty_configs[0].routing_key_file).toBe(
      "/etc/alertmanager/secrets/alertmanager-receivers/pagerduty-routing-key",
    );
  });

  it("runs Loki on TSDB v13 in the bucket with its retention, credentials from a Secret", () => {
    const v = lokiValues({ pool, bucket: "logs", endpoint: "https://x.r2.cloudflarestorage.com", retention: "30d", storageSize: "10Gi", storeSecretName: "loki-object-store", schemaFrom: "2026-01-01", labels: {} }) as any;
    expect(v.loki.schemaConfig.configs).toEqual([{ from: "2026-01-01", store: "tsdb", object_store: "s3", schema: "v13", index: { prefix: "index_", period: "24h" } }]);
    expect(v.loki.storage.bucketNames.chunks).toBe("logs");
    expect(v.loki.limits_config.retention_period).toBe("720h");
    expect(v.loki.compactor.retention_enabled).toBe(true);
    expect(v.singleBinary.extraEnvFrom).toEqual([{ secretRef: { name: "loki-object-store" } }]);
    expect(JSON.stringify(v)).not.toMatch(/AKIA|secretAccessKey":"[^$]/);
  });

  it("sets Loki's security contexts under `loki`, where the chart reads them (it ignores top-level keys of these names)", () => {
    const v = lokiValues({ pool, bucket: "logs", endpoint: "https://x.r2.cloudflarestorage.com", retention: "30d", storageSize: "10Gi", storeSecretName: "loki-object-store", schemaFrom: "2026-01-01", labels: {} }) as any;
    expect(v.loki.podSecurityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, fsGroup: 10001, seccompProfile: { type: "RuntimeDefault" } });
    expect(v.loki.containerSecurityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    expect(v).not.toHaveProperty("podSecurityContext");
    expect(v).not.toHaveProperty("containerSecurityContext");
  });

  it("ships every pod's logs with namespace, pod and container, and makes job_id and type queryable", () => {
    const c = alloyConfig({ lokiUrl: "http://loki.monitoring.svc:3100/loki/api/v1/push", environment: "prod", processorNamespace: "processors" });
    for (const l of ['target_label  = "namespace"', 'target_label  = "pod"', 'target_label  = "container"']) expect(c).toContain(l);
    expect(c).toContain('expressions = { job_id = "jobId", type = "jobType" }');
    expect(c).toContain("stage.structured_metadata");
    expect(c).toContain('selector = "{namespace=\\"processors\\"}"');
  });

  it("gives Grafana its admin from a Secret, no anonymous access, and the data sources the dashboards name", () => {
    const g = grafanaValues({ pool, adminSecretName: "grafana-admin", storageSize: "2Gi", namespace: "monitoring", labels: {} }) as any;
    expect(g.admin.existingSecret).toBe("grafana-admin");
    expect(g.adminPassword).toBeUndefined();
    expect(g["grafana.ini"]["auth.anonymous"].enabled).toBe(false);
    expect(g.datasources["datasources.yaml"].datasources.map((d: any) => d.uid)).toEqual(["prometheus", "loki", "alertmanager"]);
    expect(g.sidecar.dashboards).toMatchObject({ enabled: true, label: "grafana_dashboard", labelValue: "1" });
  });

  it("lets the logs bucket's lifecycle delete a week after Loki's retention and abort stale uploads", () => {
    const [abort, expire] = logsLifecycleRules("30d");
    expect(abort.abortMultipartUploadsTransition?.condition.maxAge).toBe(86400);
    expect(expire.deleteObjectsTransition?.condition.maxAge).toBe(37 * 86400);
  });
});

describe("dashboards", () => {
  const a = { services, processorNamespace: "processors" };

  it("the overview has the playbook's eight panels", () => {
    const d = overviewDashboard(a);
    expect(d.panels!.map((p: any) => p.title)).toEqual(
      expect.arrayContaining(["Service Health", "Request Rate", "Error Rate", "Response Time (P95)", "CPU Usage", "Memory Usage", "Queue Depth", "Active Jobs"]),
    );
    expect(d.panels).toHaveLength(8);
  });

  it("queue panels lead with the runnable count the autoscaler and QueueBacklog read, and show all pending beside it", () => {
    for (const [d, title] of [
      [overviewDashboard(a), "Queue Depth"],
      [jobsDashboard(a), "Queue depth"],
    ] as const) {
      const panel = (d.panels as any[]).find((p) => p.title === title);
      expect(panel.targets.map((t: any) => [t.expr, t.legendFormat])).toEqual([
        ["queue:job_queue_runnable:max", "{{queue}} runnable"],
        ["queue:job_queue_depth:max", "{{queue}} pending (incl. scheduled)"],
      ]);
    }
  });

  it("the SLO dashboard shows SLI, budget left and the burn rate for every alerting window", () => {
    const d = sloDashboard(["5m", "1h", "6h", "3d"], 30);
    const exprs = promExpressions(d);
    expect(exprs).toContain("1 - slo:sli_error:ratio_rate30d");
    for (const w of ["5m", "1h", "6h", "3d"]) expect(exprs.some((e) => e.startsWith(`slo:sli_error:ratio_rate${w}{`))).toBe(true);
  });

  it("the jobs dashboard covers throughput, durations, queues, claim latency, cost, dead letters and logs", () => {
    const d = jobsDashboard(a) as any;
    const types = d.panels.map((p: any) => p.type);
    expect(types).toContain("heatmap");
    expect(types).toContain("logs");
    const names = promExpressions(d).flatMap(metricNames);
    for (const n of ["jobs_total", "job_duration_seconds_bucket", "queue:job_queue_depth:max", "job_claim_latency_seconds_bucket", "service:job_cost_usd:per_completed_job_1h", "jobs_dead_total"]) {
      expect(names).toContain(n);
    }
  });
});
