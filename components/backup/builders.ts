import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { PoolScheduling } from "../cluster/types";
import { runToCompletionPodSpec, singleRunCronJobSpec } from "../processor/builders";
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

const HOUR = 3600;
const DAY = 24 * HOUR;

/**
 * Where each tier lives in the backup bucket. Every run's dump lands at the top of `postgres/` (its keys start with the
 * year, hence `postgres/2` for the hourly tier alone); the backup command copies the first dump of each day, ISO week
 * and month into its tier's folder, so that each can be locked and expired for its own retention.
 */
export const TIER_PREFIXES = { hourly: "postgres/2", daily: "postgres/daily/", weekly: "postgres/weekly/", monthly: "postgres/monthly/" } as const;

/** Shortest span the given number of periods of a tier can cover (months taken as 28 days). */
const tierSeconds = (retention: BackupRetention) => ({
  hourly: retention.hourly * HOUR,
  daily: retention.daily * DAY,
  weekly: retention.weekly * 7 * DAY,
  monthly: retention.monthly * 28 * DAY,
});

/**
 * Object lifecycle for the backup bucket. The backup command prunes each tier to its count itself; these rules abort
 * abandoned uploads, move the monthly tier to Infrequent Access after 30 days, and, as a safety net should pruning
 * stop, delete each tier's copies a period after its retention (everything under `postgres/` a month after the monthly
 * tier). The hourly tier has no rule of its own: its prefix is a prefix of nothing else only by the year's first digit,
 * and the overall rule bounds it.
 */
export interface AgeCondition {
  readonly type: "Age";
  readonly maxAge: number;
}

/** One R2 lifecycle rule, as `cloudflare.R2BucketLifecycle` takes it. */
export interface LifecycleRule {
  readonly id: string;
  readonly enabled: boolean;
  readonly conditions: { readonly prefix: string };
  readonly abortMultipartUploadsTransition?: { readonly condition: AgeCondition };
  readonly deleteObjectsTransition?: { readonly condition: AgeCondition };
  readonly storageClassTransitions?: { readonly condition: AgeCondition; readonly storageClass: "InfrequentAccess" }[];
}

export function backupLifecycleRules(retention: BackupRetention): LifecycleRule[] {
  const abort: LifecycleRule = {
    id: "abort-incomplete-uploads",
    enabled: true,
    conditions: { prefix: "" },
    abortMultipartUploadsTransition: { condition: { type: "Age", maxAge: DAY } },
  };
  const expire = (id: string, prefix: string, maxAge: number): LifecycleRule => ({
    id,
    enabled: true,
    conditions: { prefix },
    deleteObjectsTransition: { condition: { type: "Age", maxAge } },
  });
  return [
    abort,
    expire("expire-daily-tier", TIER_PREFIXES.daily, (retention.daily + 2) * DAY),
    expire("expire-weekly-tier", TIER_PREFIXES.weekly, (retention.weekly + 1) * 7 * DAY),
    {
      ...expire("expire-monthly-tier", TIER_PREFIXES.monthly, (retention.monthly + 1) * 31 * DAY),
      storageClassTransitions: [{ condition: { type: "Age", maxAge: 30 * DAY }, storageClass: "InfrequentAccess" }],
    },
    expire("expire-beyond-monthly-retention", "postgres/", (retention.monthly + 1) * 31 * DAY),
  ];
}

export interface MirrorRetention {
  readonly daily: number;
  readonly weekly: number;
}

/**
 * The results mirror's safety net: its snapshot days expire a week after the weekly retention. `r2/current/` has none
 * (it is the results store itself) and neither has a lock: the mirror replaces, merges and deletes there by design.
 */
export function mirrorLifecycleRules(retention: MirrorRetention): LifecycleRule[] {
  return [
    {
      id: "expire-results-mirror-days",
      enabled: true,
      conditions: { prefix: "r2/daily/" },
      deleteObjectsTransition: { condition: { type: "Age", maxAge: (Math.max(retention.weekly * 7, retention.daily) + 7) * DAY } },
    },
  ];
}

