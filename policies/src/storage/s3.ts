import type { PolicyResource, StackValidationArgs } from "@pulumi/policy";
import { arr, type Obj } from "../core/k8s";
import { configOf, stackPolicy } from "../core/policy";
import { DEFAULTS, schemaFor } from "../core/defaults";
import { refersTo } from "../core/refs";

export const S3 = {
    Bucket: "aws:s3/bucket:Bucket",
    PublicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    Encryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    Versioning: "aws:s3/bucketVersioning:BucketVersioning",
    Logging: "aws:s3/bucketLogging:BucketLogging",
    Lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    Policy: "aws:s3/bucketPolicy:BucketPolicy",
    Ownership: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    Acl: "aws:s3/bucketAcl:BucketAcl",
    Replication: "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
} as const;

export const GCS_BUCKET = "gcp:storage/bucket:Bucket";
export const R2_BUCKET = "cloudflare:index/r2Bucket:R2Bucket";
export const R2_LIFECYCLE = "cloudflare:index/r2BucketLifecycle:R2BucketLifecycle";

/** In @pulumi/aws v7 a bucket's settings are separate resources pointing at it through `bucket`. */
export function settingsOf(bucket: PolicyResource, resources: readonly PolicyResource[], type: string): PolicyResource[] {
    return resources.filter((r) => r.type === type && refersTo(r.props.bucket, bucket));
}

export function bucketLabel(b: PolicyResource): string {
    return `S3 bucket ${b.props.bucket ?? b.name}`;
}

function eachBucket(args: StackValidationArgs, fn: (b: PolicyResource) => void): void {
    for (const b of args.resources.filter((r) => r.type === S3.Bucket)) fn(b);
}

const S3_SOURCE = "AWS Foundational Security Best Practices S3";

export const s3PublicAccessBlock = stackPolicy({
    name: "s3-public-access-block",
    summary: "Every S3 bucket must have a BucketPublicAccessBlock with all four settings true.",
    enforcement: "mandatory",
    meta: {
        area: "storage-and-keys",
        source: `${S3_SOURCE}.8; Checkov CKV_AWS_53/54/55/56; tfsec aws-s3-block-public-acls/-policy, aws-s3-ignore-public-acls, aws-s3-no-public-buckets`,
        why: "Backups and job artefacts hold customer data; the four blocks make a later ACL or policy mistake unable to publish them.",
    },
    fix: "Add aws.s3.BucketPublicAccessBlock for the bucket with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets true.",
    validate: (args, report) =>
        eachBucket(args, (b) => {
            const blocks = settingsOf(b, args.resources, S3.PublicAccessBlock);
            if (blocks.length === 0) return report(`${bucketLabel(b)} has no public access block.`, b.urn);
            const keys = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"];
            const off = keys.filter((k) => !blocks.some((x) => x.props[k] === true));
            if (off.length > 0) report(`${bucketLabel(b)} public access block leaves ${off.join(", ")} off.`, blocks[0].urn);
        }),
});

export const s3SseKms = stackPolicy({
    name: "s3-sse-kms-customer-key",
    summary: "Every S3 bucket must default to SSE-KMS with a customer-managed key; a server-access-log target may use SSE-S3 instead (S3 delivers access logs only into SSE-S3 buckets).",
    enforcement: "mandatory",
    meta: {
        area: "storage-and-keys",
        source: "Checkov CKV_AWS_145; tfsec aws-s3-encryption-customer-key; AWS Well-Architected SEC08",
        why: "A customer key puts reads under a key policy and CloudTrail, and lets us revoke access to backups independently of bucket policies.",
    },
    fix: "Add aws.s3.BucketServerSideEncryptionConfiguration with sseAlgorithm aws:kms and kmsMasterKeyId set to the platform key.",
    validate: (args, report) => {
        const loggings = args.resources.filter((r) => r.type === S3.Logging);
        eachBucket(args, (b) => {
            const rules = settingsOf(b, args.resources, S3.Encryption).flatMap((e) => arr<Obj>(e.props.rules));
            const logTarget = loggings.some((l) => refersTo(l.props.targetBucket, b));
            const ok = rules.some((r) => {
                const d = r.applyServerSideEncryptionByDefault ?? {};
                const key = d.kmsMasterKeyId;
                if (logTarget && d.sseAlgorithm === "AES256") return true;
                return String(d.sseAlgorithm).startsWith("aws:kms") && typeof key === "string" && key !== "" && key !== "alias/aws/s3";
            });
            if (!ok) report(`${bucketLabel(b)} is not encrypted with SSE-KMS under a customer-managed key${logTarget ? " (or, as an access-log target, SSE-S3)" : ""}.`, b.urn);
        });
    },
});

