import * as cloudflare from "@pulumi/cloudflare";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { k8sLabels, type LabelContext } from "../labels";
import { HTTPS_EGRESS_LABEL } from "../processor/builders";
import {
  backupCronJobSpec,
  backupLifecycleRules,
  backupLockRules,
  mirrorCronJobSpec,
  mirrorLifecycleRules,
  r2Endpoint,
  RESULTS_MIRROR_CRONJOB,
  type BackupJobArgs,
  type MirrorRetention,
} from "./builders";
import { R2Credential } from "./credentials";

export * from "./builders";
export * from "./credentials";

export interface DatabaseBackupArgs
  extends Omit<BackupJobArgs, "serviceAccountName" | "labels" | "storeUrl" | "s3Endpoint" | "storeSecretName"> {
  readonly namespace: pulumi.Input<string>;
  readonly labels: LabelContext;
  /** Cloudflare account owning the R2 bucket. */
  readonly accountId: string;
  /** R2 bucket name. */
  readonly bucket: string;
  /** R2 location hint (`wnam`, `weur`, …). */
  readonly location: string;
  /** Secret the backup job's own token lands in (write on the bucket); mounted in the backup job and nowhere else. */
  readonly storeSecretName: string;
  /** Secret for a read-only token on the bucket, for restore verification. */
  readonly readerSecretName: string;
  /** Prefix of the tokens' names in Cloudflare, unique per stack (e.g. the cluster's name). */
  readonly tokenNamePrefix: string;
  /** A daily mirror of the results store (an R2 bucket in the same account) under the bucket's `r2/`; none when unset. */
  readonly resultsMirror?: {
    /** `s3://bucket[/prefix]`. */
    readonly sourceUrl: string;
    readonly sourceBucket: string;
    /** Cron schedule (UTC). */
    readonly schedule: string;
    readonly retention: MirrorRetention;
    /** Secret the mirror's token lands in. */
    readonly secretName: string;
  };
}

/**
 * The jobs database's backups: an R2 bucket and an hourly `pg_dump` into it, verified and pruned to the
 * grandfather-father-son retention policy.
 */
export class DatabaseBackup extends pulumi.ComponentResource {
  readonly bucket: cloudflare.R2Bucket;
  readonly cronJob: k8s.batch.v1.CronJob;
  /** The backup job's credential (write). */
  readonly writer: R2Credential;
  /** A read-only credential on the bucket, in the Secret `readerSecretName`. */
  readonly reader: R2Credential;

  constructor(name: string, args: DatabaseBackupArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pitchey:backup:DatabaseBackup", name, {}, opts);
    const labels = k8sLabels(args.labels, "db-backup", "backup");
    const child = { parent: this };

    this.bucket = new cloudflare.R2Bucket(
      `${name}-bucket`,
      { accountId: args.accountId, name: args.bucket, location: args.location, storageClass: "Standard" },
      // Deleting the stack must never take the backups with it.
      { ...child, protect: true },
    );
    new cloudflare.R2BucketLock(
      `${name}-lock`,
      { accountId: args.accountId, bucketName: this.bucket.name, rules: backupLockRules(args.retention) },
      child,
    );
    const mirror = args.resultsMirror;
    new cloudflare.R2BucketLifecycle(
      `${name}-lifecycle`,
      {
        accountId: args.accountId,
        bucketName: this.bucket.name,
        rules: [...backupLifecycleRules(args.retention), ...(mirror ? mirrorLifecycleRules(mirror.retention) : [])],
      },
      child,
    );

    // Two tokens, each limited to this bucket: the job that writes (and prunes), and a reader that cannot change anything.
    const credential = (role: string, secretName: string, access: "read" | "write") =>
      new R2Credential(
        `${name}-${role}`,
        {
          accountId: args.accountId,
          tokenName: `${args.tokenNamePrefix}-${secretName}`,
          grants: [{ bucket: args.bucket, access }],
          secret: { name: secretName, namespace: args.namespace, labels: k8sLabels(args.labels, secretName, "backup") },
        },
        { ...child, dependsOn: [this.bucket] },
      );
    this.writer = credential("writer", args.storeSecretName, "write");
    this.reader = credential("reader", args.readerSecretName, "read");

    const sa = new k8s.core.v1.ServiceAccount(
      `${name}-sa`,
      { metadata: { name: "db-backup", namespace: args.namespace, labels }, automountServiceAccountToken: false },
      child,
    );
    this.cronJob = new k8s.batch.v1.CronJob(
      `${name}-cronjob`,
      {
        metadata: { name: "db-backup", namespace: args.namespace, labels },
        spec: backupCronJobSpec({
          ...args,
          storeUrl: `s3://${args.bucket}`,
          s3Endpoint: r2Endpoint(args.accountId),
          serviceAccountName: sa.metadata.name,
          // R2 is reached over HTTPS like the processors' results store.
          labels: { ...labels, [HTTPS_EGRESS_LABEL]: "true" },
        }),
      },
      { ...child, dependsOn: [this.writer] },
    );

    if (mirror) {
      const mirrorLabels = k8sLabels(args.labels, "results-mirror", "backup");
      const token = new R2Credential(
        `${name}-mirror`,
        {
          accountId: args.accountId,
          tokenName: `${args.tokenNamePrefix}-${mirror.secretName}`,
          // Reads the results bucket, writes this one: the mirror cannot change a result.
          grants: [
            { bucket: mirror.sourceBucket, access: "read" },
            { bucket: args.bucket, access: "write" },
          ],
          secret: { name: mirror.secretName, namespace: args.namespace, labels: mirrorLabels },
        },
        { ...child, dependsOn: [this.bucket] },
      );
      const mirrorSa = new k8s.core.v1.ServiceAccount(
        `${name}-mirror-sa`,
        { metadata: { name: RESULTS_MIRROR_CRONJOB, namespace: args.namespace, labels: mirrorLabels }, automountServiceAccountToken: false },
        child,
      );
      new k8s.batch.v1.CronJob(
        `${name}-mirror-cronjob`,
        {
          metadata: { name: RESULTS_MIRROR_CRONJOB, namespace: args.namespace, labels: mirrorLabels },
          spec: mirrorCronJobSpec({
            image: args.image,
            schedule: mirror.schedule,
            retention: mirror.retention,
            sourceUrl: mirror.sourceUrl,
            targetUrl: `s3://${args.bucket}`,
            s3Endpoint: r2Endpoint(args.accountId),
            storeSecretName: mirror.secretName,
            serviceAccountName: mirrorSa.metadata.name,
            pool: args.pool,
            labels: { ...mirrorLabels, [HTTPS_EGRESS_LABEL]: "true" },
          }),
        },
        { ...child, dependsOn: [token] },
      );
    }
    this.registerOutputs({ bucket: this.bucket.name, cronJob: this.cronJob.metadata.name });
  }
}
