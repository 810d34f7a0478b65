import { RESTORE_METRICS } from "./restore-builders";

export interface RestoreAlertArgs {
  /** The newest backup that restored and passed its checks may be this old. */
  readonly maxVerifiedBackupAgeHours: number;
  /** Base of every `runbook_url`; `<Alert>.md` is appended. */
  readonly runbookBaseUrl: string;
}

/**
 * Alerts on the restore verifier's outcome as the database's exporter reports it. Every instance reports the same
 * rows (replicas replay them), so each alert reads the newest figure across instances.
 */
export function restoreAlertRules(a: RestoreAlertArgs) {
  const m = RESTORE_METRICS;
  const labels = (severity: "critical" | "warning") => ({ severity, team: "platform", service: "backups" });
  const hours = (h: number) => Math.round(h * 3600);
  return {
    name: "backup-restore-verification",
    rules: [
      {
        alert: "RestoreVerificationFailed",
        // A run has been recorded and the newest one failed.
        expr: `max(${m.lastRunSuccess}) == 0 and max(${m.lastRun}) > 0`,
        for: "10m",
        labels: labels("critical"),
        annotations: {
          summary: "The newest backup failed its restore verification",
          description: "The last restore verification could not restore the newest backup or found it inconsistent; the row in restore_verifications says what failed.",
          runbook_url: `${a.runbookBaseUrl}RestoreVerificationFailed.md`,
        },
      },
      {
        alert: "RestoreVerificationStale",
        // Absent too: the exporter reports nothing when it cannot read the verifier's table.
        expr: `time() - max(${m.verifiedBackup}) > ${hours(a.maxVerifiedBackupAgeHours)} or absent(${m.verifiedBackup})`,
        for: "10m",
        labels: labels("warning"),
        annotations: {
          summary: "No recently verified backup",
          description: `The newest backup that restored and passed its checks is older than ${a.maxVerifiedBackupAgeHours} h: verification runs are failing or not running.`,
          runbook_url: `${a.runbookBaseUrl}RestoreVerificationStale.md`,
        },
      },
    ],
  };
}
