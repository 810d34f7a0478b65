import { customQueryMetricNames } from "../backup/restore-builders";
import { VELERO_METRICS } from "../backup/velero-rules";
import { monitoringQueries } from "../database/builders";

/**
 * Metric names the rules and dashboards may read besides the worker's own registry: what each exporter the stack
 * scrapes really exposes. One list, so a rule reading a metric nobody exports fails a test instead of staying
 * silent in production. Add a name here only after checking the exporter's documentation or a scrape.
 */
export const EXPORTER_METRICS = {
  /** Prometheus itself, per target. */
  prometheus: ["up"],
  /** cAdvisor, scraped through the kubelet's /metrics/cadvisor. */
  cadvisor: ["container_cpu_usage_seconds_total", "container_memory_working_set_bytes", "container_cpu_cfs_throttled_periods_total", "container_cpu_cfs_periods_total"],
  /** The kubelet's own /metrics. */
  kubelet: ["kubelet_volume_stats_available_bytes", "kubelet_volume_stats_capacity_bytes"],
  "kube-state-metrics": [
    "kube_pod_container_resource_limits",
    "kube_pod_container_resource_requests",
    "kube_pod_container_status_restarts_total",
    "kube_deployment_status_replicas_available",
    "kube_deployment_spec_replicas",
    // The CronJob collector (kube-state-metrics 2.20's docs/metrics/workload/cronjob-metrics.md).
    "kube_cronjob_status_last_successful_time",
    "kube_cronjob_created",
  ],
  "node-exporter": ["node_filesystem_avail_bytes", "node_filesystem_size_bytes"],
  /** CloudNativePG's instance exporter (default monitoring queries). */
  cnpg: ["cnpg_backends_total", "cnpg_pg_settings_setting", "cnpg_pg_stat_archiver_failed_count", "cnpg_pg_stat_archiver_seconds_since_last_archival"],
  /** The same exporter's custom queries the program installs (heartbeat lag, restore verification), as it names them. */
  "cnpg-custom": customQueryMetricNames(monitoringQueries()),
  "cert-manager": ["certmanager_certificate_expiration_timestamp_seconds"],
  /** The Velero server (cluster-state backups). */
  velero: Object.values(VELERO_METRICS),
} as const satisfies Record<string, readonly string[]>;

const KEYWORDS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset", "inf", "nan"]);

/**
 * The metric names a PromQL expression reads: string literals, label matchers, grouping clauses, ranges and
 * functions are removed, and what is left are series selectors. Good enough for the expressions this program writes
 * (no subqueries with `@` modifiers); a name it cannot see would be a name the test cannot check, so it errs on
 * the side of reporting.
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/'(?:[^'\\]|\\.)*'/g, "''")
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, " ");
  const names = new Set<string>();
  const ident = /([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g;
  for (let m = ident.exec(stripped); m; m = ident.exec(stripped)) {
    const [, name, call] = m;
    const before = stripped[m.index - 1];
    if (call || KEYWORDS.has(name.toLowerCase()) || (before !== undefined && /[0-9.]/.test(before))) continue;
    names.add(name);
  }
  return [...names].sort();
}

/** Series names a Prometheus client registry's metric produces: histograms and summaries add their suffixes. */
export function seriesNames(metric: { name: string; type: string }): string[] {
  if (metric.type === "histogram") return [`${metric.name}_bucket`, `${metric.name}_count`, `${metric.name}_sum`];
  if (metric.type === "summary") return [metric.name, `${metric.name}_count`, `${metric.name}_sum`];
  return [metric.name];
}
