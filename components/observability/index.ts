import * as cloudflare from "@pulumi/cloudflare";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { grantsAnnotation, OBJECT_STORE_GRANTS_ANNOTATION, R2Credential, type R2Grant } from "../backup/credentials";
import type { PoolScheduling } from "../cluster/types";
import { k8sLabels, type LabelContext } from "../labels";
import { podSecurityLabels } from "../namespace/builders";
import { CHARTS, type ChartPin } from "../versions";
import { RECEIVER_SECRET, RECEIVER_SECRET_KEYS, type AlertRoutingArgs } from "./alertmanager";
import type { RuleArgs } from "./args";
import { jobsDashboard, overviewDashboard, sloDashboard } from "./dashboards";
import { agentNetworkPolicies, monitoringNetworkPolicies } from "./network";
import { burnWindows, durationSeconds, ruleGroups, validateRuleArgs } from "./rules";
import { alloyConfig, alloyValues, grafanaValues, lokiValues, PORTS, prometheusStackValues, SERVICES } from "./values";

export * from "./alertmanager";
export * from "./args";
export * from "./dashboards";
export * from "./metrics";
export * from "./network";
export * from "./rules";
export * from "./values";

/** Secret holding Loki's R2 key pair (mounted by Loki alone). */
export const LOKI_STORE_SECRET = "loki-object-store";

/** The day Loki's TSDB v13 schema starts; fixed, since moving it would orphan the chunks already stored. */
export const LOKI_SCHEMA_FROM = "2026-01-01";
/** Port name and number the processors serve `/metrics` on; PodMonitors scrape by name. */
export const METRICS_PORT = { name: "metrics", number: 9090 } as const;

/** Pods outside the processors that export metrics Prometheus should scrape. */
export interface ScrapedExporter {
  /** PodMonitor name, also the `job` label. */
  readonly name: string;
  readonly namespace: string;
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly port: { readonly name: string; readonly number: number };
}

export interface ObservabilitySecrets {
  readonly pagerdutyRoutingKey: pulumi.Input<string>;
  readonly slackWebhookUrl: pulumi.Input<string>;
  readonly smtpPassword: pulumi.Input<string>;
  readonly grafanaAdminPassword: pulumi.Input<string>;
}

export interface ObservabilityArgs {
  /** Namespace of Prometheus, Alertmanager, Loki and Grafana (PSA restricted). Required. */
  readonly namespace: string;
  /** Namespace of the node agents (node-exporter, Alloy), PSA privileged. Required. */
  readonly agentsNamespace: string;
  readonly labels: LabelContext;
  /** Stack name, carried as Prometheus's `environment` external label and on every log line. */
  readonly environment: string;
  /** Processors to scrape: their namespace and names (each a Prometheus job). */
  readonly processors: { readonly namespace: string; readonly services: readonly string[] };
  /** Port the processors serve `/metrics` on. Default: `metrics` / 9090. */
  readonly metricsPort?: { readonly name: string; readonly number: number };
  /**
   * Other exporters to scrape (the database's instances and pooler): a PodMonitor each, and a NetworkPolicy flow
   * from Prometheus to their port. Default: none.
   */
  readonly exporters?: readonly ScrapedExporter[];
  /** Namespaces allowed to post alerts to Alertmanager (Falco). Default: none. */
  readonly alertSenderNamespaces?: readonly string[];
  /** Where monitoring runs (the general pool). */
  readonly pool: PoolScheduling;
  readonly rules: RuleArgs;
  readonly routing: AlertRoutingArgs;
  readonly prometheus: {
    readonly scrapeInterval: string;
    readonly evaluationInterval: string;
    readonly retention: string;
    readonly retentionSize: string;
    readonly storageSize: string;
    readonly replicas: number;
  };
  readonly alertmanager: { readonly replicas: number; readonly storageSize: string };
  readonly loki: {
    /** Cloudflare account owning the logs bucket. */
    readonly accountId: string;
    readonly bucket: string;
    /**
     * Name of the R2 token the component mints for Loki (write on the logs bucket, nothing else); unique per stack,
     * e.g. `<cluster>-loki-object-store`. Required.
     */
    readonly tokenName: string;
    readonly location: string;
    readonly retention: string;
    readonly storageSize: string;
  };
  readonly grafana: { readonly adminUser: string; readonly storageSize: string };
  readonly secrets: ObservabilitySecrets;
}