export const s3Versioning = stackPolicy({
    name: "s3-versioning",
    summary: "Every S3 bucket must have versioning enabled.",
    enforcement: "mandatory",
    meta: {
        area: "storage-and-keys",
        source: "Checkov CKV_AWS_21; tfsec aws-s3-enable-versioning",
        why: "Versioning turns an overwrite or delete (human or ransomware) into a recoverable event; replication also requires it.",
    },
    fix: "Add aws.s3.BucketVersioning with versioningConfiguration.status Enabled.",
    validate: (args, report) =>
        eachBucket(args, (b) => {
            const ok = settingsOf(b, args.resources, S3.Versioning).some((v) => v.props.versioningConfiguration?.status === "Enabled");
            if (!ok) report(`${bucketLabel(b)} does not have versioning enabled.`, b.urn);
        }),
});

export const s3AccessLogging = stackPolicy({
    name: "s3-access-logging",
    summary: "Every S3 bucket must log access to a log bucket (log buckets themselves are exempt).",
    enforcement: "mandatory",
    meta: {
        area: "storage-and-keys",
        source: `${S3_SOURCE}.9; Checkov CKV_AWS_18; tfsec aws-s3-enable-bucket-logging`,
        why: "Access logs are the only record of who read a backup; incident response needs them. A log bucket logging into itself would loop, so targets are exempt.",
    },
    fix: "Add aws.s3.BucketLogging with targetBucket set to the access-log bucket.",
    validate: (args, report) => {
        const loggings = args.resources.filter((r) => r.type === S3.Logging);
        eachBucket(args, (b) => {
            if (loggings.some((l) => refersTo(l.props.targetBucket, b))) return;
            if (!settingsOf(b, args.resources, S3.Logging).some((l) => typeof l.props.targetBucket === "string" && l.props.targetBucket !== "")) {
                report(`${bucketLabel(b)} has no access logging.`, b.urn);
            }
        });
    },
});

function enabledRules(lc: PolicyResource[]): Obj[] {
    return lc.flatMap((l) => arr<Obj>(l.props.rules)).filter((r) => (r.status ?? "Enabled") === "Enabled");
}

export const s3AbortIncompleteUploads = stackPolicy({
    name: "s3-lifecycle-abort-incomplete-uploads",
    summary: "Every S3 bucket must have an enabled lifecycle rule that aborts incomplete multipart uploads.",
    enforcement: "mandatory",
    meta: {
        area: "storage-and-keys",
        source: "Checkov CKV_AWS_300; AWS S3 cost optimisation guidance",
        why: "Interrupted backup and media uploads leave invisible, billed parts forever; the rule is the only way they get cleaned up.",
    },
    fix: "Add a BucketLifecycleConfiguration rule with abortIncompleteMultipartUpload.daysAfterInitiation (e.g. 7).",
    validate: (args, report) =>
        eachBucket(args, (b) => {
            const ok = enabledRules(settingsOf(b, args.resources, S3.Lifecycle)).some((r) => typeof r.abortIncompleteMultipartUpload?.daysAfterInitiation === "number");
            if (!ok) report(`${bucketLabel(b)} has no lifecycle rule aborting incomplete multipart uploads.`, b.urn);
        }),
});

function parsePolicy(doc: unknown): Obj | undefined {
    if (typeof doc === "object" && doc !== null) return doc as Obj;
    if (typeof doc !== "string") return undefined;
    try {
        return JSON.parse(doc) as Obj;
    } catch {
        return undefined;
    }
}

export function statements(doc: unknown): Obj[] {
    const p = parsePolicy(doc);
    if (!p) return [];
    return Array.isArray(p.Statement) ? p.Statement : p.Statement ? [p.Statement] : [];
}

function deniesInsecureTransport(s: Obj): boolean {
    if (s.Effect !== "Deny") return false;
    const principalAll = s.Principal === "*" || s.Principal?.AWS === "*" || (Array.isArray(s.Principal?.AWS) && s.Principal.AWS.includes("*"));
    const actions = arr<string>(Array.isArray(s.Action) ? s.Action : [s.Action]);
    const allActions = actions.some((a) => a === "s3:*" || a === "*");
    const cond = s.Condition?.Bool?.["aws:SecureTransport"];
    return principalAll && allActions && (cond === false || cond === "false");
}

