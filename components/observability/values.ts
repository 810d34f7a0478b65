import type { PoolScheduling } from "../cluster/types";
import { chartLabels } from "../labels";
import { alertmanagerConfig, RECEIVER_SECRET, type AlertRoutingArgs } from "./alertmanager";
import { durationSeconds } from "./rules";

/** Restricted-profile security contexts for the monitoring namespace's pods (PSA `restricted`). */
export const RESTRICTED_POD = { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } } as const;
export const RESTRICTED_CONTAINER = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
} as const;

/** Services the Prometheus Operator and the charts create; runbooks and data sources use these names. */
export const SERVICES = {
  prometheus: "prometheus-operated",
  alertmanager: "alertmanager-operated",
  loki: "loki",
  grafana: "grafana",
} as const;
export const PORTS = { prometheus: 9090, alertmanager: 9093, alertmanagerCluster: 9094, loki: 3100, lokiGrpc: 9095, grafana: 3000, nodeExporter: 9100, kubeStateMetrics: 8080, alloy: 12345, kubelet: 10250 } as const;

const onPool = (pool: PoolScheduling) => ({
  nodeSelector: { ...pool.labels },
  tolerations: pool.taints.map((t) => ({ key: t.key, operator: "Equal", value: t.value, effect: t.effect })),
});

/** A node agent runs on every node, whatever its taints (a keyless `Exists` toleration, as the sandbox admission rule expects). */
export const EVERY_NODE = [{ operator: "Exists" }];

const pvc = (size: string) => ({ volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: size } } } } });

export interface PrometheusStackValuesArgs {
  readonly environment: string;
  readonly agentsNamespace: string;
  readonly pool: PoolScheduling;
  readonly prometheus: {
    readonly scrapeInterval: string;
    readonly evaluationInterval: string;
    readonly retention: string;
    readonly retentionSize: string;
    readonly storageSize: string;
    readonly replicas: number;
  };
  readonly alertmanager: { readonly replicas: number; readonly storageSize: string };
  readonly routing: AlertRoutingArgs;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * kube-prometheus-stack: the operator, Prometheus, Alertmanager, kube-state-metrics and node-exporter. Grafana comes
 * from its own chart. Managed control planes hide etcd, the scheduler, the controller manager and kube-proxy, so
 * their scrapes and rules are off. Every ServiceMonitor, PodMonitor and PrometheusRule in the cluster is selected,
 * not only the chart's own.
 */
export function prometheusStackValues(a: PrometheusStackValuesArgs): Record<string, unknown> {
  const pool = onPool(a.pool);
  return {
    crds: { enabled: true },
    // Cost labels only: the chart writes the app.kubernetes.io/* keys on every object itself. commonLabels reaches
    // the operator's pods; the others take theirs below (components/charts/pod-labels.ts).
    commonLabels: chartLabels(a.labels),
    defaultRules: {
      create: true,
      rules: { etcd: false, kubeControllerManager: false, kubeSchedulerAlerting: false, kubeSchedulerRecording: false, kubeProxy: false },
    },
    kubeEtcd: { enabled: false },
    kubeControllerManager: { enabled: false },
    kubeScheduler: { enabled: false },
    kubeProxy: { enabled: false },
    // cAdvisor's container metrics come through the kubelet's /metrics/cadvisor.
    kubelet: { enabled: true, serviceMonitor: { cAdvisor: true } },
    grafana: { enabled: false },
    kubeStateMetrics: { enabled: true },
    "kube-state-metrics": { ...pool, podLabels: chartLabels(a.labels), securityContext: { ...RESTRICTED_POD, runAsUser: 65534, runAsGroup: 65534, fsGroup: 65534 }, containerSecurityContext: RESTRICTED_CONTAINER },
    nodeExporter: { enabled: true },
    // Host network, PID and root filesystem: only in the agents namespace, which admits privileged pods.
    // The chart's default podLabels (jobLabel) stay: Helm merges these into them.
    "prometheus-node-exporter": { namespaceOverride: a.agentsNamespace, tolerations: EVERY_NODE, podLabels: chartLabels(a.labels) },
    prometheusOperator: {
      ...pool,
      // Rules are checked by promtool before they ship; the validating webhook would add a cert job and an
      // API-server-to-pod flow for nothing.
      admissionWebhooks: { enabled: false },
      tls: { enabled: false },
      securityContext: { ...RESTRICTED_POD, runAsUser: 65534, runAsGroup: 65534, fsGroup: 65534 },
      containerSecurityContext: RESTRICTED_CONTAINER,
    },
    prometheus: {
      prometheusSpec: {
        ...pool,
        // The operator copies podMetadata onto the StatefulSet's pods; the CR's own labels stay on the CR.
        podMetadata: { labels: chartLabels(a.labels) },
        replicas: a.prometheus.replicas,
        scrapeInterval: a.prometheus.scrapeInterval,
        evaluationInterval: a.prometheus.evaluationInterval,
        externalLabels: { monitor: "pitchey-containers", environment: a.environment },
        retention: a.prometheus.retention,
        retentionSize: a.prometheus.retentionSize,
        serviceMonitorSelectorNilUsesHelmValues: false,
        podMonitorSelectorNilUsesHelmValues: false,
        ruleSelectorNilUsesHelmValues: false,
        probeSelectorNilUsesHelmValues: false,
        storageSpec: pvc(a.prometheus.storageSize),
        securityContext: { ...RESTRICTED_POD, runAsUser: 1000, runAsGroup: 2000, fsGroup: 2000 },
        resources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { cpu: "2", memory: "8Gi" } },
      },
    },
    alertmanager: {
      config: alertmanagerConfig(a.routing),
      alertmanagerSpec: {
        ...pool,
        podMetadata: { labels: chartLabels(a.labels) },
        replicas: a.alertmanager.replicas,
        // Mounted at /etc/alertmanager/secrets/<name>: the receivers' *_file settings read from there.
        secrets: [RECEIVER_SECRET],
        storage: pvc(a.alertmanager.storageSize),
        securityContext: { ...RESTRICTED_POD, runAsUser: 1000, runAsGroup: 2000, fsGroup: 2000 },
        resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
      },
    },
  };
}