const chart = (pin: ChartPin) => ({ chart: pin.chart, version: pin.version, repositoryOpts: { repo: pin.repo } });

/** Delete rules on the logs bucket: Loki's compactor deletes by retention; the bucket's rule is the backstop a week later. */
export function logsLifecycleRules(retention: string) {
  const day = 86400;
  return [
    { id: "abort-incomplete-uploads", enabled: true, conditions: { prefix: "" }, abortMultipartUploadsTransition: { condition: { type: "Age", maxAge: day } } },
    {
      id: "expire-beyond-log-retention",
      enabled: true,
      conditions: { prefix: "" },
      deleteObjectsTransition: { condition: { type: "Age", maxAge: durationSeconds(retention) + 7 * day } },
    },
  ];
}

/** PodMonitor for one processor: job = the service name (the playbook's job names), `service` label on every series. */
export function podMonitorSpec(service: string, port: string, interval: string): Record<string, unknown> {
  return {
    jobLabel: "app.kubernetes.io/name",
    selector: { matchLabels: { "app.kubernetes.io/name": service } },
    podMetricsEndpoints: [
      {
        port,
        path: "/metrics",
        interval,
        relabelings: [{ sourceLabels: ["__meta_kubernetes_pod_label_app_kubernetes_io_name"], targetLabel: "service", action: "replace" }],
      },
    ],
  };
}

/** Every problem with the arguments, with its path. */
export function validateObservabilityArgs(args: ObservabilityArgs): { propertyPath: string; reason: string }[] {
  const problems = validateRuleArgs(args.rules).map((p) => ({ ...p, propertyPath: `rules.${p.propertyPath}` }));
  if (args.namespace === args.agentsNamespace) problems.push({ propertyPath: "agentsNamespace", reason: `must differ from namespace ("${args.namespace}"): node agents need privileged pods` });
  if (args.processors.services.length === 0) problems.push({ propertyPath: "processors.services", reason: "nothing to monitor" });
  if (durationSeconds(args.prometheus.retention) < args.rules.burnRate.periodDays * 86400) {
    problems.push({ propertyPath: "prometheus.retention", reason: `must keep at least the SLO period (${args.rules.burnRate.periodDays}d), got ${args.prometheus.retention}` });
  }
  return problems;
}

/**
 * Monitoring for the platform: Prometheus and Alertmanager (kube-prometheus-stack), the platform's rules as a
 * PrometheusRule, one PodMonitor per processor, Loki on an R2 bucket with Alloy shipping every pod's logs, Grafana
 * with dashboards as code. Two namespaces: `namespace` at PSA restricted, `agentsNamespace` for host-level agents.
 */
export class Observability extends pulumi.ComponentResource {
  readonly prometheusStack: k8s.helm.v3.Release;
  readonly rules: k8s.apiextensions.CustomResource;
  readonly logsBucket: cloudflare.R2Bucket;
  /** Where falcosidekick and other senders post alerts. */
  readonly alertmanagerUrl: string;

  constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pitchey:observability:Observability", name, {}, opts);
    const problems = validateObservabilityArgs(args);
    if (problems.length > 0) {
      throw new pulumi.InputPropertiesError({
        message: `invalid observability arguments: ${problems.map((p) => `${p.propertyPath}: ${p.reason}`).join("; ")}`,
        errors: problems,
      });
    }
    const child = { parent: this };
    const labels = k8sLabels(args.labels, "monitoring", "monitoring");
    const metricsPort = args.metricsPort ?? METRICS_PORT;
    this.alertmanagerUrl = `http://${SERVICES.alertmanager}.${args.namespace}.svc:${PORTS.alertmanager}`;