export const s3TlsOnly = stackPolicy({
    name: "s3-tls-only",
    summary: "Every S3 bucket policy must deny requests that do not use TLS (aws:SecureTransport false).",
    enforcement: "mandatory",
    meta: {
        area: "storage-and-keys",
        source: `${S3_SOURCE}.5; AWS Config rule s3-bucket-ssl-requests-only`,
        why: "Without the deny, a misconfigured client can move backups over plain HTTP.",
    },
    fix: "Attach a BucketPolicy with a Deny of s3:* for Principal * when aws:SecureTransport is false.",
    validate: (args, report) =>
        eachBucket(args, (b) => {
            const ok = settingsOf(b, args.resources, S3.Policy).some((p) => statements(p.props.policy).some(deniesInsecureTransport));
            if (!ok) report(`${bucketLabel(b)} has no bucket policy denying non-TLS requests.`, b.urn);
        }),
});

export const s3AclsDisabled = stackPolicy({
    name: "s3-acls-disabled",
    summary: "Every S3 bucket must disable ACLs (ownership BucketOwnerEnforced) and have no BucketAcl.",
    enforcement: "mandatory",
    meta: {
        area: "storage-and-keys",
        source: `${S3_SOURCE}.12; Checkov CKV2_AWS_65`,
        why: "With ACLs disabled only the bucket policy governs access, so one document is the whole truth about who can read the data.",
    },
    fix: "Add aws.s3.BucketOwnershipControls with rule.objectOwnership BucketOwnerEnforced and remove any BucketAcl.",
    validate: (args, report) =>
        eachBucket(args, (b) => {
            const enforced = settingsOf(b, args.resources, S3.Ownership).some((o) => o.props.rule?.objectOwnership === "BucketOwnerEnforced");
            if (!enforced) report(`${bucketLabel(b)} does not enforce bucket-owner object ownership (ACLs enabled).`, b.urn);
            for (const acl of settingsOf(b, args.resources, S3.Acl)) report(`${bucketLabel(b)} has an ACL resource ${acl.name}.`, acl.urn);
            if (typeof b.props.acl === "string" && b.props.acl !== "private") report(`${bucketLabel(b)} sets canned ACL ${b.props.acl}.`, b.urn);
        }),
});

export function isBackupBucket(r: PolicyResource, pattern: string): boolean {
    const re = new RegExp(pattern, "i");
    const tags = r.props.tags ?? r.props.labels ?? {};
    return [r.name, r.props.bucket, r.props.bucketPrefix, r.props.name, tags.Purpose, tags.purpose, tags.Role, tags.role].some((v) => typeof v === "string" && re.test(v));
}

/** A copy of another provider's or region's backup bucket (tag `ReplicaOf`, GCS label `replica_of`): it is the replication. */
export function isReplica(b: PolicyResource, resources: readonly PolicyResource[]): boolean {
    const tags = b.props.tags ?? {};
    if (typeof tags.ReplicaOf === "string" || tags.Role === "replica") return true;
    if (typeof b.props.labels?.replica_of === "string") return true;
    return resources.some((r) => r.type === S3.Replication && arr<Obj>(r.props.rules).some((rule) => refersTo(rule.destination?.bucket, b)));
}

export const backupReplication = stackPolicy({
    name: "backup-bucket-replicated",
    summary: "Backup buckets must be replicated to another region (S3 replication, or a dual/multi-region GCS location); replicas themselves (tag ReplicaOf, GCS label replica_of: the copy of another provider's bucket) are exempt.",
    enforcement: "mandatory",
    meta: {
        area: "storage-and-keys",
        source: "AWS Well-Architected REL09-BP (back up data, test restore) / Checkov CKV_AWS_144; playbook Backup and Disaster Recovery",
        why: "A backup in the same region as the database does not survive the regional outage the dr stack exists for.",
    },
    fix: "Add aws.s3.BucketReplicationConfig with an Enabled rule to the DR region's bucket (GCS: use a dual-region or multi-region location).",
    configSchema: schemaFor(["backupBucketPattern"]),
    validate: (args, report) => {
        const cfg = configOf(args, { backupBucketPattern: DEFAULTS.backupBucketPattern as string });
        for (const b of args.resources.filter((r) => r.type === S3.Bucket && isBackupBucket(r, cfg.backupBucketPattern))) {
            if (isReplica(b, args.resources)) continue;
            const ok = settingsOf(b, args.resources, S3.Replication).some((rc) => arr<Obj>(rc.props.rules).some((rule) => (rule.status ?? "Enabled") === "Enabled" && rule.destination?.bucket));
            if (!ok) report(`Backup ${bucketLabel(b)} is not replicated to another region.`, b.urn);
        }
        for (const b of args.resources.filter((r) => r.type === GCS_BUCKET && isBackupBucket(r, cfg.backupBucketPattern))) {
            if (isReplica(b, args.resources)) continue;
            const loc = String(b.props.location ?? "").toUpperCase();
            const multi = ["US", "EU", "ASIA", "NAM4", "EUR4", "ASIA1", "EUR5", "EUR7", "EUR8"].includes(loc) || arr(b.props.customPlacementConfig?.dataLocations).length >= 2;
            if (!multi) report(`Backup GCS bucket ${b.props.name ?? b.name} is in the single region ${loc || "(unset)"}.`, b.urn);
        }
    },
});


