import type * as gcp from "@pulumi/gcp";
import type * as aws from "@pulumi/aws";
import { TIER_PREFIXES, type BackupRetention, type MirrorRetention } from "./builders";

const DAY = 86400;

/**
 * The copy of the backup bucket in the stack's own cloud. R2 stays the primary store (the backup job, the WAL archive
 * and restore verification use it); the copy is what survives the loss of Cloudflare, under a key we hold.
 *
 * Prefixes, as in R2: `postgres/` (each run's dump at the top, `daily/`, `weekly/`, `monthly/` tiers), `r2/` (the
 * results mirror) and `configs/` (cluster state, written by Velero). Only `postgres/monthly/` objects carry a lock:
 * a retention set per object when they are copied, in governance mode (S3) or unlocked mode (GCS), so an
 * administrator with the override right can still shorten it, and nothing else can delete the version.
 */
export const CLOUD_COPY_PREFIXES = ["postgres/", "r2/"] as const;
export const CONFIGS_PREFIX = "configs/";

/** The playbook's retention for the copy's lifecycle safety net (nothing prunes the copy but the lifecycle). */
export interface CloudStoreRetention extends BackupRetention {
  /** The results mirror's snapshot days under `r2/daily/`. */
  readonly mirror: MirrorRetention;
  /** Days a replaced or deleted version is kept before the lifecycle removes it. */
  readonly noncurrentDays: number;
  /** Days the access logs are kept. */
  readonly accessLogDays: number;
}

/**
 * Days after which each tier's copies go, a period past the tier's retention so the newest kept copy is never the
 * one expiring. The hourly tier (each run's dump at the top of `postgres/`, keys starting with the year) is kept two
 * days: the copy runs daily, so it always holds the previous day's runs, and no more.
 */
export function tierExpiryDays(r: BackupRetention): Record<keyof typeof TIER_PREFIXES, number> {
  return {
    hourly: Math.max(2, Math.ceil(r.hourly / 24) + 1),
    daily: r.daily + 2,
    weekly: (r.weekly + 1) * 7,
    monthly: (r.monthly + 1) * 31,
  };
}

/** Days the results mirror's snapshot days stay: as in R2, a week past the longer of the two retentions. */
export const mirrorExpiryDays = (m: MirrorRetention) => Math.max(m.weekly * 7, m.daily) + 7;

/** The monthly tier moves to a colder class after a month: it is read only for an old restore. */
export const COLD_AFTER_DAYS = 30;

/**
 * Seconds a `postgres/monthly/` object stays locked after it was written at the source: the monthly tier's retention
 * with months taken as 28 days, as R2's lock counts it (the shortest span `monthly` months can cover).
 */
export const monthlyRetentionSeconds = (r: BackupRetention) => r.monthly * 28 * DAY;

/** GCS lifecycle rules of the backup bucket. */
export function gcsLifecycleRules(r: CloudStoreRetention): gcp.types.input.storage.BucketLifecycleRule[] {
  const expiry = tierExpiryDays(r);
  const del = (prefix: string, age: number) => ({ action: { type: "Delete" }, condition: { age, matchesPrefixes: [prefix], withState: "LIVE" } });
  return [
    { action: { type: "AbortIncompleteMultipartUpload" }, condition: { age: 1 } },
    del(TIER_PREFIXES.hourly, expiry.hourly),
    del(TIER_PREFIXES.daily, expiry.daily),
    del(TIER_PREFIXES.weekly, expiry.weekly),
    del(TIER_PREFIXES.monthly, expiry.monthly),
    { action: { type: "SetStorageClass", storageClass: "COLDLINE" }, condition: { age: COLD_AFTER_DAYS, matchesPrefixes: [TIER_PREFIXES.monthly], withState: "LIVE" } },
    del("r2/daily/", mirrorExpiryDays(r.mirror)),
    // Replaced and deleted versions (the lifecycle's own deletes among them) go after a grace period.
    { action: { type: "Delete" }, condition: { daysSinceNoncurrentTime: r.noncurrentDays, withState: "ARCHIVED" } },
  ];
}

/** GCS lifecycle of the usage-log bucket: logs go after their retention, replaced versions after a week. */
export function gcsLogLifecycleRules(r: Pick<CloudStoreRetention, "accessLogDays">): gcp.types.input.storage.BucketLifecycleRule[] {
  return [
    { action: { type: "AbortIncompleteMultipartUpload" }, condition: { age: 1 } },
    { action: { type: "Delete" }, condition: { age: r.accessLogDays, withState: "LIVE" } },
    { action: { type: "Delete" }, condition: { daysSinceNoncurrentTime: 7, withState: "ARCHIVED" } },
  ];
}

type S3Rule = aws.types.input.s3.BucketLifecycleConfigurationRule;

/** S3 lifecycle rules of the backup bucket. */
export function s3LifecycleRules(r: CloudStoreRetention): S3Rule[] {
  const expiry = tierExpiryDays(r);
  const expire = (id: string, prefix: string, days: number, extra: Partial<S3Rule> = {}): S3Rule => ({
    id,
    status: "Enabled",
    filter: { prefix },
    expiration: { days },
    ...extra,
  });
  return [
    { id: "abort-incomplete-uploads", status: "Enabled", filter: {}, abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } },
    expire("expire-hourly-tier", TIER_PREFIXES.hourly, expiry.hourly),
    expire("expire-daily-tier", TIER_PREFIXES.daily, expiry.daily),
    expire("expire-weekly-tier", TIER_PREFIXES.weekly, expiry.weekly),
    // Glacier Instant Retrieval: a tenth of Standard's storage price, read in milliseconds when a restore needs it.
    expire("expire-monthly-tier", TIER_PREFIXES.monthly, expiry.monthly, { transitions: [{ days: COLD_AFTER_DAYS, storageClass: "GLACIER_IR" }] }),
    expire("expire-results-mirror-days", "r2/daily/", mirrorExpiryDays(r.mirror)),
    // Object Lock holds a locked version past this until its retention ends; the rule removes it then.
    { id: "expire-noncurrent-versions", status: "Enabled", filter: {}, noncurrentVersionExpiration: { noncurrentDays: r.noncurrentDays }, expiration: { expiredObjectDeleteMarker: true } },
  ];
}