    const ns = new k8s.core.v1.Namespace(`${name}-namespace`, { metadata: { name: args.namespace, labels: { ...labels, ...podSecurityLabels("restricted") } } }, child);
    const agentsNs = new k8s.core.v1.Namespace(
      `${name}-agents-namespace`,
      // node-exporter needs the host's network, PID namespace and filesystem; the log agent reads /var/log.
      { metadata: { name: args.agentsNamespace, labels: { ...k8sLabels(args.labels, "monitoring-agents", "monitoring"), ...podSecurityLabels("privileged") } } },
      child,
    );
    const inNs = { ...child, dependsOn: [ns] };
    const meta = (n: string, namespace = args.namespace) => ({ name: n, namespace, labels });
    for (const [policy, spec] of Object.entries(
      monitoringNetworkPolicies({
        namespace: args.namespace,
        agentsNamespace: args.agentsNamespace,
        processorNamespace: args.processors.namespace,
        metricsPort: metricsPort.number,
        alertSenderNamespaces: args.alertSenderNamespaces ?? [],
        exporterTargets: (args.exporters ?? []).map((e) => ({ namespace: e.namespace, ports: [e.port.number] })),
      }),
    )) {
      new k8s.networking.v1.NetworkPolicy(`${name}-${policy}`, { metadata: meta(policy), spec }, inNs);
    }
    for (const [policy, spec] of Object.entries(agentNetworkPolicies({ namespace: args.namespace }))) {
      new k8s.networking.v1.NetworkPolicy(`${name}-agents-${policy}`, { metadata: meta(policy, args.agentsNamespace), spec }, { ...child, dependsOn: [agentsNs] });
    }

    const receivers = new k8s.core.v1.Secret(
      `${name}-alertmanager-receivers`,
      {
        metadata: meta(RECEIVER_SECRET),
        type: "Opaque",
        stringData: {
          [RECEIVER_SECRET_KEYS.pagerdutyRoutingKey]: pulumi.secret(args.secrets.pagerdutyRoutingKey),
          [RECEIVER_SECRET_KEYS.slackWebhookUrl]: pulumi.secret(args.secrets.slackWebhookUrl),
          [RECEIVER_SECRET_KEYS.smtpPassword]: pulumi.secret(args.secrets.smtpPassword),
        },
      },
      inNs,
    );
    const grafanaAdmin = new k8s.core.v1.Secret(
      `${name}-grafana-admin`,
      { metadata: meta("grafana-admin"), type: "Opaque", stringData: { "admin-user": args.grafana.adminUser, "admin-password": pulumi.secret(args.secrets.grafanaAdminPassword) } },
      inNs,
    );
    this.logsBucket = new cloudflare.R2Bucket(
      `${name}-logs-bucket`,
      { accountId: args.loki.accountId, name: args.loki.bucket, location: args.loki.location, storageClass: "Standard" },
      child,
    );
    // Loki's own token, minted like every other R2 credential: write on the logs bucket and nothing else.
    const logsGrants: R2Grant[] = [{ bucket: args.loki.bucket, access: "write" }];
    const logsWriter = new R2Credential(
      `${name}-logs-writer`,
      { accountId: args.loki.accountId, tokenName: args.loki.tokenName, grants: logsGrants },
      { ...child, dependsOn: [this.logsBucket] },
    );
    const logsStore = new k8s.core.v1.Secret(
      `${name}-logs-store`,
      {
        metadata: { ...meta(LOKI_STORE_SECRET), annotations: { [OBJECT_STORE_GRANTS_ANNOTATION]: grantsAnnotation(logsGrants) } },
        type: "Opaque",
        stringData: { AWS_ACCESS_KEY_ID: pulumi.secret(logsWriter.accessKeyId), AWS_SECRET_ACCESS_KEY: logsWriter.secretAccessKey },
      },
      inNs,
    );

    this.prometheusStack = new k8s.helm.v3.Release(
      `${name}-prometheus`,
      {
        name: "kube-prometheus-stack",
        ...chart(CHARTS.kubePrometheusStack),
        namespace: args.namespace,
        atomic: true,
        values: prometheusStackValues({
          environment: args.environment,
          agentsNamespace: args.agentsNamespace,
          pool: args.pool,
          prometheus: args.prometheus,
          alertmanager: args.alertmanager,
          routing: args.routing,
          labels,
        }),
      },
      { ...child, dependsOn: [ns, agentsNs, receivers] },
    );
    const afterCrds = { ...child, dependsOn: [this.prometheusStack] };

