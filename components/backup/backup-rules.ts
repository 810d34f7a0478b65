import { BACKUP_METRICS } from "./builders";

export interface BackupAlertArgs {
  /** The newest successful backup may be this old, in seconds, before BackupStale (derived from the schedule). */
  readonly staleAfterSeconds: number;
  /** The backup job's cron schedule, named in the alert's description. */
  readonly schedule: string;
  /** Base of every `runbook_url`; `<Alert>.md` is appended. */
  readonly runbookBaseUrl: string;
}

const hoursText = (seconds: number) => `${Number((seconds / 3600).toFixed(2))} h`;

/**
 * BackupStale on the backup job's own record of its runs, as the database's exporter reports it. Every instance
 * reports the same rows (replicas replay them), so the alert reads the newest figure across instances. Absent counts
 * as stale: the exporter reports nothing when it cannot read the table.
 */
export function backupAlertRules(a: BackupAlertArgs) {
  const m = BACKUP_METRICS.lastSuccess;
  return {
    name: "database-backups",
    rules: [
      {
        alert: "BackupStale",
        expr: `time() - max(${m}) > ${Math.round(a.staleAfterSeconds)} or absent(${m})`,
        for: "10m",
        labels: { severity: "critical", team: "platform", service: "backups" },
        annotations: {
          summary: "No recent database backup",
          description:
            `The newest successful backup run finished longer ago than ${hoursText(a.staleAfterSeconds)} (twice the longest gap between runs of ` +
            `the schedule "${a.schedule}"), or no run has been recorded at all: the backup CronJob is failing or not running. backup_runs says what the last runs did.`,
          runbook_url: `${a.runbookBaseUrl}BackupStale.md`,
        },
      },
    ],
  };
}