/** The results mirror's CronJob (and ServiceAccount) name: what kube-state-metrics labels its series with. */
export const RESULTS_MIRROR_CRONJOB = "results-mirror";

export interface MirrorJobArgs {
  /** The `db-backup` image (it carries the mirror command), by digest. */
  readonly image: pulumi.Input<string>;
  /** Cron schedule (UTC). */
  readonly schedule: string;
  readonly retention: MirrorRetention;
  /** The results store, `s3://bucket[/prefix]`. */
  readonly sourceUrl: string;
  /** The backup bucket, `s3://bucket`; the mirror lives under its `r2/`. */
  readonly targetUrl: string;
  readonly s3Endpoint: string;
  /** Secret with the mirror's token (read on the results bucket, write on the backup bucket). */
  readonly storeSecretName: string;
  readonly serviceAccountName: pulumi.Input<string>;
  readonly pool: PoolScheduling;
  readonly labels: Record<string, string>;
}

/** The daily mirror of the results store: one run at a time, a missed day skipped, a run bounded to 6 h. */
export function mirrorCronJobSpec(args: MirrorJobArgs): k8s.types.input.batch.v1.CronJobSpec {
  return singleRunCronJobSpec({
    schedule: args.schedule,
    labels: args.labels,
    startingDeadlineSeconds: 3600,
    deadlineSeconds: 6 * 3600,
    backoffLimit: 2,
    pod: runToCompletionPodSpec({
      name: "mirror",
      image: args.image,
      command: ["node", "dist/cli/mirror-results.js"],
      env: [
        { name: "MIRROR_SOURCE_URL", value: args.sourceUrl },
        { name: "MIRROR_TARGET_URL", value: args.targetUrl },
        { name: "MIRROR_S3_ENDPOINT", value: args.s3Endpoint },
        { name: "MIRROR_KEEP_DAILY", value: String(args.retention.daily) },
        { name: "MIRROR_KEEP_WEEKLY", value: String(args.retention.weekly) },
      ],
      secrets: [{ secretName: args.storeSecretName, keys: ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] }],
      resources: {
        requests: { cpu: "100m", memory: "256Mi", "ephemeral-storage": "256Mi" },
        limits: { cpu: "1", memory: "512Mi", "ephemeral-storage": "1Gi" },
      },
      serviceAccountName: args.serviceAccountName,
      pool: args.pool,
      tmpSize: "1Gi",
    }),
  });
}

/**
 * Object lock for the backup bucket: every backup is undeletable and cannot be overwritten for its tier's retention
 * less an hour. Pruning deletes a tier's copy only once `count` newer periods hold one, so it never meets a lock in
 * steady state, and a stolen writer token can delete nothing that pruning would have kept. Lock rules win over
 * lifecycle rules, whose expiries are longer. Where rules overlap (`postgres/2` is not a prefix of the tier folders),
 * the longest applies.
 */
export function backupLockRules(retention: BackupRetention) {
  const span = tierSeconds(retention);
  return (Object.keys(TIER_PREFIXES) as (keyof typeof TIER_PREFIXES)[]).map((tier) => ({
    id: `no-delete-within-${tier}-tier`,
    enabled: true,
    prefix: TIER_PREFIXES[tier],
    condition: { type: "Age", maxAgeSeconds: Math.max(HOUR, span[tier] - HOUR) },
  }));
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
  /**
   * Whether each run writes its row to `backup_runs`. False where the jobs database is a read-only replica: there the
   * primary's rows are replayed and its exporter reports them. Default true.
   */
  readonly recordRuns?: boolean;
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
  env.push({ name: "BACKUP_RECORD_RUNS", value: String(args.recordRuns ?? true) });
  return env;
}

/** The table the backup job writes one row per run to (migration 008) and the exporter reads. */
export const BACKUP_RUNS_TABLE = "backup_runs";
/** Name of the exporter's custom query; metrics are `cnpg_<query>_<column>`. */
export const BACKUP_QUERY = "pitchey_backup";