export interface LokiValuesArgs {
  readonly pool: PoolScheduling;
  readonly bucket: string;
  readonly endpoint: string;
  readonly retention: string;
  readonly storageSize: string;
  /** Secret with `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` for the bucket. */
  readonly storeSecretName: string;
  /** Date the TSDB v13 schema starts (fixed once logs exist: changing it orphans stored chunks). */
  readonly schemaFrom: string;
  /** The component's labels; the cost labels among them go on Loki's pods. */
  readonly labels: Readonly<Record<string, string>>;
}

/** Loki as one process (`Monolithic`), TSDB schema v13, chunks and index in an S3-compatible bucket (R2). */
export function lokiValues(a: LokiValuesArgs): Record<string, unknown> {
  const hours = durationSeconds(a.retention) / 3600;
  return {
    deploymentMode: "Monolithic",
    loki: {
      auth_enabled: false,
      commonConfig: { replication_factor: 1 },
      schemaConfig: {
        configs: [{ from: a.schemaFrom, store: "tsdb", object_store: "s3", schema: "v13", index: { prefix: "index_", period: "24h" } }],
      },
      storage: {
        type: "s3",
        bucketNames: { chunks: a.bucket, ruler: a.bucket },
        // Credentials come from the environment (expanded by -config.expand-env), never from values.
        s3: { endpoint: a.endpoint, region: "auto", s3ForcePathStyle: true, accessKeyId: "${AWS_ACCESS_KEY_ID}", secretAccessKey: "${AWS_SECRET_ACCESS_KEY}" },
      },
      limits_config: { retention_period: `${hours}h`, allow_structured_metadata: true, volume_enabled: true },
      compactor: { retention_enabled: true, delete_request_store: "s3" },
      analytics: { reporting_enabled: false },
      // The chart reads the pods' security contexts under `loki`; top-level keys of these names are ignored.
      podSecurityContext: { ...RESTRICTED_POD, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001 },
      containerSecurityContext: RESTRICTED_CONTAINER,
      // Every Loki component's pods (and the caches'), not only the single binary's.
      podLabels: chartLabels(a.labels),
    },
    singleBinary: {
      replicas: 1,
      ...onPool(a.pool),
      extraArgs: ["-config.expand-env=true"],
      extraEnvFrom: [{ secretRef: { name: a.storeSecretName } }],
      persistence: { enabled: true, size: a.storageSize },
    },
    read: { replicas: 0 },
    write: { replicas: 0 },
    backend: { replicas: 0 },
    gateway: { enabled: false },
    chunksCache: { enabled: false },
    resultsCache: { enabled: false },
    lokiCanary: { enabled: false },
    test: { enabled: false },
    minio: { enabled: false },
  };
}

