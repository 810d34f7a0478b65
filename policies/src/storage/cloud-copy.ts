import type { PolicyResource } from "@pulumi/policy";
import { configOf, stackPolicy } from "../core/policy";
import { DEFAULTS, schemaFor } from "../core/defaults";
import { GCS_BUCKET, S3, isBackupBucket } from "./s3";

const GKE = "gcp:container/cluster:Cluster";
const EKS = "aws:eks/cluster:Cluster";

const backupBuckets = (resources: readonly PolicyResource[], type: string, pattern: string) =>
    resources.filter((r) => r.type === type && isBackupBucket(r, pattern));

export const backupCopyInOwnCloud = stackPolicy({
    name: "backup-copy-in-own-cloud",
    summary: "A stack that runs a GKE cluster must declare a GCS backup bucket, and one that runs an EKS cluster an S3 backup bucket: a copy of the backups in the stack's own cloud.",
    enforcement: "mandatory",
    meta: {
        area: "storage-and-keys",
        source: "Operations playbook backup_policy (backups survive the loss of any one provider); AWS Well-Architected REL09-BP01; 3-2-1 backup rule",
        why: "With the backups in Cloudflare alone, losing that one provider (or its account) loses every restore point; and only the cloud's own store offers a key we hold, versioning and access logs.",
    },
    fix: "Declare the backup copy store (components/backup/cloud-store.ts: a GCS bucket on GKE, an S3 bucket on EKS) and its daily copy job.",
    configSchema: schemaFor(["backupBucketPattern"]),
    validate: (args, report) => {
        const { backupBucketPattern: pattern } = configOf(args, { backupBucketPattern: DEFAULTS.backupBucketPattern as string });
        // GKE: a bucket in the cluster's own project (a bucket naming no project is in the provider's, taken as the same).
        const gcs = backupBuckets(args.resources, GCS_BUCKET, pattern);
        for (const c of args.resources.filter((r) => r.type === GKE)) {
            if (!gcs.some((b) => b.props.project === undefined || c.props.project === undefined || b.props.project === c.props.project)) {
                report(`GKE cluster ${c.props.name ?? c.name} has no GCS backup bucket in its project ${c.props.project ?? ""}.`.trimEnd(), c.urn);
            }
        }
        // EKS: the account and region come from the provider, so any S3 backup bucket of the stack counts.
        const eks = args.resources.filter((r) => r.type === EKS);
        if (eks.length > 0 && backupBuckets(args.resources, S3.Bucket, pattern).length === 0) {
            report(`EKS cluster ${eks[0].props.name ?? eks[0].name} runs in a stack that declares no S3 backup bucket.`, eks[0].urn);
        }
    },
});

export const gcsBackupHardened = stackPolicy({
    name: "gcs-backup-bucket-versioned-logged",
    summary: "GCS backup buckets must keep object versions and write usage logs to a log bucket (logging.logBucket) other than themselves.",
    enforcement: "mandatory",
    meta: {
        area: "storage-and-keys",
        source: "Checkov CKV_GCP_62 (bucket logs access), CKV_GCP_78 (versioning); CIS GCP 5.x; operations playbook backup buckets",
        why: "Versions turn an overwrite or delete of a backup into a recoverable event; the usage log is the record of who read or wrote one. gcs-versioning is advisory for scratch buckets; for backups it is not.",
    },
    fix: "Set versioning: { enabled: true } and logging: { logBucket: <a separate log bucket> } on the backup bucket, and grant group:cloud-storage-analytics@google.com objectCreator on the log bucket.",
    configSchema: schemaFor(["backupBucketPattern"]),
    validate: (args, report) => {
        const { backupBucketPattern: pattern } = configOf(args, { backupBucketPattern: DEFAULTS.backupBucketPattern as string });
        for (const b of backupBuckets(args.resources, GCS_BUCKET, pattern)) {
            const label = `GCS backup bucket ${b.props.name ?? b.name}`;
            if (b.props.versioning?.enabled !== true) report(`${label} does not keep object versions.`, b.urn);
            const target = b.props.logging?.logBucket;
            if (typeof target !== "string" || target === "" || target === b.props.name) report(`${label} writes no usage logs to a separate log bucket.`, b.urn);
        }
    },
});
