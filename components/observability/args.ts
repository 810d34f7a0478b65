import type { WatchedCronJob } from "../backup/backup-rules";

/**
 * What the monitoring capability is configured with. The stack config maps onto these types; the component never
 * reads config itself. Durations are Prometheus durations (`30s`, `5m`, `2h`, `1d`).
 */

/** One alert's threshold and how long it must hold before the alert fires. */
export interface Threshold {
  readonly threshold: number;
  /** Prometheus `for`: how long the condition must hold. */
  readonly for: string;
}

/** Alert thresholds. Defaults (stack config) are the playbook's: alert rules, key-metrics table, runbook index. */
export interface AlertThresholds {
  /** `up == 0`, or no `up` series at all for a service with a floor, for this long. Playbook: 2m. */
  readonly containerDown: { readonly for: string };
  /** CPU % of the container's limit. Playbook: 85 for 5m. */
  readonly highCpu: Threshold;
  /** Working-set memory % of the container's limit. Playbook: 90 for 5m. */
  readonly highMemory: Threshold;
  /** Runnable jobs per queue (pending and due: what a worker could claim now). Playbook: 500 for 10m. */
  readonly queueBacklog: Threshold;
  /** Failed attempts / all attempts per service (a ratio). Playbook: 0.01 for 5m. */
  readonly errorRate: Threshold;
  /** API p95 response time in seconds. Key-metrics critical threshold: 1 s. */
  readonly responseTimeP95: Threshold;
  /** USD per finished job over the last hour. Key-metrics critical threshold: $0.25. */
  readonly costPerJob: Threshold;
  /** Connections still available to applications. Runbook index: < 5. */
  readonly databaseConnections: Threshold;
  /** % of a volume or node filesystem in use. Runbook index: > 90. */
  readonly storage: Threshold;
  /** Days before a certificate expires. Runbook index: < 7. */
  readonly certificateExpiryDays: Threshold;
  /** Jobs dead-lettered within `window`. */
  readonly deadLetters: Threshold & { readonly window: string };
  /** Jobs reclaimed from workers that lost their lease within `window`. */
  readonly leaseExpiries: Threshold & { readonly window: string };
}

/** One multi-window burn-rate condition: the error ratio over both windows exceeds `factor` × the error budget. */
export interface BurnWindow {
  readonly factor: number;
  readonly long: string;
  readonly short: string;
}

export interface BurnRatePolicy {
  /** The SLO period. Default 30 days. */
  readonly periodDays: number;
  /** Page (severity critical) when any holds. Default 14.4× over 1h/5m and 6× over 6h/30m. */
  readonly page: readonly BurnWindow[];
  /** Ticket (severity warning) when any holds. Default 3× over 1d/2h and 1× over 3d/6h. */
  readonly ticket: readonly BurnWindow[];
  /** `for` of the page and ticket alerts. */
  readonly pageFor: string;
  readonly ticketFor: string;
}

/** A processor as monitoring sees it. */
export interface MonitoredService {
  /** Service (Deployment, container and Prometheus job) name, e.g. `video-processor`. */
  readonly name: string;
  /** Job type it serves; also the name of its queue in `job_queue_depth{queue}` and `job_queue_runnable{queue}`. */
  readonly jobType: string;
  /** Availability objective in percent (99.9 = 99.9 %). */
  readonly availability: number;
  /** p95 latency target in seconds; must be a bucket edge of `job_duration_seconds`. */
  readonly latencyP95Seconds: number;
  /**
   * Replicas it keeps at the least. A service with a floor above 0 must always have scrape targets, so their absence
   * is an outage (ContainerDown); one that may scale to zero (0) is down only when a target answers no more. Default 1.
   */
  readonly minReplicas?: number;
}

export interface RuleArgs {
  readonly services: readonly MonitoredService[];
  /** Namespace the processors run in (cAdvisor and kube-state-metrics series are filtered by it). */
  readonly processorNamespace: string;
  readonly alerts: AlertThresholds;
  readonly burnRate: BurnRatePolicy;
  /** Base of every `runbook_url`; the alert's file name (`<Alert>.md`) is appended. */
  readonly runbookBaseUrl: string;
  /** The jobs database the program runs (its exporter's metrics); unset for an external database. */
  readonly database?: DatabaseRuleArgs;
  /** The cluster-state backup (Velero's metrics); unset where none runs. */
  readonly clusterStateBackup?: ClusterStateBackupRuleArgs;
  /** Backup CronJobs watched through kube-state-metrics (the cloud copy, the results mirror): only those that run. Default none. */
  readonly backupCronJobs?: readonly WatchedCronJob[];
}

/** Velero's schedule whose backups are watched, and how old the newest may grow. */
export interface ClusterStateBackupRuleArgs {
  readonly scheduleName: string;
  readonly maxAgeHours: number;
}

/** Replica lag, WAL archiving and the restore verifier's outcome. */
export interface DatabaseRuleArgs {
  /** The CloudNativePG cluster's name (its pods are `<name>-<n>`). */
  readonly clusterName: string;
  /** Replica lag that pages: the RPO, seconds. */
  readonly maxReplicationLagSeconds: number;
  /** Newest successful backup run older than this (seconds): backups stopped. Twice the schedule's longest gap. */
  readonly backupStaleAfterSeconds: number;
  /** The backup job's cron schedule (named in BackupStale's description). */
  readonly backupSchedule: string;
  /**
   * On a replica: the stack whose backup job records the runs this database replays (this stack's own job dumps but
   * cannot record), named in BackupStale's description. Unset where this stack's job records its own runs.
   */
  readonly backupsRecordedBy?: string;
  /** Newest verified backup older than this: verification stopped working. */
  readonly maxVerifiedBackupAgeHours: number;
}
