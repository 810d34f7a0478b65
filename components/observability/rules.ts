import { backupAlertRules, backupCronJobAlertRules } from "../backup/backup-rules";
import { restoreAlertRules } from "../backup/restore-rules";
import { veleroAlertRules } from "../backup/velero-rules";
import { databaseAlertRules } from "../database/builders";
import type { AlertThresholds, BurnWindow, MonitoredService, RuleArgs } from "./args";

/** One rule in Prometheus rule-file format (the same shape a PrometheusRule's `spec.groups[].rules[]` holds). */
export interface Rule {
  readonly record?: string;
  readonly alert?: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface RuleGroup {
  readonly name: string;
  readonly interval?: string;
  readonly rules: readonly Rule[];
}

/** Bucket edges of the worker's `job_duration_seconds`; latency targets must be one of them. */
export const JOB_DURATION_BUCKETS = [1, 5, 10, 30, 60, 120, 300, 600] as const;

/** Every window a burn-rate rule reads, plus the 5m base. */
const DURATION = /^(\d+)(ms|s|m|h|d|w|y)$/;
const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };

/** Seconds in a Prometheus duration (`90s`, `5m`, `1d`); `NaN` for anything else. */
export function durationSeconds(d: string): number {
  const m = DURATION.exec(d);
  return m ? Number(m[1]) * UNIT_SECONDS[m[2]] : Number.NaN;
}

/** `le` as Prometheus 2 stores it (`600`) and as Prometheus 3 normalises it (`600.0`). */
export const leMatcher = (edge: number) => `le=~"${Number.isInteger(edge) ? `${edge}(\\\\.0)?` : String(edge).replace(".", "\\\\.")}"`;

const alternation = (xs: readonly string[]) => xs.map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, "\\\\$&")).join("|");

/** The alerts the rules define, in one list: names are what runbooks, tests and routing refer to. */
export const ALERTS = {
  ContainerDown: "ContainerDown",
  HighCPUUsage: "HighCPUUsage",
  HighMemoryUsage: "HighMemoryUsage",
  QueueBacklog: "QueueBacklog",
  HighErrorRate: "HighErrorRate",
  HighResponseTime: "HighResponseTime",
  HighCostPerJob: "HighCostPerJob",
  DatabaseConnectionsExhausted: "DatabaseConnectionsExhausted",
  StorageFull: "StorageFull",
  CertificateExpiringSoon: "CertificateExpiringSoon",
  JobsDeadLettered: "JobsDeadLettered",
  JobLeaseExpiries: "JobLeaseExpiries",
  AvailabilityErrorBudgetBurn: "AvailabilityErrorBudgetBurn",
  LatencyErrorBudgetBurn: "LatencyErrorBudgetBurn",
  DatabaseReplicationLagHigh: "DatabaseReplicationLagHigh",
  DatabaseWalArchivingFailing: "DatabaseWalArchivingFailing",
  RestoreVerificationFailed: "RestoreVerificationFailed",
  BackupStale: "BackupStale",
  RestoreVerificationStale: "RestoreVerificationStale",
  VeleroBackupFailed: "VeleroBackupFailed",
  VeleroBackupStale: "VeleroBackupStale",
  BackupCopyStale: "BackupCopyStale",
  ResultsMirrorStale: "ResultsMirrorStale",
} as const;
export type AlertName = keyof typeof ALERTS;

/** Labels every alert carries: who owns it and the service it concerns (routing groups and inhibits by `service`). */
function alert(
  args: RuleArgs,
  name: AlertName,
  rule: { expr: string; for?: string; severity: "critical" | "warning"; service?: string; team?: string; summary: string; description: string; labels?: Record<string, string> },
): Rule {
  return {
    alert: name,
    expr: rule.expr,
    ...(rule.for && rule.for !== "0s" && rule.for !== "0m" ? { for: rule.for } : {}),
    labels: {
      severity: rule.severity,
      team: rule.team ?? "platform",
      ...(rule.service ? { service: rule.service } : {}),
      ...rule.labels,
    },
    annotations: {
      summary: rule.summary,
      description: rule.description,
      runbook_url: `${args.runbookBaseUrl}${name}.md`,
    },
  };
}