/**
 * The log agent's pipeline (Alloy): every pod's log files on the node, labelled with namespace, pod, container and
 * app; the worker's JSON lines parsed so `type` is a label (five values) and `job_id` structured metadata
 * (one per job: too many values for a label).
 */
export function alloyConfig(a: { lokiUrl: string; environment: string; processorNamespace: string }): string {
  return `discovery.kubernetes "pods" {
  role = "pod"
  selectors {
    role  = "pod"
    field = "spec.nodeName=" + sys.env("HOSTNAME")
  }
}

discovery.relabel "pods" {
  targets = discovery.kubernetes.pods.targets
  rule {
    source_labels = ["__meta_kubernetes_namespace"]
    target_label  = "namespace"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_name"]
    target_label  = "pod"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_container_name"]
    target_label  = "container"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_label_app_kubernetes_io_name"]
    target_label  = "app"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_uid", "__meta_kubernetes_pod_container_name"]
    separator     = "/"
    replacement   = "/var/log/pods/*$1/*.log"
    target_label  = "__path__"
  }
}

local.file_match "pods" {
  path_targets = discovery.relabel.pods.output
}

loki.source.file "pods" {
  targets    = local.file_match.pods.targets
  forward_to = [loki.process.pods.receiver]
}

loki.process "pods" {
  stage.cri {}

  stage.match {
    selector = "{namespace=\\"${a.processorNamespace}\\"}"
    stage.json {
      expressions = { job_id = "jobId", type = "jobType" }
    }
    stage.labels {
      values = { type = "" }
    }
    stage.structured_metadata {
      values = { job_id = "" }
    }
  }

  forward_to = [loki.write.default.receiver]
}

loki.write "default" {
  endpoint {
    url = "${a.lokiUrl}"
  }
  external_labels = { environment = "${a.environment}" }
}
`;
}

export function alloyValues(a: { config: string; labels: Readonly<Record<string, string>> }): Record<string, unknown> {
  return {
    alloy: {
      configMap: { create: true, content: a.config },
      // /var/log from the node: the pods' log files.
      mounts: { varlog: true },
      clustering: { enabled: false },
    },
    controller: { type: "daemonset", tolerations: EVERY_NODE, podLabels: chartLabels(a.labels) },
  };
}

export interface GrafanaValuesArgs {
  readonly pool: PoolScheduling;
  readonly adminSecretName: string;
  readonly storageSize: string;
  readonly namespace: string;
  /** The component's labels; the cost labels among them go on Grafana's pod. */
  readonly labels: Readonly<Record<string, string>>;
}

/** Grafana with Prometheus, Loki and Alertmanager as data sources and dashboards provisioned from ConfigMaps. */
export function grafanaValues(a: GrafanaValuesArgs): Record<string, unknown> {
  const svc = (name: string, port: number) => `http://${name}.${a.namespace}.svc:${port}`;
  return {
    ...onPool(a.pool),
    podLabels: chartLabels(a.labels),
    admin: { existingSecret: a.adminSecretName, userKey: "admin-user", passwordKey: "admin-password" },
    "grafana.ini": {
      "auth.anonymous": { enabled: false },
      "auth.basic": { enabled: true },
      users: { allow_sign_up: false, allow_org_create: false },
      security: { disable_gravatar: true, cookie_secure: true, disable_initial_admin_creation: false },
      analytics: { reporting_enabled: false, check_for_updates: false, check_for_plugin_updates: false },
    },
    datasources: {
      "datasources.yaml": {
        apiVersion: 1,
        datasources: [
          { name: "Prometheus", type: "prometheus", uid: "prometheus", access: "proxy", url: svc(SERVICES.prometheus, PORTS.prometheus), isDefault: true, jsonData: { timeInterval: "15s" } },
          { name: "Loki", type: "loki", uid: "loki", access: "proxy", url: svc(SERVICES.loki, PORTS.loki) },
          { name: "Alertmanager", type: "alertmanager", uid: "alertmanager", access: "proxy", url: svc(SERVICES.alertmanager, PORTS.alertmanager), jsonData: { implementation: "prometheus" } },
        ],
      },
    },
    sidecar: { dashboards: { enabled: true, label: "grafana_dashboard", labelValue: "1", searchNamespace: a.namespace } },
    persistence: { enabled: true, size: a.storageSize },
    securityContext: { ...RESTRICTED_POD, runAsUser: 472, runAsGroup: 472, fsGroup: 472 },
    containerSecurityContext: RESTRICTED_CONTAINER,
  };
}
