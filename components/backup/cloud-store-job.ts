import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { PoolScheduling } from "../cluster/types";
import { k8sLabels, type LabelContext } from "../labels";
import { runToCompletionPodSpec, singleRunCronJobSpec } from "../processor/builders";
import { GKE_METADATA_EGRESS } from "../namespace/builders";
import { R2Credential } from "./credentials";
import { CLOUD_COPY_PREFIXES } from "./cloud-store-builders";

/** Where the copy job reads: the R2 backup bucket. */
export interface CopySource {
  readonly accountId: string;
  readonly bucket: string;
  /** R2's S3 endpoint for the account. */
  readonly endpoint: string;
}

/** Where it writes: the C2 store's outputs. */
export interface CopyTarget {
  readonly provider: "gcp" | "aws";
  readonly bucket: pulumi.Input<string>;
  readonly region: string;
}

export interface CopyJobArgs {
  /** The `db-backup` image (it carries the copy command), by digest. */
  readonly image: pulumi.Input<string>;
  /** Cron schedule (UTC). */
  readonly schedule: string;
  readonly source: CopySource;
  readonly target: CopyTarget;
  /** Seconds a `postgres/monthly/` copy stays locked after its source object was written. */
  readonly monthlyRetentionSeconds: number;
  /** Secret with the read-only R2 key pair. */
  readonly sourceSecretName: string;
  readonly serviceAccountName: pulumi.Input<string>;
  readonly pool: PoolScheduling;
  readonly labels: Record<string, string>;
  /** A run that takes longer is stopped (the next day's run resumes where it ended). */
  readonly deadlineSeconds: number;
}

/** Environment of `replicate-backups`: the R2 source by key pair, the cloud target by the pod's own identity. */
export function copyJobEnv(args: Pick<CopyJobArgs, "source" | "target" | "monthlyRetentionSeconds" | "deadlineSeconds">): k8s.types.input.core.v1.EnvVar[] {
  const scheme = args.target.provider === "gcp" ? "gs" : "s3";
  return [
    { name: "COPY_SOURCE_URL", value: `s3://${args.source.bucket}` },
    { name: "COPY_SOURCE_ENDPOINT", value: args.source.endpoint },
    { name: "COPY_TARGET_URL", value: typeof args.target.bucket === "string" ? `${scheme}://${args.target.bucket}` : pulumi.interpolate`${scheme}://${args.target.bucket}` },
    { name: "COPY_TARGET_REGION", value: args.target.region },
    { name: "COPY_PREFIXES", value: CLOUD_COPY_PREFIXES.join(",") },
    { name: "COPY_MONTHLY_RETENTION_SECONDS", value: String(args.monthlyRetentionSeconds) },
    // The command stops itself five minutes before the Job's deadline, so a long first copy ends cleanly and the next run resumes.
    { name: "COPY_DEADLINE_SECONDS", value: String(Math.max(60, args.deadlineSeconds - 300)) },
  ];
}

/**
 * The daily copy: one run at a time (a second run would only find nothing to do, but two would double the reads), a
 * missed day skipped rather than run late twice, the run bounded.
 */
export function copyCronJobSpec(args: CopyJobArgs): k8s.types.input.batch.v1.CronJobSpec {
  return singleRunCronJobSpec({
    schedule: args.schedule,
    labels: args.labels,
    startingDeadlineSeconds: 3600,
    deadlineSeconds: args.deadlineSeconds,
    backoffLimit: 2,
    pod: runToCompletionPodSpec({
      name: "replicate",
      image: args.image,
      command: ["node", "dist/cli/replicate-backups.js"],
      env: copyJobEnv(args),
      secrets: [{ secretName: args.sourceSecretName, keys: ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] }],
      // Objects stream through in parts: memory holds a few parts, never a whole dump.
      resources: {
        requests: { cpu: "100m", memory: "256Mi", "ephemeral-storage": "64Mi" },
        limits: { cpu: "1", memory: "512Mi", "ephemeral-storage": "256Mi" },
      },
      serviceAccountName: args.serviceAccountName,
      pool: args.pool,
      tmpSize: "256Mi",
    }),
  });
}

export interface BackupCopyArgs {
  readonly namespace: pulumi.Input<string>;
  readonly labels: LabelContext;
  readonly image: pulumi.Input<string>;
  readonly schedule: string;
  readonly deadlineSeconds: number;
  readonly source: CopySource;
  readonly target: CopyTarget;
  readonly monthlyRetentionSeconds: number;
  /** The ServiceAccount the store's copier identity trusts; created here with the store's annotations. */
  readonly serviceAccount: { readonly name: string; readonly annotations: pulumi.Input<Record<string, string>> };
  /** Secret for the copy's own read-only R2 token. */
  readonly sourceSecretName: string;
  /** Cloudflare token name, unique per stack. */
  readonly tokenName: string;
  readonly pool: PoolScheduling;
  /** Label that opens HTTPS egress (R2, the cloud's storage and token APIs). */
  readonly httpsEgressLabel: string;
}

/** The copy's CronJob name: what kube-state-metrics labels its series with. */
export const BACKUP_COPY_CRONJOB = "backup-copy";

/** The CronJob that copies R2's backups into the stack's own cloud, with its ServiceAccount and read-only R2 token. */
export class BackupCopy extends pulumi.ComponentResource {
  readonly cronJob: k8s.batch.v1.CronJob;

  constructor(name: string, args: BackupCopyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pitchey:backup:BackupCopy", name, {}, opts);
    const labels = k8sLabels(args.labels, "backup-copy", "backup");
    const child = { parent: this };
    // Its own token, read-only on the backup bucket: the copy can never change what it copies.
    const token = new R2Credential(
      `${name}-source`,
      {
        accountId: args.source.accountId,
        tokenName: args.tokenName,
        grants: [{ bucket: args.source.bucket, access: "read" }],
        secret: { name: args.sourceSecretName, namespace: args.namespace, labels },
      },
      child,
    );
    const sa = new k8s.core.v1.ServiceAccount(
      `${name}-sa`,
      { metadata: { name: args.serviceAccount.name, namespace: args.namespace, labels, annotations: args.serviceAccount.annotations }, automountServiceAccountToken: false },
      child,
    );
    let policy: k8s.networking.v1.NetworkPolicy | undefined;
    if (args.target.provider === "gcp") {
      policy = new k8s.networking.v1.NetworkPolicy(
        `${name}-metadata-egress`,
        {
          metadata: { name: "backup-copy-metadata-server", namespace: args.namespace, labels },
          spec: { podSelector: { matchLabels: { "app.kubernetes.io/name": "backup-copy" } }, policyTypes: ["Egress"], egress: GKE_METADATA_EGRESS },
        },
        child,
      );
    }
    this.cronJob = new k8s.batch.v1.CronJob(
      `${name}-cronjob`,
      {
        metadata: { name: BACKUP_COPY_CRONJOB, namespace: args.namespace, labels },
        spec: copyCronJobSpec({
          image: args.image,
          schedule: args.schedule,
          source: args.source,
          target: args.target,
          monthlyRetentionSeconds: args.monthlyRetentionSeconds,
          sourceSecretName: args.sourceSecretName,
          serviceAccountName: sa.metadata.name,
          pool: args.pool,
          labels: { ...labels, [args.httpsEgressLabel]: "true" },
          deadlineSeconds: args.deadlineSeconds,
        }),
      },
      { ...child, dependsOn: [token, ...(policy ? [policy] : [])] },
    );
    this.registerOutputs({ cronJob: this.cronJob.metadata.name });
  }
}