/**
 * Recording rules that turn exporters' raw series into the figures the playbook's alerts name:
 * `container_cpu_usage_percent` and `container_memory_usage_percent` (cAdvisor usage over kube-state-metrics
 * limits), `job_failures_total` / `job_total` (the worker's `jobs_total` by status), one pending and one runnable count per queue.
 */
export function recordingRules(args: RuleArgs): RuleGroup {
  const ns = args.processorNamespace;
  const containers = `container=~"${alternation(args.services.map((s) => s.name))}"`;
  const perContainer = "sum by (namespace, pod, container)";
  const withService = (expr: string) => `label_replace(\n  ${expr},\n  "service", "$1", "container", "(.+)"\n)`;
  const rules: Rule[] = [
    {
      record: "pitchey:container_cpu_usage:percent",
      expr: withService(
        `100 * ${perContainer} (rate(container_cpu_usage_seconds_total{namespace="${ns}", ${containers}}[5m]))\n  / ${perContainer} (kube_pod_container_resource_limits{namespace="${ns}", ${containers}, resource="cpu"})`,
      ),
    },
    {
      record: "pitchey:container_memory_usage:percent",
      expr: withService(
        `100 * ${perContainer} (container_memory_working_set_bytes{namespace="${ns}", ${containers}})\n  / ${perContainer} (kube_pod_container_resource_limits{namespace="${ns}", ${containers}, resource="memory"})`,
      ),
    },
    { record: "service:job_attempts:rate5m", expr: "sum by (service) (rate(jobs_total[5m]))" },
    { record: "service:job_failures:rate5m", expr: 'sum by (service) (rate(jobs_total{status=~"failed|dead"}[5m]))' },
    { record: "service:job_error:ratio_rate5m", expr: "service:job_failures:rate5m / service:job_attempts:rate5m" },
    {
      record: "service:http_request_duration_seconds:p95_rate5m",
      expr: 'histogram_quantile(0.95, sum by (service, le) (rate(http_request_duration_seconds_bucket{route=~"/api/.*"}[5m])))',
    },
    {
      // Every attempt's cost (failed ones included) over the jobs delivered: what a finished job really cost.
      record: "service:job_cost_usd:per_completed_job_1h",
      expr: 'sum by (service) (increase(job_cost_usd[1h])) / sum by (service) (increase(jobs_total{status="completed"}[1h]))',
    },
    // Every pod reports every queue's figures from the database: one per queue, not one per pod. Depth counts every
    // pending job (retries in back-off and scheduled ones too); runnable only those a worker could claim now, which is
    // what KEDA scales on and what a backlog is.
    ...args.services.flatMap((s) =>
      (["job_queue_depth", "job_queue_runnable"] as const).map((m) => ({
        record: `queue:${m}:max`,
        expr: `max(${m}{queue="${s.jobType}"})`,
        labels: { queue: s.jobType, service: s.name },
      })),
    ),
  ];
  return { name: "pitchey-recording", rules };
}

