import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { PoolScheduling } from "../cluster/types";
import { runToCompletionPodSpec } from "../processor/builders";
import type { SecretFiles } from "../processor/secrets";

export interface BackupRetention {
  readonly hourly: number;
  readonly daily: number;
  readonly weekly: number;
  readonly monthly: number;
}

/** R2's S3-compatible endpoint for an account. */
export const r2Endpoint = (accountId: string) => `https://${accountId}.r2.cloudflarestorage.com`;

/** R2's endpoint; the first group is the Cloudflare account id. */
export const R2_ENDPOINT = /^https:\/\/([0-9a-f]{32})\.r2\.cloudflarestorage\.com\/?$/;

/** The Cloudflare account an R2 endpoint belongs to; undefined for any other endpoint. */
export const r2AccountOf = (endpoint: string) => R2_ENDPOINT.exec(endpoint)?.[1];

/**
 * Object lifecycle for the backup bucket. The backup job prunes to the retention policy itself; this only aborts
 * abandoned uploads and, as a safety net should pruning stop, deletes anything older than the monthly tier.
 */
export function backupLifecycleRules(retention: BackupRetention) {
  const day = 24 * 3600;
  return [
    {
      id: "abort-incomplete-uploads",
      enabled: true,
      conditions: { prefix: "" },
      abortMultipartUploadsTransition: { condition: { type: "Age", maxAge: day } },
    },
    {
      id: "expire-beyond-monthly-retention",
      enabled: true,
      conditions: { prefix: "postgres/" },
      deleteObjectsTransition: { condition: { type: "Age", maxAge: (retention.monthly + 1) * 31 * day } },
    },
  ];
}

/**
 * Object lock for the backup bucket: every dump is undeletable and cannot be overwritten until it is older than the
 * hourly tier less an hour. The backup command prunes by count, and the youngest dump it ever deletes is one that
 * has left the hourly tier (`hourly` runs old), so pruning never meets a locked object; a stolen backup token cannot
 * erase the last day's restore points. Lock rules win over lifecycle rules, whose expiry is far older.
 */
export function backupLockRules(retention: BackupRetention) {
  return [
    {
      id: "no-delete-within-hourly-tier",
      enabled: true,
      prefix: "postgres/",
      condition: { type: "Age", maxAgeSeconds: Math.max(1, retention.hourly - 1) * 3600 },
    },
  ];
}

export interface BackupJobArgs {
  /** The `db-backup` image, by digest. */
  readonly image: pulumi.Input<string>;
  /** Cron schedule (UTC). */
  readonly schedule: string;
  readonly retention: BackupRetention;
  /** `s3://bucket[/prefix]` or `file:///dir`. */
  readonly storeUrl: string;
  /** S3-compatible endpoint (R2); unset for the cloud's own S3. */
  readonly s3Endpoint?: string;
  /** Secret with `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` for an external store; unset with cloud identity. */
  readonly storeSecretName?: string;
  /** Secret with `DATABASE_URL`. */
  readonly databaseSecretName: string;
  readonly serviceAccountName: pulumi.Input<string>;
  readonly pool: PoolScheduling;
  readonly labels: Record<string, string>;
  /** A run that takes longer is killed so the next hour's can start. Default 3000 s. */
  readonly deadlineSeconds?: number;
}

export function backupEnv(args: BackupJobArgs): k8s.types.input.core.v1.EnvVar[] {
  const r = args.retention;
  const env: k8s.types.input.core.v1.EnvVar[] = [
    { name: "BACKUP_STORE_URL", value: args.storeUrl },
    { name: "BACKUP_KEEP_HOURLY", value: String(r.hourly) },
    { name: "BACKUP_KEEP_DAILY", value: String(r.daily) },
    { name: "BACKUP_KEEP_WEEKLY", value: String(r.weekly) },
    { name: "BACKUP_KEEP_MONTHLY", value: String(r.monthly) },
  ];
  if (args.s3Endpoint) env.push({ name: "BACKUP_S3_ENDPOINT", value: args.s3Endpoint });
  return env;
}

/** The backup command's Secrets, as files: the database, and the store's token (the only workload that gets it). */
export function backupSecrets(args: Pick<BackupJobArgs, "databaseSecretName" | "storeSecretName">): SecretFiles[] {
  const secrets: SecretFiles[] = [{ secretName: args.databaseSecretName, keys: ["DATABASE_URL"] }];
  if (args.storeSecretName) secrets.push({ secretName: args.storeSecretName, keys: ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] });
  return secrets;
}

/**
 * The hourly dump: one run at a time (a slow dump must not pile up behind itself), a missed hour is skipped rather
 * than run late twice, and failed runs are kept for inspection.
 */
export function backupCronJobSpec(args: BackupJobArgs): k8s.types.input.batch.v1.CronJobSpec {
  return {
    schedule: args.schedule,
    timeZone: "Etc/UTC",
    concurrencyPolicy: "Forbid",
    startingDeadlineSeconds: 600,
    successfulJobsHistoryLimit: 3,
    failedJobsHistoryLimit: 5,
    jobTemplate: {
      metadata: { labels: args.labels },
      spec: {
        backoffLimit: 2,
        activeDeadlineSeconds: args.deadlineSeconds ?? 3000,
        template: {
          metadata: { labels: args.labels },
          spec: runToCompletionPodSpec({
            name: "backup",
            image: args.image,
            command: ["node", "dist/cli/backup.js"],
            env: backupEnv(args),
            secrets: backupSecrets(args),
            resources: {
              requests: { cpu: "250m", memory: "256Mi", "ephemeral-storage": "1Gi" },
              limits: { cpu: "1", memory: "1Gi", "ephemeral-storage": "20Gi" },
            },
            serviceAccountName: args.serviceAccountName,
            pool: args.pool,
            tmpSize: "20Gi",
          }),
        },
      },
    },
  };
}
