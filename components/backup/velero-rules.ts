/** Series the Velero server exports (pkg/metrics of Velero 1.18), labelled by `schedule`. */
export const VELERO_METRICS = {
  /** 1 when the schedule's newest backup completed, 0 when it failed or partially failed (1 again after a restart). */
  lastStatus: "velero_backup_last_status",
  /** Unix time of the schedule's newest completed backup, recomputed from the backups that exist. */
  lastSuccess: "velero_backup_last_successful_timestamp",
  /** Backups that failed outright (counter; a restart resets it). */
  failures: "velero_backup_failure_total",
  /** Backups that completed with errors (counter). */
  partialFailures: "velero_backup_partial_failure_total",
} as const;

export interface VeleroAlertArgs {
  /** The Schedule whose backups are watched (the `schedule` label). */
  readonly scheduleName: string;
  /** The newest completed backup may be this old before `VeleroBackupStale`. */
  readonly maxAgeHours: number;
  /** Base of every `runbook_url`; `<Alert>.md` is appended. */
  readonly runbookBaseUrl: string;
}

/**
 * Alerts on the cluster-state backups: the newest one failed (or completed with errors), or none has completed for
 * longer than the schedule allows, or Velero reports nothing for the schedule (the server is down or unscraped; it
 * sets the schedule's status gauge as soon as it runs). A schedule that has not reached its first run yet has a status
 * and no completed backup, and is not stale: Velero runs a new schedule at its next cron time, not at creation; one
 * whose every run fails keeps `VeleroBackupFailed` firing.
 */
export function veleroAlertRules(a: VeleroAlertArgs) {
  const m = VELERO_METRICS;
  const sel = `{schedule="${a.scheduleName}"}`;
  const labels = (severity: "critical" | "warning") => ({ severity, team: "platform", service: "cluster-state-backup" });
  const seconds = Math.round(a.maxAgeHours * 3600);
  return {
    name: "cluster-state-backup",
    rules: [
      {
        alert: "VeleroBackupFailed",
        // The gauge says so until the next backup completes; the counters catch a failure the gauge lost to a restart.
        expr: `max(${m.lastStatus}${sel}) == 0 or max(increase(${m.failures}${sel}[1h])) > 0 or max(increase(${m.partialFailures}${sel}[1h])) > 0`,
        for: "5m",
        labels: labels("warning"),
        annotations: {
          summary: "The newest cluster-state backup failed",
          description: `Velero's last backup from the ${a.scheduleName} schedule failed or completed with errors: \`velero backup describe\` and \`velero backup logs\` on it say which objects.`,
          runbook_url: `${a.runbookBaseUrl}VeleroBackupFailed.md`,
        },
      },
      {
        alert: "VeleroBackupStale",
        expr: `time() - max(${m.lastSuccess}${sel}) > ${seconds} or absent(${m.lastStatus}${sel})`,
        for: "15m",
        labels: labels("critical"),
        annotations: {
          summary: "No recent cluster-state backup",
          description: `No backup from the ${a.scheduleName} schedule has completed in the last ${a.maxAgeHours} h, or Velero reports nothing for it: the cluster's objects and Secrets have no recent restore point.`,
          runbook_url: `${a.runbookBaseUrl}VeleroBackupStale.md`,
        },
      },
    ],
  };
}
