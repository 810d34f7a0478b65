import type { Obj } from "../core/k8s";
import { configOf, resourcePolicy } from "../core/policy";
import { DEFAULTS, schemaFor } from "../core/defaults";
import { GCS_BUCKET, statements } from "./s3";

export const KMS_KEY = "aws:kms/key:Key";
export const KMS_KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy";
export const GCP_KMS_KEY = "gcp:kms/cryptoKey:CryptoKey";

export const kmsRotation = resourcePolicy({
    name: "kms-key-rotation",
    summary: "Symmetric customer-managed KMS keys must have automatic rotation enabled (GCP keys a rotationPeriod of at most 90 days).",
    enforcement: "mandatory",
    meta: {
        area: "storage-and-keys",
        source: "Checkov CKV_AWS_7, CKV_GCP_43; CIS AWS 3.6; tfsec aws-kms-auto-rotate-keys",
        why: "Rotation bounds how much data one key version protects and is required by the compliance baselines the backups fall under.",
    },
    fix: "Set enableKeyRotation: true on aws.kms.Key (rotationPeriod: \"7776000s\" or similar on gcp.kms.CryptoKey).",
    types: [KMS_KEY, GCP_KMS_KEY],
    validate: (args, report) => {
        const p = args.props;
        if (args.type === GCP_KMS_KEY) {
            const secs = typeof p.rotationPeriod === "string" ? Number(p.rotationPeriod.replace(/s$/, "")) : NaN;
            if (!(secs > 0 && secs <= 90 * 86400)) report(`CryptoKey ${p.name ?? args.name} has no rotationPeriod of at most 90 days.`);
            return;
        }
        const spec = p.customerMasterKeySpec ?? p.keySpec ?? "SYMMETRIC_DEFAULT";
        if (spec !== "SYMMETRIC_DEFAULT") args.notApplicable("asymmetric and HMAC keys cannot rotate automatically");
        if (p.enableKeyRotation !== true) report(`KMS key ${args.name} does not enable key rotation.`);
    },
});

function wildcardPrincipal(s: Obj): boolean {
    const pr = s.Principal;
    const values = pr === "*" ? ["*"] : [pr?.AWS].flat().filter((v) => v !== undefined);
    return values.some((v) => v === "*");
}

export const kmsNoWildcardPrincipal = resourcePolicy({
    name: "kms-no-wildcard-principal",
    summary: "KMS key policies must not Allow a wildcard principal without a restricting condition.",
    enforcement: "mandatory",
    meta: {
        area: "storage-and-keys",
        source: "Checkov CKV_AWS_33; AWS KMS best practices (least-privilege key policies)",
        why: "Principal * lets any AWS account use the key that protects backups and cluster secrets.",
    },
    fix: "Name the account root, the cluster role and the backup role as principals instead of *.",
    types: [KMS_KEY, KMS_KEY_POLICY],
    validate: (args, report) => {
        for (const s of statements(args.props.policy)) {
            if (s.Effect === "Allow" && wildcardPrincipal(s) && !s.Condition) report(`KMS key policy of ${args.name} allows Principal * (statement ${s.Sid ?? "without Sid"}).`);
        }
    },
});

export const gcsUniformAccess = resourcePolicy({
    name: "gcs-uniform-bucket-level-access",
    summary: "GCS buckets must enable uniform bucket-level access.",
    enforcement: "mandatory",
    meta: {
        area: "storage-and-keys",
        source: "Checkov CKV_GCP_29; CIS GCP 5.2; tfsec google-storage-enable-ubla",
        why: "Object ACLs let individual objects be shared outside IAM; uniform access makes IAM the only gate.",
    },
    fix: "Set uniformBucketLevelAccess: true.",
    types: [GCS_BUCKET],
    validate: (args, report) => {
        if (args.props.uniformBucketLevelAccess !== true) report(`GCS bucket ${args.props.name ?? args.name} does not enable uniform bucket-level access.`);
    },
});

export const gcsPublicAccessPrevention = resourcePolicy({
    name: "gcs-public-access-prevention",
    summary: "GCS buckets must enforce public access prevention.",
    enforcement: "mandatory",
    meta: {
        area: "storage-and-keys",
        source: "Checkov CKV_GCP_114; CIS GCP 5.1",
        why: "Enforced prevention makes allUsers / allAuthenticatedUsers grants impossible, whatever IAM says later.",
    },
    fix: "Set publicAccessPrevention: \"enforced\".",
    types: [GCS_BUCKET],
    validate: (args, report) => {
        if (args.props.publicAccessPrevention !== "enforced") report(`GCS bucket ${args.props.name ?? args.name} does not enforce public access prevention.`);
    },
});

export const gcsVersioning = resourcePolicy({
    name: "gcs-versioning",
    summary: "GCS buckets should keep object versions.",
    enforcement: "advisory",
    meta: {
        area: "storage-and-keys",
        source: "Checkov CKV_GCP_78",
        why: "Versions make overwrites and deletions recoverable. Advisory because scratch buckets for transcoding intentionally do not keep history.",
    },
    fix: "Set versioning: { enabled: true }.",
    types: [GCS_BUCKET],
    validate: (args, report) => {
        if (args.props.versioning?.enabled !== true) report(`GCS bucket ${args.props.name ?? args.name} does not enable versioning.`);
    },
});

export const R2_MANAGED_DOMAIN = "cloudflare:index/r2ManagedDomain:R2ManagedDomain";
export const R2_CUSTOM_DOMAIN = "cloudflare:index/r2CustomDomain:R2CustomDomain";

export const r2NotPublic = resourcePolicy({
    name: "r2-bucket-not-public",
    summary: "R2 buckets must not be published: no r2.dev managed domain, and no custom domain on a backup bucket.",
    enforcement: "mandatory",
    meta: {
        area: "storage-and-keys",
        source: "Cloudflare R2 docs (public buckets: r2.dev is for development; custom domains make every object readable)",
        why: "Publishing a bucket makes every object readable by URL, bypassing the S3 API tokens; for the database dumps that is the whole jobs table.",
    },
    fix: "Remove the R2ManagedDomain (or set enabled: false) and any R2CustomDomain on the backup bucket.",
    configSchema: schemaFor(["backupBucketPattern"]),
    types: [R2_MANAGED_DOMAIN, R2_CUSTOM_DOMAIN],
    validate: (args, report) => {
        const p = args.props;
        if (args.type === R2_MANAGED_DOMAIN) {
            if (p.enabled === true) report(`R2 bucket ${p.bucketName} is public on its r2.dev domain.`);
            return;
        }
        const cfg = configOf(args, { backupBucketPattern: DEFAULTS.backupBucketPattern as string });
        if (p.enabled !== false && new RegExp(cfg.backupBucketPattern, "i").test(String(p.bucketName ?? ""))) report(`Backup R2 bucket ${p.bucketName} is published on ${p.domain ?? "a custom domain"}.`);
    },
});
