import { find, mountSecret, pod, remove, res, storeCredential, type Case } from "../util";

export const storageCases: Record<string, Case[]> = {
    "s3-public-access-block": [
        { name: "the block is missing", culprit: "media", mutate: (s) => remove(s, "media-pab") },
        { name: "restrictPublicBuckets is off", culprit: "backups-pab", mutate: (s) => void (find(s, "backups-pab").props.restrictPublicBuckets = false) },
    ],
    "s3-sse-kms-customer-key": [
        { name: "SSE-S3 (AES256) is used", culprit: "backups", mutate: (s) => void (find(s, "backups-sse").props.rules = [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }]) },
        { name: "the AWS-managed key is used", culprit: "backups", mutate: (s) => void (find(s, "backups-sse").props.rules[0].applyServerSideEncryptionByDefault.kmsMasterKeyId = "alias/aws/s3") },
        { name: "a bucket that is no access-log target uses SSE-S3", culprit: "media", mutate: (s) => void (find(s, "media-sse").props.rules = [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }]) },
        { name: "the configuration points at another bucket", culprit: "media", mutate: (s) => void (find(s, "media-sse").props.bucket = "someone-elses-bucket") },
    ],
    "s3-versioning": [
        { name: "versioning is suspended", culprit: "backups", mutate: (s) => void (find(s, "backups-versioning").props.versioningConfiguration.status = "Suspended") },
        { name: "versioning is missing", culprit: "media", mutate: (s) => remove(s, "media-versioning") },
    ],
    "s3-access-logging": [{ name: "logging is missing", culprit: "media", mutate: (s) => remove(s, "media-logging") }],
    "s3-lifecycle-abort-incomplete-uploads": [
        { name: "the abort rule is missing", culprit: "media", mutate: (s) => void (find(s, "media-lifecycle").props.rules = []) },
        { name: "the abort rule is disabled", culprit: "media", mutate: (s) => void (find(s, "media-lifecycle").props.rules[0].status = "Disabled") },
    ],
    "s3-tls-only": [
        { name: "the bucket policy is missing", culprit: "media", mutate: (s) => remove(s, "media-policy") },
        { name: "the deny does not test SecureTransport", culprit: "backups", mutate: (s) => void (find(s, "backups-policy").props.policy = JSON.stringify({ Statement: [{ Effect: "Deny", Principal: "*", Action: "s3:DeleteBucket", Resource: "*" }] })) },
    ],
    "s3-acls-disabled": [
        { name: "ownership is ObjectWriter", culprit: "media", mutate: (s) => void (find(s, "media-ownership").props.rule.objectOwnership = "ObjectWriter") },
        { name: "a BucketAcl is declared", culprit: "media-acl", mutate: (s) => void s.push(res("aws:s3/bucketAcl:BucketAcl", "media-acl", { bucket: "pitchey-prod-media", acl: "public-read" })) },
    ],
    "backup-bucket-replicated": [
        { name: "the backup bucket's replication is missing", culprit: "backups", mutate: (s) => remove(s, "backups-replication") },
        { name: "the replication rule is disabled", culprit: "backups", mutate: (s) => void (find(s, "backups-replication").props.rules[0].status = "Disabled") },
        { name: "the GCS backup bucket is single-region", culprit: "gcs-backups", mutate: (s) => void (find(s, "gcs-backups").props.location = "US-WEST1") },
        { name: "the single-region GCS copy no longer says whose copy it is", culprit: "gcs-backup-copy", mutate: (s) => void delete find(s, "gcs-backup-copy").props.labels.replica_of },
    ],
    "backup-retention-minimum": [
        { name: "monthly backups expire after 90 days", culprit: "backups-lifecycle", mutate: (s) => void (find(s, "backups-lifecycle").props.rules[4].expiration.days = 90) },
        { name: "a bucket-wide rule expires everything after 30 days", culprit: "backups-lifecycle", mutate: (s) => void find(s, "backups-lifecycle").props.rules.push({ id: "all", status: "Enabled", filter: {}, expiration: { days: 30 } }) },
        { name: "the GCS hourly tier is deleted after 12 hours", culprit: "gcs-backups", mutate: (s) => void (find(s, "gcs-backups").props.lifecycleRules[0].condition.age = 0) },
        { name: "the copy's hourly dumps (postgres/2…) go after half a day", culprit: "backup-copy-lifecycle", mutate: (s) => void (find(s, "backup-copy-lifecycle").props.rules.at(-1).expiration.days = 0.5) },
        { name: "the R2 monthly tier is deleted after 200 days", culprit: "r2-backups-lifecycle", mutate: (s) => void (find(s, "r2-backups-lifecycle").props.rules[2].deleteObjectsTransition.condition.maxAge = 200 * 86400) },
        { name: "the config raises the daily minimum", culprit: "backups-lifecycle", mutate: () => undefined, config: { "backup-retention-minimum": { backupRetentionDays: { hourly: 1, daily: 14, weekly: 28, monthly: 365 } } } },
    ],
    "kms-key-rotation": [
        { name: "rotation is off", culprit: "platform-key", mutate: (s) => void (find(s, "platform-key").props.enableKeyRotation = false) },
        { name: "the GCP key rotates yearly", culprit: "gke-secrets-key", mutate: (s) => void (find(s, "gke-secrets-key").props.rotationPeriod = "31536000s") },
        { name: "the GCP key never rotates", culprit: "gke-secrets-key", mutate: (s) => void delete find(s, "gke-secrets-key").props.rotationPeriod },
    ],
    "kms-no-wildcard-principal": [
        { name: "the key policy allows Principal *", culprit: "platform-key", mutate: (s) => void (find(s, "platform-key").props.policy = JSON.stringify({ Statement: [{ Effect: "Allow", Principal: "*", Action: "kms:Decrypt", Resource: "*" }] })) },
        { name: "the key policy allows AWS: [*]", culprit: "platform-key", mutate: (s) => void (find(s, "platform-key").props.policy = JSON.stringify({ Statement: [{ Effect: "Allow", Principal: { AWS: ["*"] }, Action: "kms:*", Resource: "*" }] })) },
    ],
    "gcs-uniform-bucket-level-access": [{ name: "uniform access is off", culprit: "gcs-backups", mutate: (s) => void (find(s, "gcs-backups").props.uniformBucketLevelAccess = false) }],
    "gcs-public-access-prevention": [{ name: "prevention is inherited", culprit: "gcs-backups", mutate: (s) => void (find(s, "gcs-backups").props.publicAccessPrevention = "inherited") }],
    "r2-bucket-not-public": [
        { name: "the r2.dev domain is enabled", culprit: "r2-backups-dev-domain", mutate: (s) => void (find(s, "r2-backups-dev-domain").props.enabled = true) },
        { name: "the backup bucket gets a custom domain", culprit: "r2-backups-domain", mutate: (s) => void s.push(res("cloudflare:index/r2CustomDomain:R2CustomDomain", "r2-backups-domain", { accountId: "acc", bucketName: "pitchey-backups", domain: "backups.pitchey.com", zoneId: "z", enabled: true })) },
    ],
    "gcs-versioning": [{ name: "versioning is off", culprit: "gcs-backups", mutate: (s) => void delete find(s, "gcs-backups").props.versioning }],
    "object-store-backup-credential-isolated": [
        { name: "a processor mounts the backup writer", culprit: "video-processor", mutate: (s) => mountSecret(pod(find(s, "video-processor")), "backup-writer") },
        {
            name: "one object-store Secret serves the processors and the backup job",
            culprit: "document-processor",
            mutate: (s) => {
                s.push(res("kubernetes:core/v1:Secret", "object-store", { metadata: { name: "object-store", namespace: "processors" }, type: "Opaque", stringData: { AWS_ACCESS_KEY_ID: "[secret]", AWS_SECRET_ACCESS_KEY: "[secret]" } }));
                mountSecret(pod(find(s, "document-processor")), "object-store");
                mountSecret(find(s, "db-backup").props.spec.jobTemplate.spec.template.spec, "object-store");
            },
        },
        {
            name: "the results token can also write the backup bucket",
            culprit: "media-transcoder",
            mutate: (s) => {
                s.splice(s.indexOf(find(s, "results-store-secret")), 1, storeCredential("results-store", "write:pitchey-results,write:pitchey-backups"));
                mountSecret(pod(find(s, "media-transcoder")), "results-store");
            },
        },
        {
            name: "the config names only the backup job, and a maintenance job holds a backup writer",
            culprit: "db-backup",
            mutate: (s) => void (find(s, "db-backup").props.metadata.labels["app.kubernetes.io/component"] = find(s, "db-backup").props.spec.jobTemplate.spec.template.metadata.labels["app.kubernetes.io/component"] = "maintenance"),
            config: { "object-store-backup-credential-isolated": { backupJobComponents: ["backup"] } },
        },
    ],
    "object-store-credential-scoped": [
        { name: "Loki's key pair is set by hand, stating no grants", culprit: "loki-object-store-secret", mutate: (s) => void delete find(s, "loki-object-store-secret").props.metadata.annotations },
        { name: "a grant names every bucket", culprit: "results-store-secret", mutate: (s) => void (find(s, "results-store-secret").props.metadata.annotations["pitchey.io/object-store-grants"] = "write:*") },
        { name: "a grant is for something other than reading or writing a bucket", culprit: "backup-reader-secret", mutate: (s) => void (find(s, "backup-reader-secret").props.metadata.annotations["pitchey.io/object-store-grants"] = "admin:pitchey-backups") },
    ],
    "backup-bucket-locked": [
        { name: "the R2 backup bucket has no lock", culprit: "r2-backups", mutate: (s) => remove(s, "r2-backups-lock") },
        { name: "the R2 lock's only rule is disabled", culprit: "r2-backups", mutate: (s) => void (find(s, "r2-backups-lock").props.rules[0].enabled = false) },
        { name: "the S3 backup bucket has Object Lock off", culprit: "backups", mutate: (s) => void delete find(s, "backups").props.objectLockEnabled },
        { name: "the GCS backup bucket has no retention policy", culprit: "gcs-backups", mutate: (s) => void delete find(s, "gcs-backups").props.retentionPolicy },
        { name: "the GCS backup copy turns object retention off", culprit: "gcs-backup-copy", mutate: (s) => void (find(s, "gcs-backup-copy").props.enableObjectRetention = false) },
        { name: "the S3 backup copy has Object Lock but no default retention and no per-object tag", culprit: "backup-copy", mutate: (s) => void delete find(s, "backup-copy").props.tags.ObjectRetention },
    ],
    "gcs-backup-bucket-versioned-logged": [
        { name: "the backup copy keeps no versions", culprit: "gcs-backup-copy", mutate: (s) => void (find(s, "gcs-backup-copy").props.versioning = { enabled: false }) },
        { name: "the backup copy writes no usage logs", culprit: "gcs-backup-copy", mutate: (s) => void delete find(s, "gcs-backup-copy").props.logging },
        { name: "the backup copy logs into itself", culprit: "gcs-backup-copy", mutate: (s) => void (find(s, "gcs-backup-copy").props.logging.logBucket = find(s, "gcs-backup-copy").props.name) },
    ],
    "backup-bucket-lifecycle": [
        { name: "the R2 backup bucket's lifecycle is missing", culprit: "r2-backups", mutate: (s) => remove(s, "r2-backups-lifecycle") },
        {
            name: "the R2 lifecycle only aborts uploads",
            culprit: "r2-backups",
            mutate: (s) => void (find(s, "r2-backups-lifecycle").props.rules = find(s, "r2-backups-lifecycle").props.rules.filter((r: any) => !r.deleteObjectsTransition)),
        },
        { name: "the GCS backup bucket has no Delete rule", culprit: "gcs-backups", mutate: (s) => void (find(s, "gcs-backups").props.lifecycleRules = []) },
    ],
    "gcs-backup-bucket-customer-key": [
        { name: "the GCS backup bucket uses Google's key", culprit: "gcs-backups", mutate: (s) => void delete find(s, "gcs-backups").props.encryption },
        { name: "the config widens the backup pattern to the media bucket", culprit: "gcs-media", mutate: (s) => void s.push(res("gcp:storage/bucket:Bucket", "gcs-media", { name: "pitchey-media", location: "US" })), config: { "gcs-backup-bucket-customer-key": { backupBucketPattern: "backup|media" } } },
    ],
    "backup-copy-in-own-cloud": [
        { name: "a second GKE cluster runs in a project without a GCS backup bucket", culprit: "gke-analytics", mutate: (s) => void s.push(res("gcp:container/cluster:Cluster", "gke-analytics", { ...find(s, "gke").props, name: "pitchey-analytics", project: "pitchey-analytics" })) },
        { name: "the GKE stack has no GCS backup bucket", culprit: "gke", mutate: (s) => { remove(s, "gcs-backups"); remove(s, "gcs-backup-copy"); } },
        { name: "the EKS stack declares no S3 backup bucket", culprit: "eks", mutate: (s) => { for (const n of ["backups", "backup-copy"]) remove(s, n); } },
    ],
};
