import type { PolicyResource } from "@pulumi/policy";
import { arr, type Obj } from "../core/k8s";
import { configOf, stackPolicy } from "../core/policy";
import { DEFAULTS, schemaFor } from "../core/defaults";
import { refersTo } from "../core/refs";
import { GCS_BUCKET, R2_BUCKET, R2_LIFECYCLE, S3, isBackupBucket, settingsOf } from "./s3";

export const R2_LOCK = "cloudflare:index/r2BucketLock:R2BucketLock";
/** Tag on an S3 bucket with Object Lock whose writer sets each object's retention itself (`per-object`). */
export const PER_OBJECT_TAG = "ObjectRetention";
const S3_LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration";

const backupBuckets = (resources: readonly PolicyResource[], type: string, pattern: string) =>
    resources.filter((r) => r.type === type && isBackupBucket(r, pattern));

const r2Name = (b: PolicyResource) => `R2 backup bucket ${b.props.name ?? b.name}`;
const r2Settings = (b: PolicyResource, resources: readonly PolicyResource[], type: string) =>
    resources.filter((r) => r.type === type && refersTo(r.props.bucketName, b));

export const backupBucketLocked = stackPolicy({
    name: "backup-bucket-locked",
    summary:
        "Backup buckets must lock objects against delete and overwrite: an enabled R2BucketLock rule with a retention, S3 Object Lock (a default retention, or tag ObjectRetention=per-object when the writer sets each object's), or a GCS retention policy or object retention.",
    enforcement: "mandatory",
    meta: {
        area: "storage-and-keys",
        source: "AWS Well-Architected REL09-BP02 (secure backups, immutability); CISA ransomware guide (immutable backups); Cloudflare R2 bucket locks",
        why: "Any token that writes backups can also delete them (R2's object-write permission includes delete); only a lock keeps a stolen token, a compromised job or a wrong prune from erasing the restore points.",
    },
    fix: "Add a cloudflare.R2BucketLock with an enabled Age rule per tier prefix (S3: objectLockEnabled plus a BucketObjectLockConfiguration default retention, or per-object retention set by the writer; GCS: retentionPolicy, or enableObjectRetention with per-object retention).",
    configSchema: schemaFor(["backupBucketPattern"]),
    validate: (args, report) => {
        const { backupBucketPattern: pattern } = configOf(args, { backupBucketPattern: DEFAULTS.backupBucketPattern as string });
        for (const b of backupBuckets(args.resources, R2_BUCKET, pattern)) {
            const rules = r2Settings(b, args.resources, R2_LOCK).flatMap((l) => arr<Obj>(l.props.rules));
            const ok = rules.some((r) => r.enabled !== false && (r.condition?.type === "Indefinite" || Number(r.condition?.maxAgeSeconds) > 0 || typeof r.condition?.date === "string"));
            if (!ok) report(`${r2Name(b)} has no enabled lock rule.`, b.urn);
        }
        for (const b of backupBuckets(args.resources, S3.Bucket, pattern)) {
            const lock = settingsOf(b, args.resources, S3_LOCK).some((l) => l.props.rule?.defaultRetention?.mode);
            // Per-object retention needs Object Lock on the bucket and is declared by the tag; the writer sets it.
            const perObject = b.props.tags?.[PER_OBJECT_TAG] === "per-object";
            if (b.props.objectLockEnabled !== true || !(lock || perObject)) report(`S3 backup bucket ${b.props.bucket ?? b.name} has no Object Lock with a default or per-object retention.`, b.urn);
        }
        for (const b of backupBuckets(args.resources, GCS_BUCKET, pattern)) {
            const ok = Number(b.props.retentionPolicy?.retentionPeriod) > 0 || b.props.enableObjectRetention === true;
            if (!ok) report(`GCS backup bucket ${b.props.name ?? b.name} has neither a retention policy nor object retention.`, b.urn);
        }
    },
});

export const backupBucketLifecycle = stackPolicy({
    name: "backup-bucket-lifecycle",
    summary:
        "R2 and GCS backup buckets must carry lifecycle rules: an enabled rule that expires old objects (the safety net should pruning stop) and, on R2, one that aborts incomplete multipart uploads (S3 buckets: see s3-lifecycle-abort-incomplete-uploads).",
    enforcement: "mandatory",
    meta: {
        area: "storage-and-keys",
        source: "Checkov CKV_AWS_300 (the R2/GCS equivalent); Cloudflare R2 object lifecycles; operations playbook backup_policy",
        why: "A backup job that stops pruning fills the bucket forever, and interrupted dumps leave billed, invisible parts; the lifecycle is what bounds both when the job cannot.",
    },
    fix: "Add a cloudflare.R2BucketLifecycle with an abortMultipartUploadsTransition rule and deleteObjectsTransition rules beyond each tier's retention (GCS: a lifecycle rule with action Delete).",
    configSchema: schemaFor(["backupBucketPattern"]),
    validate: (args, report) => {
        const { backupBucketPattern: pattern } = configOf(args, { backupBucketPattern: DEFAULTS.backupBucketPattern as string });
        for (const b of backupBuckets(args.resources, R2_BUCKET, pattern)) {
            const rules = r2Settings(b, args.resources, R2_LIFECYCLE).flatMap((l) => arr<Obj>(l.props.rules)).filter((r) => r.enabled !== false);
            if (!rules.some((r) => r.abortMultipartUploadsTransition)) report(`${r2Name(b)} has no lifecycle rule aborting incomplete uploads.`, b.urn);
            if (!rules.some((r) => r.deleteObjectsTransition)) report(`${r2Name(b)} has no lifecycle rule expiring old objects.`, b.urn);
        }
        for (const b of backupBuckets(args.resources, GCS_BUCKET, pattern)) {
            if (!arr<Obj>(b.props.lifecycleRules).some((r) => r.action?.type === "Delete")) report(`GCS backup bucket ${b.props.name ?? b.name} has no lifecycle rule deleting old objects.`, b.urn);
        }
    },
});

export const gcsBackupCustomerKey = stackPolicy({
    name: "gcs-backup-bucket-customer-key",
    summary: "GCS backup buckets must be encrypted with a customer-managed Cloud KMS key (encryption.defaultKmsKeyName). R2 offers no customer-managed keys; S3 buckets: see s3-sse-kms-customer-key.",
    enforcement: "mandatory",
    meta: {
        area: "storage-and-keys",
        source: "Checkov CKV_GCP_65 (bucket encrypted with CSEK/CMEK); CIS GCP 5.x; operations playbook backup buckets",
        why: "With a customer key, reading a backup needs the key as well as the bucket, rotation is under our control, and destroying the key destroys every copy.",
    },
    fix: "Set encryption.defaultKmsKeyName to a rotating gcp.kms.CryptoKey the GCS service agent may use.",
    configSchema: schemaFor(["backupBucketPattern"]),
    validate: (args, report) => {
        const { backupBucketPattern: pattern } = configOf(args, { backupBucketPattern: DEFAULTS.backupBucketPattern as string });
        for (const b of backupBuckets(args.resources, GCS_BUCKET, pattern)) {
            const key = b.props.encryption?.defaultKmsKeyName;
            if (typeof key !== "string" || key === "") report(`GCS backup bucket ${b.props.name ?? b.name} is not encrypted with a customer-managed key.`, b.urn);
        }
    },
});