/** The playbook's five alerts, on the recorded figures. */
export function playbookAlerts(args: RuleArgs): RuleGroup {
  const a = args.alerts;
  const jobs = alternation(args.services.map((s) => s.name));
  return {
    name: "container_health",
    rules: [
      alert(args, "ContainerDown", {
        // `up == 0` only exists while Prometheus still has the target: a crash-looping pod that loses its endpoint, a
        // Deployment scaled to nothing or a broken service discovery make the series vanish instead. A service that
        // must always run alerts on that absence too (absent() carries the job label from its equality matcher).
        expr: [
          `up{job=~"${jobs}"} == 0`,
          ...args.services.filter((s) => (s.minReplicas ?? 1) > 0).map((s) => `absent(up{job="${s.name}"})`),
        ].join("\nor\n"),
        for: a.containerDown.for,
        severity: "critical",
        summary: "Container {{ $labels.job }} is down",
        // `up` carries the `service` label the scrape config sets from the pod's name label; absent() only `job`.
        description: `{{ $labels.job }} {{ with $labels.pod }}({{ . }}) has not answered its metrics scrape{{ else }}has had no scrape target at all (no pod running, or none discovered){{ end }} for more than ${a.containerDown.for}.`,
      }),
      alert(args, "HighCPUUsage", {
        expr: `pitchey:container_cpu_usage:percent > ${a.highCpu.threshold}`,
        for: a.highCpu.for,
        severity: "warning",
        summary: "High CPU usage on {{ $labels.container }}",
        description: `CPU usage is {{ $value | printf "%.1f" }}% of the limit for {{ $labels.pod }} (threshold ${a.highCpu.threshold}%).`,
      }),
      alert(args, "HighMemoryUsage", {
        expr: `pitchey:container_memory_usage:percent > ${a.highMemory.threshold}`,
        for: a.highMemory.for,
        severity: "warning",
        summary: "High memory usage on {{ $labels.container }}",
        description: `Memory usage is {{ $value | printf "%.1f" }}% of the limit for {{ $labels.pod }} (threshold ${a.highMemory.threshold}%).`,
      }),
      alert(args, "QueueBacklog", {
        // Runnable, not all pending: jobs waiting out a retry back-off or scheduled for later are no backlog, and the
        // processors' autoscaling (KEDA) does not count them either.
        expr: `queue:job_queue_runnable:max > ${a.queueBacklog.threshold}`,
        for: a.queueBacklog.for,
        severity: "warning",
        summary: "High queue depth for {{ $labels.queue }}",
        description: `Queue {{ $labels.queue }} has {{ $value }} jobs ready to run and waiting for a worker (threshold ${a.queueBacklog.threshold}).`,
      }),
      alert(args, "HighErrorRate", {
        expr: `service:job_error:ratio_rate5m > ${a.errorRate.threshold}`,
        for: a.errorRate.for,
        severity: "critical",
        summary: "High error rate for {{ $labels.service }}",
        description: `Error rate is {{ $value | humanizePercentage }} of job attempts for {{ $labels.service }} (threshold ${a.errorRate.threshold * 100}%).`,
      }),
    ],
  };
}

