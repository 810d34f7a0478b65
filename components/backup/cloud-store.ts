import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { KMS_ROTATION_PERIOD } from "../cluster/gke";
import { gcpAccountId, workloadIdentityMember } from "../cluster/gke-identities";
import { irsaTrustPolicy } from "../cluster/eks-iam";
import { awsTags, gcpLabels, type LabelContext } from "../labels";
import {
  cloudStoreNames,
  GCS_COPIER_ROLES,
  GCS_RETENTION_PERMISSIONS,
  gcsRetentionRoleId,
  GCS_USAGE_LOG_WRITER,
  gcsLifecycleRules,
  gcsLogLifecycleRules,
  gcsServiceAgent,
  s3BucketPolicy,
  s3CopierPolicy,
  s3KeyPolicy,
  s3LifecycleRules,
  s3LogBucketPolicy,
  s3LogLifecycleRules,
  type CloudStoreRetention,
} from "./cloud-store-builders";

export * from "./cloud-store-builders";

export interface CloudStoreArgs {
  /** `gcp` (a GCS bucket) or `aws` (an S3 bucket). Required. */
  readonly cloud: "gcp" | "aws";
  /** Start of every name the store gives its buckets, key and identity; unique per stack (the cluster's name). Required. */
  readonly namePrefix: string;
  /** GCS location / AWS region the bucket and its key live in: the stack's own. Required. */
  readonly region: string;
  /** GCP project (gcp only). Required on gcp. */
  readonly project?: string;
  /** Tier retention the lifecycle bounds the copy to, with the results mirror's and the access logs'. Required. */
  readonly retention: CloudStoreRetention;
  /** Environment, cost center and team for labels and tags. Required. */
  readonly labels: LabelContext;
  /** Protects the bucket and key from `pulumi destroy`. Default: true. */
  readonly deletionProtection?: boolean;
  /** The Kubernetes ServiceAccount of the copy job: the only workload that gets the store's copier identity. Required. */
  readonly copier: { readonly namespace: string; readonly serviceAccount: string };
  /** aws only: the cluster's OIDC issuer URL, which IRSA roles trust. Required on aws. */
  readonly oidcIssuer?: pulumi.Input<string>;
}

const DEFAULTS: { readonly deletionProtection: boolean } = { deletionProtection: true };

/** Why the arguments cannot make a store, by field; empty when they can. */
export function cloudStoreProblems(args: CloudStoreArgs): { propertyPath: string; reason: string }[] {
  const problems: { propertyPath: string; reason: string }[] = [];
  if (args.cloud === "gcp" && !args.project) problems.push({ propertyPath: "project", reason: "required when cloud is gcp" });
  if (args.cloud === "aws" && !args.oidcIssuer) problems.push({ propertyPath: "oidcIssuer", reason: "required when cloud is aws (IRSA)" });
  for (const k of ["noncurrentDays", "accessLogDays"] as const) {
    if (!Number.isInteger(args.retention[k]) || args.retention[k] < 1) problems.push({ propertyPath: `retention.${k}`, reason: `expected a whole number of days ≥ 1, got ${args.retention[k]}` });
  }
  try {
    cloudStoreNames(args.namePrefix, "0000000000");
  } catch (e) {
    problems.push({ propertyPath: "namePrefix", reason: (e as Error).message });
  }
  return problems;
}

/**
 * The backup copy in the stack's own cloud (C2): a bucket encrypted under a rotating customer key, versioned, closed
 * to the public, access-logged, with lifecycle and per-object retention for the monthly tier; and the copy job's
 * identity (Workload Identity / IRSA), which can add objects and read them, never delete.
 */