/**
 * The tier a lifecycle rule's prefix belongs to: the one it names, or the hourly tier for a prefix that ends in a year's
 * first digit (`postgres/2`): the backup job writes every run's dump at the top of its folder, keyed by its time.
 */
function tierOf<T>(prefix: string, tiers: readonly [string, T][]): [string, T] | undefined {
    const named = tiers.find(([t]) => prefix.toLowerCase().includes(t.toLowerCase()));
    if (named) return named;
    return /\/\d{1,4}$/.test(prefix) ? tiers.find(([t]) => t === "hourly") : undefined;
}

function prefixOf(rule: Obj): string {
    const f = rule.filter ?? {};
    return String(f.prefix ?? f.and?.prefix ?? rule.prefix ?? "");
}

export const backupRetention = stackPolicy({
    name: "backup-retention-minimum",
    summary: "Backup bucket lifecycle rules must keep each tier at least as long as the playbook requires (hourly 24 h, daily 7 d, weekly 4 w, monthly 12 mo).",
    enforcement: "mandatory",
    meta: {
        area: "storage-and-keys",
        source: "Operations playbook Backup Strategy (postgresql retention); AWS Backup / GCS retention guidance",
        why: "An expiry shorter than the tier's retention silently deletes the restore points the recovery procedures count on.",
    },
    fix: "Raise the tier's expiration (hourly ≥ 1 day, daily ≥ 7, weekly ≥ 28, monthly ≥ 365) or scope the rule to its tier prefix; applies to S3 and R2 lifecycle rules and GCS Delete rules.",
    configSchema: schemaFor(["backupBucketPattern", "backupRetentionDays"]),
    validate: (args, report) => {
        const cfg = configOf(args, { backupBucketPattern: DEFAULTS.backupBucketPattern as string, backupRetentionDays: DEFAULTS.backupRetentionDays });
        const tiers = Object.entries(cfg.backupRetentionDays);
        const longest = Math.max(...tiers.map(([, d]) => d));
        const check = (b: PolicyResource, urn: string, rules: { prefix: string; days: number | undefined }[]) => {
            for (const r of rules) {
                if (typeof r.days !== "number") continue;
                const tier = tierOf(r.prefix, tiers);
                const min = tier ? tier[1] : longest;
                if (r.days < min) {
                    report(`Backup bucket ${b.props.bucket ?? b.props.name ?? b.name} expires ${r.prefix ? `"${r.prefix}"` : "all objects"} after ${Math.round(r.days * 10) / 10} day(s); ${tier ? `the ${tier[0]} tier` : "the longest tier"} needs ≥ ${min}.`, urn);
                }
            }
        };
        for (const b of args.resources.filter((r) => r.type === S3.Bucket && isBackupBucket(r, cfg.backupBucketPattern))) {
            for (const lc of settingsOf(b, args.resources, S3.Lifecycle)) {
                check(b, lc.urn, enabledRules([lc]).map((r) => ({ prefix: prefixOf(r), days: r.expiration?.days })));
            }
        }
        for (const b of args.resources.filter((r) => r.type === R2_BUCKET && isBackupBucket(r, cfg.backupBucketPattern))) {
            for (const lc of args.resources.filter((r) => r.type === R2_LIFECYCLE && refersTo(r.props.bucketName, b))) {
                check(b, lc.urn, arr<Obj>(lc.props.rules)
                    .filter((r) => r.enabled !== false && r.deleteObjectsTransition?.condition?.type === "Age")
                    .map((r) => ({ prefix: String(r.conditions?.prefix ?? ""), days: Number(r.deleteObjectsTransition.condition.maxAge) / 86400 })));
            }
        }
        for (const b of args.resources.filter((r) => r.type === GCS_BUCKET && isBackupBucket(r, cfg.backupBucketPattern))) {
            check(b, b.urn, arr<Obj>(b.props.lifecycleRules).filter((r) => r.action?.type === "Delete").map((r) => ({
                prefix: arr<string>(r.condition?.matchesPrefixes).join(","),
                days: r.condition?.age,
            })));
        }
    },
});
