import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { PoolScheduling } from "../cluster/types";
import { k8sLabels, type LabelContext } from "../labels";
import { restoreCronJobSpec, restoreNetworkPolicy, type RestoreVerificationSettings } from "./restore-builders";

export * from "./restore-builders";
export * from "./restore-rules";

export interface RestoreVerificationArgs {
  readonly namespace: pulumi.Input<string>;
  readonly labels: LabelContext;
  /** The `db-backup` image, by digest. */
  readonly image: pulumi.Input<string>;
  /** Major version of the jobs database's PostgreSQL; the scratch database runs the same. */
  readonly postgresMajor: number;
  readonly settings: RestoreVerificationSettings;
  /** Bucket holding the backups, and the prefix under which `postgres/` lives ("" for the bucket's root). */
  readonly bucket: string;
  readonly prefix?: string;
  /** S3-compatible endpoint (R2); unset for the cloud's own S3. */
  readonly endpoint?: string;
  /** Secret with read access to the backup bucket (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`). */
  readonly credentialsSecretName: string;
  /** Secret with the jobs database's `DATABASE_URL`, where outcomes are recorded. */
  readonly databaseSecretName: string;
  readonly pool: PoolScheduling;
  /** Label that opts a pod into HTTPS egress. */
  readonly httpsEgressLabel: string;
  /** The jobs database's pods (a database the program runs) or CIDRs (an external one), and its port. */
  readonly database: {
    readonly pods?: { readonly namespace: string; readonly labels: Readonly<Record<string, string>> };
    readonly cidrs?: readonly string[];
    readonly port: number;
  };
  /** Where the jobs database is a read-only replica nothing can be recorded: the CronJob is created suspended. Default false. */
  readonly suspended?: boolean;
}

/**
 * Daily proof that the newest backup restores: a CronJob restores it into a scratch PostgreSQL inside its own pod,
 * checks it, and records the outcome in the jobs database, whose exporter turns it into the metrics the alerts read.
 */
export class RestoreVerification extends pulumi.ComponentResource {
  readonly cronJob: k8s.batch.v1.CronJob;

  constructor(name: string, args: RestoreVerificationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pitchey:backup:RestoreVerification", name, {}, opts);
    const problems: { propertyPath: string; reason: string }[] = [];
    if (!(args.settings.maxVerifiedBackupAgeHours > 0)) problems.push({ propertyPath: "settings.maxVerifiedBackupAgeHours", reason: "must be above 0" });
    if (args.prefix !== undefined && args.prefix !== "" && !/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(args.prefix)) {
      problems.push({ propertyPath: "prefix", reason: `expected path segments without leading or trailing "/", got "${args.prefix}"` });
    }
    if (problems.length > 0) throw new pulumi.InputPropertiesError({ message: `invalid RestoreVerification ${name}`, errors: problems });

    const labels = k8sLabels(args.labels, "restore-verification", "backup");
    const child = { parent: this };
    const sa = new k8s.core.v1.ServiceAccount(
      `${name}-sa`,
      { metadata: { name: "restore-verification", namespace: args.namespace, labels }, automountServiceAccountToken: false },
      child,
    );
    new k8s.networking.v1.NetworkPolicy(
      `${name}-netpol`,
      {
        metadata: { name: "restore-verification", namespace: args.namespace, labels },
        spec: restoreNetworkPolicy({
          podLabels: { "app.kubernetes.io/name": labels["app.kubernetes.io/name"] },
          databasePods: args.database.pods,
          databaseCidrs: args.database.cidrs,
          databasePort: args.database.port,
        }),
      },
      child,
    );
    this.cronJob = new k8s.batch.v1.CronJob(
      `${name}-cronjob`,
      {
        metadata: { name: "restore-verification", namespace: args.namespace, labels },
        spec: restoreCronJobSpec({
          image: args.image,
          postgresMajor: args.postgresMajor,
          settings: args.settings,
          storeUrl: `s3://${args.bucket}${args.prefix ? `/${args.prefix}` : ""}`,
          s3Endpoint: args.endpoint,
          credentialsSecretName: args.credentialsSecretName,
          databaseSecretName: args.databaseSecretName,
          serviceAccountName: sa.metadata.name,
          pool: args.pool,
          labels,
          httpsEgressLabel: args.httpsEgressLabel,
          suspend: args.suspended,
        }),
      },
      child,
    );
    this.registerOutputs({ cronJob: this.cronJob.metadata.name });
  }
}
