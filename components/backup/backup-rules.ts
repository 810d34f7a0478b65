import { BACKUP_METRICS } from "./builders";

export interface BackupAlertArgs {
  /** The newest successful backup may be this old, in seconds, before BackupStale (derived from the schedule). */
  readonly staleAfterSeconds: number;
  /** The backup job's cron schedule, named in the alert's description. */
  readonly schedule: string;
  /** On a replica: the stack whose backup job records the runs replayed here. Unset when this stack's job records them. */
  readonly recordedBy?: string;
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
            `the schedule "${a.schedule}"), or no run has been recorded at all: ` +
            (a.recordedBy
              ? `this database is a replica, and the runs it reports are those of ${a.recordedBy}'s backup CronJob, replayed here; ` +
                `${a.recordedBy}'s backups are failing or not running (this stack's own job dumps the replica but records nothing until it is promoted). `
              : "the backup CronJob is failing or not running. ") +
            "backup_runs says what the last runs did.",
          runbook_url: `${a.runbookBaseUrl}BackupStale.md`,
        },
      },
    ],
  };
}

/**
 * kube-state-metrics' CronJob series (kube-state-metrics 2.20, as kube-prometheus-stack 88.5.3 ships it), labelled by
 * `namespace` and `cronjob`. The last success is reported only once a Job of the CronJob has succeeded.
 */
export const CRONJOB_METRICS = {
  /** Unix time the CronJob's newest successful Job completed (`status.lastSuccessfulTime`); absent before the first. */
  lastSuccess: "kube_cronjob_status_last_successful_time",
  /** Unix time the CronJob object was created. */
  created: "kube_cronjob_created",
} as const;

/** A backup CronJob whose runs are watched through kube-state-metrics, and the alert that says it stopped. */
export interface WatchedCronJob {
  readonly alert: "BackupCopyStale" | "ResultsMirrorStale";
  /** What the CronJob does, for the summary (e.g. "mirror of the results store"). */
  readonly what: string;
  readonly namespace: string;
  /** The CronJob's name (the `cronjob` label). */
  readonly cronJob: string;
  /** Its cron schedule, named in the description. */
  readonly schedule: string;
  /** The newest success may be this old, in seconds (twice the schedule's longest gap, as for BackupStale). */
  readonly staleAfterSeconds: number;
}

/**
 * Staleness of backup CronJobs whose runs leave no record of their own, read from the CronJob's status. A CronJob
 * that has never succeeded counts from its creation, so a new stack gets the same allowance as a missed run rather
 * than an alert before the first scheduled run (a daily job's may be a day away); kube-state-metrics reporting no
 * such CronJob at all (deleted, or kube-state-metrics not scraped) is stale without waiting. A failed Job already fires the
 * chart's `KubeJobFailed`; these catch the CronJob that stops starting Jobs (suspended by hand, deadlines missed).
 * Pass only CronJobs that run: a deliberately suspended one would fire for ever.
 */
export function backupCronJobAlertRules(jobs: readonly WatchedCronJob[], runbookBaseUrl: string) {
  const m = CRONJOB_METRICS;
  return {
    name: "backup-cronjobs",
    rules: jobs.map((j) => {
      const sel = `{namespace="${j.namespace}", cronjob="${j.cronJob}"}`;
      return {
        alert: j.alert,
        expr: `time() - max by (namespace, cronjob) (${m.lastSuccess}${sel} or ${m.created}${sel}) > ${Math.round(j.staleAfterSeconds)}\nor absent(${m.created}${sel})`,
        for: "10m",
        labels: { severity: "warning", team: "platform", service: "backups" },
        annotations: {
          summary: `No recent ${j.what}`,
          description:
            `The ${j.cronJob} CronJob in ${j.namespace} has not completed a Job successfully for longer than ${hoursText(j.staleAfterSeconds)} (twice the longest gap ` +
            `between runs of the schedule "${j.schedule}"), counting from its creation if it never has, or kube-state-metrics reports no such CronJob: ` +
            `it is suspended, missing its start deadlines, failing every run, or gone.`,
          runbook_url: `${runbookBaseUrl}${j.alert}.md`,
        },
      };
    }),
  };
}