export class CloudStore extends pulumi.ComponentResource {
  readonly provider: "gcp" | "aws";
  /** The bucket's name. */
  readonly bucket: pulumi.Output<string>;
  readonly region: string;
  /** GCP: the CryptoKey's id (`projects/…/cryptoKeys/…`); AWS: the KMS key's ARN. */
  readonly kmsKeyId: pulumi.Output<string>;
  /** Annotations binding the copy job's ServiceAccount to its cloud identity. */
  readonly copierAnnotations: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: CloudStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pitchey:backup:CloudStore", name, {}, opts);
    const problems = cloudStoreProblems(args);
    if (problems.length > 0) {
      throw new pulumi.InputPropertiesError({
        message: `invalid CloudStore arguments: ${problems.map((p) => `${p.propertyPath}: ${p.reason}`).join("; ")}`,
        errors: problems,
      });
    }
    const a = { ...DEFAULTS, ...args };
    this.provider = a.cloud;
    this.region = a.region;
    // Bucket names are worldwide: a suffix kept in state keeps ours from meeting anybody else's.
    const suffix = new random.RandomId(`${name}-suffix`, { byteLength: 4 }, { parent: this });
    const names = suffix.hex.apply((hex) => cloudStoreNames(a.namePrefix, hex));
    const made = a.cloud === "gcp" ? this.gcs(name, a, names, suffix.hex) : this.s3(name, a, names);
    this.bucket = made.bucket;
    this.kmsKeyId = made.kmsKeyId;
    this.copierAnnotations = made.annotations;
    this.registerOutputs({ provider: this.provider, bucket: this.bucket, region: this.region, kmsKeyId: this.kmsKeyId });
  }

  private gcs(name: string, a: CloudStoreArgs & typeof DEFAULTS, names: pulumi.Output<{ bucket: string; logs: string }>, hex: pulumi.Output<string>) {
    const project = a.project!;
    const o = { parent: this };
    const labels = gcpLabels(a.labels);
    const keyRing = new gcp.kms.KeyRing(
      `${name}-keyring`,
      // A key ring can never be deleted: the suffix gives a recreated stack a new one.
      { name: pulumi.interpolate`${a.namePrefix}-backups-${hex}`, project, location: a.region },
      { ...o, ignoreChanges: ["name"] },
    );
    const key = new gcp.kms.CryptoKey(
      `${name}-key`,
      { name: "backups", keyRing: keyRing.id, purpose: "ENCRYPT_DECRYPT", rotationPeriod: KMS_ROTATION_PERIOD, labels },
      // Destroying the key destroys every copy it encrypts.
      { ...o, protect: a.deletionProtection },
    );
    const projectNumber = gcp.organizations.getProjectOutput({ projectId: project }, o).number;
    const agentGrant = new gcp.kms.CryptoKeyIAMMember(
      `${name}-key-gcs`,
      { cryptoKeyId: key.id, role: "roles/cloudkms.cryptoKeyEncrypterDecrypter", member: projectNumber.apply(gcsServiceAgent) },
      o,
    );

    const logs = new gcp.storage.Bucket(
      `${name}-logs`,
      {
        name: names.apply((n) => n.logs),
        project,
        location: a.region.toUpperCase(),
        storageClass: "STANDARD",
        uniformBucketLevelAccess: true,
        publicAccessPrevention: "enforced",
        versioning: { enabled: true },
        lifecycleRules: gcsLogLifecycleRules(a.retention),
        forceDestroy: false,
        labels,
      },
      { ...o, protect: a.deletionProtection },
    );
    const logWriter = new gcp.storage.BucketIAMMember(`${name}-logs-writer`, { bucket: logs.name, role: "roles/storage.objectCreator", member: GCS_USAGE_LOG_WRITER }, o);

    const bucket = new gcp.storage.Bucket(
      `${name}-bucket`,
      {
        name: names.apply((n) => n.bucket),
        project,
        location: a.region.toUpperCase(),
        storageClass: "STANDARD",
        uniformBucketLevelAccess: true,
        publicAccessPrevention: "enforced",
        versioning: { enabled: true },
        encryption: { defaultKmsKeyName: key.id },
        // Per-object retention (unlocked mode) on the monthly tier; a bucket-wide retention policy would lock every
        // prefix and cannot be combined with versioning.
        enableObjectRetention: true,
        logging: { logBucket: logs.name, logObjectPrefix: "backups/" },
        lifecycleRules: gcsLifecycleRules(a.retention),
        forceDestroy: false,
        labels: { ...labels, role: "backup-copy", replica_of: "r2" },
      },
      { ...o, protect: a.deletionProtection, dependsOn: [agentGrant, logWriter] },
    );

    const gsa = new gcp.serviceaccount.Account(
      `${name}-copier`,
      { accountId: gcpAccountId(a.namePrefix, "backup-copy"), project, displayName: `${a.namePrefix} ${a.copier.namespace}/${a.copier.serviceAccount} (Workload Identity)` },
      o,
    );
    new gcp.serviceaccount.IAMMember(
      `${name}-copier-wi`,
      { serviceAccountId: gsa.name, role: "roles/iam.workloadIdentityUser", member: workloadIdentityMember(project, a.copier.namespace, a.copier.serviceAccount) },
      o,
    );
    for (const role of GCS_COPIER_ROLES) {
      new gcp.storage.BucketIAMMember(`${name}-copier-${role.split(".").pop()}`, { bucket: bucket.name, role, member: gsa.member }, o);
    }
    // Creating an object with a retention needs setRetention, which no predefined role short of admin holds.
    const retentionRole = new gcp.projects.IAMCustomRole(
      `${name}-retention-role`,
      {
        project,
        roleId: gcsRetentionRoleId(a.namePrefix),
        title: `${a.namePrefix} backup copy: set object retention`,
        description: "Create objects with a retention (unlocked mode) in the backup copy bucket; no delete, no override.",
        permissions: [...GCS_RETENTION_PERMISSIONS],
      },
      o,
    );
    new gcp.storage.BucketIAMMember(`${name}-copier-retention`, { bucket: bucket.name, role: pulumi.interpolate`projects/${project}/roles/${retentionRole.roleId}`, member: gsa.member }, o);
    // Uploads name no key (the bucket default applies), but the key's users are checked on every write.
    new gcp.kms.CryptoKeyIAMMember(`${name}-copier-key`, { cryptoKeyId: key.id, role: "roles/cloudkms.cryptoKeyEncrypterDecrypter", member: gsa.member }, o);
    return {
      bucket: bucket.name,
      kmsKeyId: key.id,
      annotations: gsa.email.apply((email): Record<string, string> => ({ "iam.gke.io/gcp-service-account": email })),
    };
  }

  private s3(name: string, a: CloudStoreArgs & typeof DEFAULTS, names: pulumi.Output<{ bucket: string; logs: string }>) {
    const o = { parent: this };
    const tags = awsTags(a.labels);
    const region = a.region;
    const partition = aws.getPartitionOutput({}, o).partition;
    const accountId = aws.getCallerIdentityOutput({}, o).accountId;
    const arnOf = (bucket: pulumi.Output<string>) => pulumi.interpolate`arn:${partition}:s3:::${bucket}`;

    const key = new aws.kms.Key(
      `${name}-key`,
      {
        description: `${a.namePrefix} backup copy`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: pulumi.all([accountId, partition]).apply(([acct, p]) => s3KeyPolicy(acct, p)),
        region,
        tags,
      },
      { ...o, protect: a.deletionProtection },
    );
    new aws.kms.Alias(`${name}-key`, { name: `alias/${a.namePrefix}-backups`, targetKeyId: key.keyId, region }, o);

    // Server access logs: S3 delivers them only into a bucket encrypted with S3-managed keys (SSE-KMS is refused).
    const logs = new aws.s3.Bucket(
      `${name}-logs`,
      { bucket: names.apply((n) => n.logs), region, forceDestroy: false, tags: { ...tags, Role: "access-logs" } },
      { ...o, protect: a.deletionProtection },
    );
    const bucket = new aws.s3.Bucket(
      `${name}-bucket`,
      {
        bucket: names.apply((n) => n.bucket),
        region,
        // Object Lock can only be had from creation; the retention is set per object, on the monthly tier alone.
        objectLockEnabled: true,
        forceDestroy: false,
        tags: { ...tags, Role: "backup-copy", ReplicaOf: "r2", ObjectRetention: "per-object" },
      },
      { ...o, protect: a.deletionProtection },
    );
    const bucketArn = arnOf(bucket.bucket);
    const logsArn = arnOf(logs.bucket);

    for (const [role, b] of [["bucket", bucket], ["logs", logs]] as const) {
      new aws.s3.BucketPublicAccessBlock(
        `${name}-${role}-public-access`,
        { bucket: b.id, region, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
        o,
      );
      new aws.s3.BucketOwnershipControls(`${name}-${role}-ownership`, { bucket: b.id, region, rule: { objectOwnership: "BucketOwnerEnforced" } }, o);
      new aws.s3.BucketVersioning(`${name}-${role}-versioning`, { bucket: b.id, region, versioningConfiguration: { status: "Enabled" } }, o);
    }
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-bucket-encryption`,
      { bucket: bucket.id, region, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn }, bucketKeyEnabled: true }] },
      o,
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-logs-encryption`,
      { bucket: logs.id, region, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
      o,
    );
    new aws.s3.BucketPolicy(`${name}-bucket-policy`, { bucket: bucket.id, region, policy: pulumi.all([bucketArn, key.arn]).apply(([b, k]) => s3BucketPolicy(b, k)) }, o);
    new aws.s3.BucketPolicy(
      `${name}-logs-policy`,
      { bucket: logs.id, region, policy: pulumi.all([logsArn, bucketArn, accountId]).apply(([l, b, acct]) => s3LogBucketPolicy(l, b, acct)) },
      o,
    );
    new aws.s3.BucketLogging(`${name}-bucket-logging`, { bucket: bucket.id, region, targetBucket: logs.bucket, targetPrefix: "backups/" }, o);
    new aws.s3.BucketLifecycleConfiguration(`${name}-bucket-lifecycle`, { bucket: bucket.id, region, rules: s3LifecycleRules(a.retention) }, o);
    new aws.s3.BucketLifecycleConfiguration(`${name}-logs-lifecycle`, { bucket: logs.id, region, rules: s3LogLifecycleRules(a.retention) }, o);
    // Object Lock on, no default retention: the copy job sets a governance retention on each monthly object.
    new aws.s3.BucketObjectLockConfiguration(`${name}-bucket-lock`, { bucket: bucket.id, region, objectLockEnabled: "Enabled" }, o);

    const issuer = pulumi.output(a.oidcIssuer!);
    const providerArn = pulumi.interpolate`arn:${partition}:iam::${accountId}:oidc-provider/${issuer.apply((i) => i.replace(/^https:\/\//, ""))}`;
    const role = new aws.iam.Role(
      `${name}-copier`,
      {
        name: `${a.namePrefix}-backup-copy`,
        assumeRolePolicy: pulumi.all([providerArn, issuer]).apply(([p, i]) => irsaTrustPolicy(p, i, a.copier.namespace, a.copier.serviceAccount)),
        tags: { ...tags, ServiceAccount: `${a.copier.namespace}/${a.copier.serviceAccount}` },
      },
      o,
    );
    new aws.iam.RolePolicy(`${name}-copier`, { role: role.name, policy: pulumi.all([bucketArn, key.arn]).apply(([b, k]) => s3CopierPolicy(b, k)) }, o);
    return {
      bucket: bucket.bucket,
      kmsKeyId: key.arn,
      annotations: role.arn.apply((arn): Record<string, string> => ({ "eks.amazonaws.com/role-arn": arn })),
    };
  }
}