/** The metrics the database's exporter produces from the backup job's rows (what BackupStale and the DR drill read). */
export const BACKUP_METRICS = {
  /** Unix time the newest successful run finished; 0 when none has. */
  lastSuccess: `cnpg_${BACKUP_QUERY}_last_success_timestamp_seconds`,
  /** Size of the newest successful run's dump; 0 when none. */
  lastSuccessBytes: `cnpg_${BACKUP_QUERY}_last_success_size_bytes`,
  /** Unix time the newest failed run finished; 0 when none has failed. */
  lastFailure: `cnpg_${BACKUP_QUERY}_last_failure_timestamp_seconds`,
  /** Unix time the newest run finished, whatever its outcome; 0 before the first. */
  lastRun: `cnpg_${BACKUP_QUERY}_last_run_timestamp_seconds`,
  /** 1 when the newest run succeeded, else 0 (also 0 before the first). */
  lastRunSuccess: `cnpg_${BACKUP_QUERY}_last_run_success`,
  /** How long the newest run took. */
  lastRunDuration: `cnpg_${BACKUP_QUERY}_last_run_duration_seconds`,
} as const;

/**
 * The exporter's custom query (CloudNativePG's `customQueriesConfigMap` format): one row summarising the backup job's
 * own records, so a short-lived Job's outcome reaches Prometheus through the database rather than by scraping its pod.
 * Before migration 008 the table is missing, the query fails and the metrics are absent (BackupStale fires on that).
 */
export function backupRunQueries(database: string): Record<string, unknown> {
  const epoch = (col: string) => `coalesce(EXTRACT(EPOCH FROM ${col}), 0)`;
  const newest = (where: string) => `(SELECT * FROM ${BACKUP_RUNS_TABLE} ${where} ORDER BY finished_at DESC, id DESC LIMIT 1)`;
  return {
    [BACKUP_QUERY]: {
      query: [
        "SELECT",
        `  ${epoch("ok.finished_at")} AS last_success_timestamp_seconds,`,
        "  coalesce(ok.backup_bytes, 0) AS last_success_size_bytes,",
        `  ${epoch("failed.finished_at")} AS last_failure_timestamp_seconds,`,
        `  ${epoch("last.finished_at")} AS last_run_timestamp_seconds,`,
        "  coalesce(last.success::int, 0) AS last_run_success,",
        `  ${epoch("last.finished_at - last.started_at")} AS last_run_duration_seconds`,
        "FROM (SELECT 1) AS one",
        `LEFT JOIN LATERAL ${newest("WHERE success")} AS ok ON true`,
        `LEFT JOIN LATERAL ${newest("WHERE NOT success")} AS failed ON true`,
        `LEFT JOIN LATERAL ${newest("")} AS last ON true`,
      ].join("\n"),
      target_databases: [database],
      metrics: [
        { last_success_timestamp_seconds: { usage: "GAUGE", description: "Unix time the newest successful backup run finished (0: none)" } },
        { last_success_size_bytes: { usage: "GAUGE", description: "Size of the newest successful backup's dump in bytes (0: none)" } },
        { last_failure_timestamp_seconds: { usage: "GAUGE", description: "Unix time the newest failed backup run finished (0: none)" } },
        { last_run_timestamp_seconds: { usage: "GAUGE", description: "Unix time the newest backup run finished (0: none yet)" } },
        { last_run_success: { usage: "GAUGE", description: "1 if the newest backup run succeeded, 0 if it failed or none ran" } },
        { last_run_duration_seconds: { usage: "GAUGE", description: "Duration of the newest backup run" } },
      ],
    },
  };
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
  return singleRunCronJobSpec({
    schedule: args.schedule,
    labels: args.labels,
    startingDeadlineSeconds: 600,
    deadlineSeconds: args.deadlineSeconds ?? 3000,
    backoffLimit: 2,
    pod: runToCompletionPodSpec({
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
  });
}
