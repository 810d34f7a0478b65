import type { WatchedCronJob } from "../components/backup/backup-rules";
import { RESULTS_MIRROR_CRONJOB } from "../components/backup/builders";
import { BACKUP_COPY_CRONJOB } from "../components/backup/cloud-store-job";
import { VELERO_SCHEDULE } from "../components/backup/velero-builders";
import type { AlertRoutingArgs } from "../components/observability/alertmanager";
import type { RuleArgs } from "../components/observability/args";
import { JOB_TYPE_OF, PROCESSOR_NAMES, type PlatformConfig } from "./config";
import { backupStaleAfterSeconds } from "./config/cron";
import { mirroredResultsBucket } from "./config/stores";
import { DATABASE_CLUSTER, replayedPrimary } from "./database";

/** The rule generator's arguments from the stack config: every processor with its SLO, the alert figures. */
export function observabilityRuleArgs(config: PlatformConfig): RuleArgs {
  return {
    services: PROCESSOR_NAMES.map((name) => ({
      name,
      jobType: JOB_TYPE_OF[name],
      availability: config.processors[name].slo.availability,
      latencyP95Seconds: config.processors[name].slo.latencyP95Seconds,
      minReplicas: config.processors[name].scaling.minReplicas,
    })),
    processorNamespace: config.namespace,
    alerts: config.observability.alerts,
    burnRate: config.observability.burnRate,
    runbookBaseUrl: config.observability.runbookBaseUrl,
    // A database the program runs has an exporter with the lag and restore-verification metrics; an external one has not.
    database: config.database.cidrs
      ? undefined
      : {
          clusterName: DATABASE_CLUSTER,
          maxReplicationLagSeconds: config.database.maxReplicationLagSeconds,
          backupStaleAfterSeconds: backupStaleAfterSeconds(config.backups.schedule),
          backupSchedule: config.backups.schedule,
          backupsRecordedBy: replayedPrimary(config),
          maxVerifiedBackupAgeHours: config.restoreVerification.maxVerifiedBackupAgeHours,
        },
    // Every stack runs Velero (its schedule keeps the component's default name).
    clusterStateBackup: { scheduleName: VELERO_SCHEDULE, maxAgeHours: config.backups.configs.maxAgeHours },
    backupCronJobs: watchedBackupCronJobs(config),
  };
}

/**
 * The backup CronJobs whose staleness kube-state-metrics shows, each where the stack runs it: the cloud copy in every
 * stack, the results mirror where the results store is mirrored. Neither is ever created suspended; one that were
 * must be left out here, or its alert would fire for ever.
 */
export function watchedBackupCronJobs(config: PlatformConfig): WatchedCronJob[] {
  const watch = (alert: WatchedCronJob["alert"], what: string, cronJob: string, schedule: string): WatchedCronJob => ({
    alert,
    what,
    namespace: config.namespace,
    cronJob,
    schedule,
    staleAfterSeconds: backupStaleAfterSeconds(schedule),
  });
  return [
    watch("BackupCopyStale", "copy of the backups in the cloud's own store", BACKUP_COPY_CRONJOB, config.backups.cloudCopy.schedule),
    ...(mirroredResultsBucket(config) ? [watch("ResultsMirrorStale", "mirror of the results store", RESULTS_MIRROR_CRONJOB, config.backups.resultsMirror.schedule)] : []),
  ];
}

/** Alertmanager's routing from the stack config; the receivers' secrets travel separately, as files. */
export function observabilityRoutingArgs(config: PlatformConfig): AlertRoutingArgs {
  const am = config.observability.alertmanager;
  return { slackChannel: am.slackChannel, email: am.email, digest: am.digest };
}