/** S3 lifecycle of the server-access-log bucket. */
export function s3LogLifecycleRules(r: Pick<CloudStoreRetention, "accessLogDays">): S3Rule[] {
  return [
    { id: "abort-incomplete-uploads", status: "Enabled", filter: {}, abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } },
    { id: "expire-access-logs", status: "Enabled", filter: {}, expiration: { days: r.accessLogDays }, noncurrentVersionExpiration: { noncurrentDays: 7 } },
  ];
}

/** Statement denying any request made without TLS, for every principal. */
export function denyInsecureTransport(bucketArn: string) {
  return {
    Sid: "DenyInsecureTransport",
    Effect: "Deny",
    Principal: "*",
    Action: "s3:*",
    Resource: [bucketArn, `${bucketArn}/*`],
    Condition: { Bool: { "aws:SecureTransport": "false" } },
  };
}

/**
 * The backup bucket's policy: TLS only, and every new object encrypted under the bucket's own key (a put that names
 * another key, or SSE-S3, is refused; one that names none gets the bucket default).
 */
export function s3BucketPolicy(bucketArn: string, keyArn: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      denyInsecureTransport(bucketArn),
      {
        Sid: "DenyOtherEncryption",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:PutObject",
        Resource: `${bucketArn}/*`,
        Condition: { StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption": "aws:kms" } },
      },
      {
        Sid: "DenyOtherKeys",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:PutObject",
        Resource: `${bucketArn}/*`,
        Condition: { StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption-aws-kms-key-id": keyArn } },
      },
    ],
  });
}

/** The access-log bucket's policy: TLS only, and S3's log delivery may write under its prefix for the source bucket only. */
export function s3LogBucketPolicy(logBucketArn: string, sourceBucketArn: string, accountId: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      denyInsecureTransport(logBucketArn),
      {
        Sid: "AllowServerAccessLogDelivery",
        Effect: "Allow",
        Principal: { Service: "logging.s3.amazonaws.com" },
        Action: "s3:PutObject",
        Resource: `${logBucketArn}/*`,
        Condition: { ArnLike: { "aws:SourceArn": sourceBucketArn }, StringEquals: { "aws:SourceAccount": accountId } },
      },
    ],
  });
}

/**
 * What the copy job's IRSA role may do: list the bucket, read and add objects, read and set an object's retention
 * (governance, never bypass it), and use the bucket's key for that. No delete, no overwrite of a locked version, no other bucket.
 */
export function s3CopierPolicy(bucketArn: string, keyArn: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      { Sid: "ListBackups", Effect: "Allow", Action: ["s3:ListBucket"], Resource: [bucketArn] },
      { Sid: "AddBackups", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:GetObjectRetention", "s3:PutObjectRetention"], Resource: [`${bucketArn}/*`] },
      { Sid: "UseBackupKey", Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: [keyArn] },
    ],
  });
}

/**
 * The backup key's policy: the account administers it through IAM (so roles, the copy job's among them, get use by
 * their own policies), and S3 may use it only on behalf of this account.
 */
export function s3KeyPolicy(accountId: string, partition: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Sid: "AccountAdministersThroughIam", Effect: "Allow", Principal: { AWS: `arn:${partition}:iam::${accountId}:root` }, Action: "kms:*", Resource: "*" }],
  });
}

/** GCS's service agent for a project: it encrypts and decrypts objects with the bucket's key. */
export const gcsServiceAgent = (projectNumber: string) => `serviceAccount:service-${projectNumber}@gs-project-accounts.iam.gserviceaccount.com`;

/** Cloud Storage writes usage logs as this group; it needs objectCreator on the log bucket. */
export const GCS_USAGE_LOG_WRITER = "group:cloud-storage-analytics@google.com";

/**
 * The copy job's GCP roles on the bucket: create objects (each write carries `ifGenerationMatch: 0`, so it can only add
 * a name that does not exist yet; no delete or overwrite right is needed) and read them to compare.
 */
export const GCS_COPIER_ROLES = ["roles/storage.objectCreator", "roles/storage.objectViewer"] as const;

/** What the copy needs beyond the two roles to create a monthly object with its retention (unlocked mode). */
export const GCS_RETENTION_PERMISSIONS = ["storage.objects.setRetention"] as const;

/** The custom role's id: project-unique, from the cluster's name (GCP role ids are letters, digits, `_` and `.`). */
export function gcsRetentionRoleId(prefix: string): string {
  const id = `${prefix.replace(/-/g, "_")}_backupCopyRetention`;
  if (!/^[a-zA-Z0-9_.]{3,64}$/.test(id)) throw new Error(`custom role id "${id}" is not 3–64 letters, digits, _ and .`);
  return id;
}

/** Bucket names, unique per stack (the cluster's name) and worldwide (a random suffix kept in state). */
export function cloudStoreNames(prefix: string, suffix: string) {
  const names = { bucket: `${prefix}-backups-${suffix}`, logs: `${prefix}-access-logs-${suffix}` };
  for (const n of Object.values(names)) {
    if (!/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(n)) throw new Error(`bucket name "${n}" is not 3–63 lowercase letters, digits and dashes`);
  }
  return names;
}