    this.rules = new k8s.apiextensions.CustomResource(
      `${name}-rules`,
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: meta("pitchey-platform"),
        spec: { groups: ruleGroups(args.rules) },
      },
      afterCrds,
    );
    for (const service of args.processors.services) {
      new k8s.apiextensions.CustomResource(
        `${name}-podmonitor-${service}`,
        {
          apiVersion: "monitoring.coreos.com/v1",
          kind: "PodMonitor",
          metadata: { name: service, namespace: args.processors.namespace, labels },
          spec: podMonitorSpec(service, metricsPort.name, args.prometheus.scrapeInterval),
        },
        afterCrds,
      );
    }

    for (const e of args.exporters ?? []) {
      new k8s.apiextensions.CustomResource(
        `${name}-podmonitor-${e.name}`,
        {
          apiVersion: "monitoring.coreos.com/v1",
          kind: "PodMonitor",
          metadata: { name: e.name, namespace: e.namespace, labels },
          spec: { selector: { matchLabels: { ...e.matchLabels } }, podMetricsEndpoints: [{ port: e.port.name, path: "/metrics", interval: args.prometheus.scrapeInterval }] },
        },
        afterCrds,
      );
    }

    new cloudflare.R2BucketLifecycle(
      `${name}-logs-lifecycle`,
      { accountId: args.loki.accountId, bucketName: this.logsBucket.name, rules: logsLifecycleRules(args.loki.retention) },
      child,
    );
    const loki = new k8s.helm.v3.Release(
      `${name}-loki`,
      {
        name: "loki",
        ...chart(CHARTS.loki),
        namespace: args.namespace,
        atomic: true,
        values: lokiValues({
          pool: args.pool,
          bucket: args.loki.bucket,
          endpoint: `https://${args.loki.accountId}.r2.cloudflarestorage.com`,
          retention: args.loki.retention,
          storageSize: args.loki.storageSize,
          storeSecretName: LOKI_STORE_SECRET,
          schemaFrom: LOKI_SCHEMA_FROM,
          labels,
        }),
      },
      { ...child, dependsOn: [ns, logsStore, this.logsBucket] },
    );
    new k8s.helm.v3.Release(
      `${name}-alloy`,
      {
        name: "alloy",
        ...chart(CHARTS.alloy),
        namespace: args.agentsNamespace,
        atomic: true,
        values: alloyValues({
          config: alloyConfig({
            lokiUrl: `http://${SERVICES.loki}.${args.namespace}.svc:${PORTS.loki}/loki/api/v1/push`,
            environment: args.environment,
            processorNamespace: args.processors.namespace,
          }),
          labels,
        }),
      },
      { ...child, dependsOn: [agentsNs, loki] },
    );

    const dashboardArgs = { services: args.processors.services, processorNamespace: args.processors.namespace };
    const dashboards = {
      "pitchey-overview": overviewDashboard(dashboardArgs),
      "pitchey-slo": sloDashboard(burnWindows(args.rules), args.rules.burnRate.periodDays),
      "pitchey-jobs": jobsDashboard(dashboardArgs),
    };
    for (const [uid, d] of Object.entries(dashboards)) {
      new k8s.core.v1.ConfigMap(
        `${name}-dashboard-${uid}`,
        { metadata: { name: `dashboard-${uid}`, namespace: args.namespace, labels: { ...labels, grafana_dashboard: "1" } }, data: { [`${uid}.json`]: JSON.stringify(d, null, 2) } },
        inNs,
      );
    }
    new k8s.helm.v3.Release(
      `${name}-grafana`,
      {
        name: "grafana",
        ...chart(CHARTS.grafana),
        namespace: args.namespace,
        atomic: true,
        values: grafanaValues({ pool: args.pool, adminSecretName: "grafana-admin", storageSize: args.grafana.storageSize, namespace: args.namespace, labels }),
      },
      { ...child, dependsOn: [ns, grafanaAdmin, this.prometheusStack, loki] },
    );

    this.registerOutputs({ alertmanagerUrl: this.alertmanagerUrl, logsBucket: this.logsBucket.name });
  }
}