/** The key-metrics table's critical thresholds, the runbook index's alerts, dead letters and lease expiries. */
export function platformAlerts(args: RuleArgs): RuleGroup {
  const a: AlertThresholds = args.alerts;
  return {
    name: "pitchey-platform",
    rules: [
      alert(args, "HighResponseTime", {
        expr: `service:http_request_duration_seconds:p95_rate5m > ${a.responseTimeP95.threshold}`,
        for: a.responseTimeP95.for,
        severity: "warning",
        summary: "Slow API responses from {{ $labels.service }}",
        description: `p95 API response time is {{ $value | humanizeDuration }} (threshold ${a.responseTimeP95.threshold}s).`,
      }),
      alert(args, "HighCostPerJob", {
        expr: `service:job_cost_usd:per_completed_job_1h > ${a.costPerJob.threshold}`,
        for: a.costPerJob.for,
        severity: "warning",
        summary: "Jobs of {{ $labels.service }} cost more than planned",
        description: `Cost per completed job over the last hour is \${{ $value | printf "%.3f" }} (threshold \$${a.costPerJob.threshold}).`,
      }),
      alert(args, "DatabaseConnectionsExhausted", {
        expr: [
          'min by (namespace, pod) (cnpg_pg_settings_setting{name="max_connections"})',
          '- min by (namespace, pod) (cnpg_pg_settings_setting{name="superuser_reserved_connections"})',
          "- sum by (namespace, pod) (cnpg_backends_total)",
          `< ${a.databaseConnections.threshold}`,
        ].join("\n"),
        for: a.databaseConnections.for,
        severity: "critical",
        service: "database",
        summary: "PostgreSQL {{ $labels.pod }} is running out of connections",
        description: `Only {{ $value }} connections are left for applications on {{ $labels.namespace }}/{{ $labels.pod }} (threshold ${a.databaseConnections.threshold}).`,
      }),
      alert(args, "StorageFull", {
        expr: [
          `100 * (1 - kubelet_volume_stats_available_bytes / kubelet_volume_stats_capacity_bytes) > ${a.storage.threshold}`,
          "or",
          `100 * (1 - node_filesystem_avail_bytes{fstype!~"tmpfs|overlay|squashfs"} / node_filesystem_size_bytes{fstype!~"tmpfs|overlay|squashfs"}) > ${a.storage.threshold}`,
        ].join("\n"),
        for: a.storage.for,
        severity: "critical",
        service: "storage",
        summary: "Storage {{ with $labels.persistentvolumeclaim }}{{ . }}{{ else }}{{ $labels.instance }}:{{ $labels.mountpoint }}{{ end }} is almost full",
        description: `{{ $value | printf "%.1f" }}% used (threshold ${a.storage.threshold}%).`,
      }),
      alert(args, "CertificateExpiringSoon", {
        expr: `(certmanager_certificate_expiration_timestamp_seconds - time()) / 86400 < ${a.certificateExpiryDays.threshold}`,
        for: a.certificateExpiryDays.for,
        severity: "warning",
        service: "tls",
        team: "security",
        summary: "Certificate {{ $labels.namespace }}/{{ $labels.name }} expires soon",
        description: `It expires in {{ $value | printf "%.1f" }} days (threshold ${a.certificateExpiryDays.threshold}); cert-manager has not renewed it.`,
      }),
      alert(args, "JobsDeadLettered", {
        expr: `sum by (service) (increase(jobs_dead_total[${a.deadLetters.window}])) > ${a.deadLetters.threshold}`,
        for: a.deadLetters.for,
        severity: "warning",
        summary: "{{ $labels.service }} dead-lettered jobs",
        description: `{{ $value | printf "%.0f" }} jobs ran out of attempts in the last ${a.deadLetters.window}.`,
      }),
      alert(args, "JobLeaseExpiries", {
        expr: `sum by (service) (increase(job_lease_expiries_total[${a.leaseExpiries.window}])) > ${a.leaseExpiries.threshold}`,
        for: a.leaseExpiries.for,
        severity: "warning",
        summary: "{{ $labels.service }} workers are losing their job leases",
        description: `{{ $value | printf "%.0f" }} jobs were reclaimed from workers that stopped renewing their lease in the last ${a.leaseExpiries.window} (threshold ${a.leaseExpiries.threshold}).`,
      }),
    ],
  };
}

export type SloName = "availability" | "latency";

/** Error budget as a ratio: 99.9 % → 0.001; a p95 target → 0.05. */
export function errorBudget(s: MonitoredService, slo: SloName): number {
  return slo === "availability" ? round((100 - s.availability) / 100) : 0.05;
}

const round = (x: number) => Number(x.toPrecision(12));

/** Windows the burn-rate alerts read, shortest first. */
export function burnWindows(args: RuleArgs): string[] {
  const all = [...args.burnRate.page, ...args.burnRate.ticket].flatMap((w) => [w.long, w.short]);
  return [...new Set(all)].sort((x, y) => durationSeconds(x) - durationSeconds(y));
}

/**
 * The SLIs' error ratios as recording rules, per service and window. Availability: jobs dead-lettered over jobs
 * completed plus dead-lettered. Latency: attempts slower than the p95 target's bucket edge over all attempts.
 */
