import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { PoolScheduling } from "../cluster/types";
import { runToCompletionPodSpec, singleRunCronJobSpec } from "../processor/builders";

/** The database maintenance schedule (playbook "Routine Maintenance Schedule"), UTC cron per task. */
export interface MaintenanceSettings {
  /** Primary heartbeat the DR replica measures its lag by. Default every minute. */
  readonly heartbeat: string;
  /** `VACUUM ANALYZE` of the job tables. Default daily 02:00. */
  readonly vacuum: string;
  /** `container_stats_hourly` refresh. Default hourly at :05. */
  readonly refreshStats: string;
  /** Next months' `container_metrics` partitions, and dropping those past retention. Default daily 01:30. */
  readonly partitions: string;
  /** Deleting finished jobs past retention. Default daily 02:30. */
  readonly purge: string;
  /** Weekly capacity report (jobs, p95, cost per type) to the logs and the backup bucket. Default Sunday 03:00. */
  readonly capacityReport: string;
  /** Days completed and dead jobs are kept. Default 90. */
  readonly jobRetentionDays: number;
  /** Months of `container_metrics` kept. Default 12. */
  readonly metricsRetentionMonths: number;
}

export const MAINTENANCE_DEFAULTS: MaintenanceSettings = {
  heartbeat: "* * * * *",
  vacuum: "0 2 * * *",
  refreshStats: "5 * * * *",
  partitions: "30 1 * * *",
  purge: "30 2 * * *",
  capacityReport: "0 3 * * 0",
  jobRetentionDays: 90,
  metricsRetentionMonths: 12,
};

/** Task name of the maintenance command per schedule key. */
export const MAINTENANCE_JOBS = {
  heartbeat: { task: "heartbeat", deadlineSeconds: 50 },
  vacuum: { task: "vacuum", deadlineSeconds: 3300 },
  refreshStats: { task: "refresh-stats", deadlineSeconds: 1200 },
  partitions: { task: "partitions", deadlineSeconds: 600 },
  purge: { task: "purge", deadlineSeconds: 3300 },
  capacityReport: { task: "capacity-report", deadlineSeconds: 600 },
} as const;
export type MaintenanceJob = keyof typeof MAINTENANCE_JOBS;

/** Where a Secret is mounted for the commands that read `X_FILE`. */
export const secretMountPath = (secretName: string) => `/var/run/secrets/pitchey/${secretName}`;

export interface MaintenanceCronJobArgs {
  readonly job: MaintenanceJob;
  readonly settings: MaintenanceSettings;
  /** The `db-backup` image (node, the worker's commands, PostgreSQL client), by digest. */
  readonly image: pulumi.Input<string>;
  /** Secret with `DATABASE_URL`. */
  readonly databaseSecretName: string;
  /** Capacity report only: `s3://bucket` and its endpoint, with the store's credentials Secret. */
  readonly reportStore?: { readonly url: string; readonly endpoint?: string; readonly secretName: string };
  readonly serviceAccountName: pulumi.Input<string>;
  readonly pool: PoolScheduling;
  readonly labels: Record<string, string>;
}

/**
 * One maintenance CronJob: `Forbid` so a slow run never overlaps itself (the task's advisory lock covers manual
 * runs too), a deadline below the shortest sensible period, no retries past the deadline.
 */
export function maintenanceCronJobSpec(a: MaintenanceCronJobArgs): k8s.types.input.batch.v1.CronJobSpec {
  const { task, deadlineSeconds } = MAINTENANCE_JOBS[a.job];
  const s = a.settings;
  const env: k8s.types.input.core.v1.EnvVar[] = [
    { name: "DATABASE_URL_FILE", value: `${secretMountPath(a.databaseSecretName)}/DATABASE_URL` },
    { name: "MAINTENANCE_STATEMENT_TIMEOUT_SECONDS", value: String(Math.max(10, deadlineSeconds - 30)) },
    { name: "JOB_RETENTION_DAYS", value: String(s.jobRetentionDays) },
    { name: "METRICS_RETENTION_MONTHS", value: String(s.metricsRetentionMonths) },
  ];
  const secrets = [a.databaseSecretName];
  if (a.job === "capacityReport" && a.reportStore) {
    env.push({ name: "REPORT_STORE_URL", value: a.reportStore.url });
    if (a.reportStore.endpoint) env.push({ name: "REPORT_S3_ENDPOINT", value: a.reportStore.endpoint });
    for (const key of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]) env.push({ name: `${key}_FILE`, value: `${secretMountPath(a.reportStore.secretName)}/${key}` });
    secrets.push(a.reportStore.secretName);
  }
  const pod = runToCompletionPodSpec({
    name: task,
    image: a.image,
    command: ["node", "dist/cli/maintenance.js", task],
    env,
    resources: {
      requests: { cpu: "50m", memory: "128Mi", "ephemeral-storage": "64Mi" },
      limits: { cpu: "500m", memory: "256Mi", "ephemeral-storage": "128Mi" },
    },
    serviceAccountName: a.serviceAccountName,
    pool: a.pool,
    tmpSize: "128Mi",
  });
  const container = (pod.containers as k8s.types.input.core.v1.Container[])[0];
  container.volumeMounts = [
    ...(container.volumeMounts as k8s.types.input.core.v1.VolumeMount[]),
    ...secrets.map((name) => ({ name: `secret-${name}`, mountPath: secretMountPath(name), readOnly: true })),
  ];
  pod.volumes = [
    ...(pod.volumes as k8s.types.input.core.v1.Volume[]),
    ...secrets.map((name) => ({ name: `secret-${name}`, secret: { secretName: name, defaultMode: 0o440 } })),
  ];
  return singleRunCronJobSpec({
    schedule: s[a.job],
    labels: a.labels,
    startingDeadlineSeconds: 300,
    deadlineSeconds,
    backoffLimit: 1,
    history: { successful: 1, failed: 3 },
    pod,
  });
}