function sliErrorRatio(s: MonitoredService, slo: SloName, window: string): string {
  const sel = `service="${s.name}"`;
  if (slo === "availability") {
    const dead = `sum(rate(jobs_dead_total{${sel}}[${window}]))`;
    const done = `sum(rate(jobs_total{${sel}, status="completed"}[${window}]))`;
    return `${dead}\n/\n(${done} + ${dead})`;
  }
  return `1 - (\n  sum(rate(job_duration_seconds_bucket{${sel}, ${leMatcher(s.latencyP95Seconds)}}[${window}]))\n  /\n  sum(rate(job_duration_seconds_count{${sel}}[${window}]))\n)`;
}

export const sliRecord = (window: string) => `slo:sli_error:ratio_rate${window}`;

/**
 * Multi-window, multi-burn-rate alerts for every service's availability and latency SLO (the SRE workbook's
 * scheme, as Sloth and Pyrra generate it): recording rules for each window, the objective and budget as series
 * for dashboards, a paging and a ticketing alert per SLO.
 */
export function sloRules(args: RuleArgs): RuleGroup[] {
  const windows = burnWindows(args);
  const slos: SloName[] = ["availability", "latency"];
  const recording: Rule[] = [];
  const meta: Rule[] = [];
  const alerts: Rule[] = [];
  const period = `${args.burnRate.periodDays}d`;
  for (const s of args.services) {
    for (const slo of slos) {
      const labels = { service: s.name, slo };
      for (const w of windows) recording.push({ record: sliRecord(w), expr: sliErrorRatio(s, slo, w), labels });
      const budget = errorBudget(s, slo);
      meta.push({ record: "slo:objective:ratio", expr: `vector(${round(1 - budget)})`, labels });
      meta.push({ record: "slo:error_budget:ratio", expr: `vector(${budget})`, labels });
      meta.push({
        record: `slo:sli_error:ratio_rate${period}`,
        expr: `avg_over_time(${sliRecord("5m")}{service="${s.name}", slo="${slo}"}[${period}])`,
        labels,
      });
      const cond = (ws: readonly BurnWindow[]) =>
        ws
          .map(
            (w) =>
              `(\n  ${sliRecord(w.long)}{service="${s.name}", slo="${slo}"} > ${round(w.factor * budget)}\n  and\n  ${sliRecord(w.short)}{service="${s.name}", slo="${slo}"} > ${round(w.factor * budget)}\n)`,
          )
          .join("\nor\n");
      const name: AlertName = slo === "availability" ? "AvailabilityErrorBudgetBurn" : "LatencyErrorBudgetBurn";
      const what = slo === "availability" ? `availability SLO (${s.availability}%)` : `latency SLO (95% of jobs within ${s.latencyP95Seconds}s)`;
      for (const [kind, ws, severity, forDur] of [
        ["page", args.burnRate.page, "critical", args.burnRate.pageFor],
        ["ticket", args.burnRate.ticket, "warning", args.burnRate.ticketFor],
      ] as const) {
        if (ws.length === 0) continue;
        alerts.push(
          alert(args, name, {
            expr: cond(ws),
            for: forDur,
            severity,
            service: s.name,
            labels: { slo, burn: kind },
            summary: `{{ $labels.service }} is burning its ${slo} error budget ${kind === "page" ? "fast" : "steadily"}`,
            description: `${s.name} is spending the error budget of its ${what} at ${ws
              .map((w) => `≥${w.factor}× over ${w.long}/${w.short}`)
              .join(" or ")}; at this pace the ${period} budget is gone early. The SLO dashboard shows the burn rate per window.`,
          }),
        );
      }
    }
  }
  return [
    { name: "pitchey-slo-sli", rules: recording },
    // The period-long average reads 30 days of samples: evaluated less often than the rest.
    { name: "pitchey-slo-budget", interval: "5m", rules: meta },
    { name: "pitchey-slo-alerts", rules: alerts },
  ];
}

/** Every rule group the platform installs, in the order they are written to the rule file. */
export function ruleGroups(args: RuleArgs): RuleGroup[] {
  return [recordingRules(args), playbookAlerts(args), platformAlerts(args), ...sloRules(args), ...databaseGroups(args), ...clusterStateBackupGroups(args), ...backupCronJobGroups(args)];
}

/** The staleness alerts of the backup CronJobs that run (kube-state-metrics' view of them), when there are any. */
export function backupCronJobGroups(args: RuleArgs): RuleGroup[] {
  const jobs = args.backupCronJobs ?? [];
  return jobs.length > 0 ? [backupCronJobAlertRules(jobs, args.runbookBaseUrl)] : [];
}

/** The cluster-state backup's alerts (Velero), when one runs. */
export function clusterStateBackupGroups(args: RuleArgs): RuleGroup[] {
  const c = args.clusterStateBackup;
  return c ? [veleroAlertRules({ scheduleName: c.scheduleName, maxAgeHours: c.maxAgeHours, runbookBaseUrl: args.runbookBaseUrl })] : [];
}

/** The jobs database's own alerts (replica lag, WAL archiving), its backups' and the restore verifier's, when the program runs it. */
export function databaseGroups(args: RuleArgs): RuleGroup[] {
  const d = args.database;
  if (!d) return [];
  return [
    ...databaseAlertRules({ clusterName: d.clusterName, maxLagSeconds: d.maxReplicationLagSeconds, runbookBaseUrl: args.runbookBaseUrl }).groups,
    backupAlertRules({ staleAfterSeconds: d.backupStaleAfterSeconds, schedule: d.backupSchedule, recordedBy: d.backupsRecordedBy, runbookBaseUrl: args.runbookBaseUrl }),
    restoreAlertRules({ maxVerifiedBackupAgeHours: d.maxVerifiedBackupAgeHours, runbookBaseUrl: args.runbookBaseUrl }),
  ];
}

/** Problems with the rule arguments, each with its path; empty when the rules can be generated. */
export function validateRuleArgs(args: RuleArgs): { propertyPath: string; reason: string }[] {
  const problems: { propertyPath: string; reason: string }[] = [];
  const dur = (path: string, d: string) => {
    if (!Number.isFinite(durationSeconds(d))) problems.push({ propertyPath: path, reason: `expected a Prometheus duration such as 5m, got "${d}"` });
  };
  args.services.forEach((s, i) => {
    if (!(JOB_DURATION_BUCKETS as readonly number[]).includes(s.latencyP95Seconds)) {
      problems.push({
        propertyPath: `services[${i}].latencyP95Seconds`,
        reason: `must be a bucket edge of job_duration_seconds (${JOB_DURATION_BUCKETS.join(", ")}), got ${s.latencyP95Seconds}`,
      });
    }
    if (!(s.availability > 0 && s.availability < 100)) problems.push({ propertyPath: `services[${i}].availability`, reason: `expected a percentage in (0, 100), got ${s.availability}` });
  });
  for (const [key, t] of Object.entries(args.alerts)) {
    dur(`alerts.${key}.for`, t.for);
    if ("window" in t) dur(`alerts.${key}.window`, t.window);
  }
  for (const kind of ["page", "ticket"] as const) {
    args.burnRate[kind].forEach((w, i) => {
      dur(`burnRate.${kind}[${i}].long`, w.long);
      dur(`burnRate.${kind}[${i}].short`, w.short);
      if (durationSeconds(w.short) >= durationSeconds(w.long)) problems.push({ propertyPath: `burnRate.${kind}[${i}].short`, reason: `must be shorter than long (${w.long})` });
    });
  }
  if (!/^(https?:\/\/\S+\/|[^\s]*\/)$/.test(args.runbookBaseUrl)) problems.push({ propertyPath: "runbookBaseUrl", reason: `expected a URL or path ending in "/", got "${args.runbookBaseUrl}"` });
  return problems;
}

/** A Prometheus rule file (`groups:`) holding these groups, as `promtool check rules` and Prometheus read it. */
export function ruleFile(groups: readonly RuleGroup[]): { groups: RuleGroup[] } {
  return { groups: groups.map((g) => ({ ...g })) };
}
