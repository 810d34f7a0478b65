import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { irsaRole } from "../cluster/eks-iam";
import { gcpAccountId, workloadIdentityMember } from "../cluster/gke-identities";
import type { PoolScheduling } from "../cluster/types";
import { awsTags, k8sLabels, type LabelContext } from "../labels";
import { podSecurityLabels } from "../namespace/builders";
import { CHARTS, IMAGES } from "../versions";
import {
  GCP_SIGN_BLOB_ROLE,
  GCS_OBJECT_ROLE,
  VELERO_RELEASE,
  VELERO_SERVICE_ACCOUNT,
  backupStorageLocationSpec,
  gcsPrefixCondition,
  oidcProviderArn,
  scheduleSpec,
  veleroNetworkPolicies,
  veleroProblems,
  veleroS3Policy,
  veleroValues,
  VELERO_LOCATION,
  VELERO_SCHEDULE,
  type VeleroScheduleSettings,
} from "./velero-builders";

export * from "./velero-builders";
export * from "./velero-rules";

/** The cloud bucket Velero writes to: the stack's own cloud backup store. */
export interface VeleroStoreArgs {
  readonly provider: "gcp" | "aws";
  readonly bucket: pulumi.Input<string>;
  /** The bucket's location (GCS) or region (S3). */
  readonly region: string;
  /** GCP: the CryptoKey id; AWS: the KMS key ARN. Every object Velero writes is encrypted under it. */
  readonly kmsKeyId: pulumi.Input<string>;
  /** Key prefix Velero writes under. Default `configs`. */
  readonly prefix?: string;
}

/** Who Velero is in the cloud: its own identity, bound to its Kubernetes ServiceAccount only. */
export type VeleroIdentityArgs =
  | {
      readonly cloud: "gcp";
      /** Project of the service account and of the cluster's Workload Identity pool (`<project>.svc.id.goog`). */
      readonly project: string;
      /** The cluster's name: the service account id starts with it, so clusters sharing a project never collide. */
      readonly clusterName: string;
      /** What creates the cluster's Workload Identity pool: the binding waits for it. Default: none. */
      readonly poolReady?: readonly pulumi.Resource[];
    }
  | {
      readonly cloud: "aws";
      /** The EKS cluster's OIDC issuer URL; its IAM OIDC provider is the role's only trusted principal. */
      readonly oidcIssuer: pulumi.Input<string>;
    };

export interface VeleroArgs {
  /** Namespace Velero runs in (created here, PSA restricted). Default `velero`. */
  readonly namespace?: string;
  /** Cost and ownership labels for every object and cloud resource. Required. */
  readonly labels: LabelContext;
  /** The bucket Velero writes to. Required. */
  readonly store: VeleroStoreArgs;
  /** Velero's own cloud identity, created here. Required. */
  readonly identity: VeleroIdentityArgs;
  /** The Schedule's name (the `schedule` label of Velero's metrics and the prefix of its backups' names). Default `cluster-state`. */
  readonly scheduleName?: string;
  /** When backups run and how long each is kept. Required. */
  readonly schedule: VeleroScheduleSettings;
  /** Where the server runs (the general pool). Required. */
  readonly pool: PoolScheduling;
  /** Prometheus's namespace and pod labels: only those pods reach the metrics port. Required. */
  readonly monitoringNamespace: string;
  readonly prometheusPodLabels: Readonly<Record<string, string>>;
}

const DEFAULTS = { namespace: "velero", scheduleName: VELERO_SCHEDULE, prefix: "configs" } as const;

/**
 * Velero from its upstream chart backing up the cluster's Kubernetes objects, Secrets included, to the stack's
 * cloud backup bucket under `configs/`, encrypted under the bucket's customer key, on a schedule from config. Its
 * cloud identity is its own (GKE Workload Identity / EKS IRSA), limited to that prefix and key: no key file exists.
 */
export class Velero extends pulumi.ComponentResource {
  readonly namespace: string;
  readonly scheduleName: string;
  readonly release: k8s.helm.v3.Release;
  readonly storageLocation: k8s.apiextensions.CustomResource;
  readonly schedule: k8s.apiextensions.CustomResource;
  /** The GCP service account's email or the IAM role's ARN Velero runs as. */
  readonly cloudIdentity: pulumi.Output<string>;

  constructor(name: string, args: VeleroArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pitchey:backup:Velero", name, {}, opts);
    const a = { ...DEFAULTS, ...args, store: { prefix: DEFAULTS.prefix, ...args.store } };
    const problems = veleroProblems(a.schedule, a.store.prefix);
    if (a.identity.cloud !== a.store.provider) problems.push({ propertyPath: "identity.cloud", reason: `must be the store's cloud (${a.store.provider}), got ${a.identity.cloud}` });
    if (problems.length > 0) throw new pulumi.InputPropertiesError({ message: `invalid Velero ${name}`, errors: problems });

    const child = { parent: this };
    const labels = k8sLabels(a.labels, "velero", "backup");
    this.namespace = a.namespace;
    this.scheduleName = a.scheduleName;
    const prefix = a.store.prefix;

    const ns = new k8s.core.v1.Namespace(`${name}-namespace`, { metadata: { name: a.namespace, labels: { ...labels, ...podSecurityLabels() } } }, child);
    const netpols = Object.entries(veleroNetworkPolicies({ monitoringNamespace: a.monitoringNamespace, prometheusPodLabels: a.prometheusPodLabels, provider: a.store.provider })).map(
      ([policy, spec]) => new k8s.networking.v1.NetworkPolicy(`${name}-${policy}`, { metadata: { name: policy, namespace: ns.metadata.name, labels }, spec }, child),
    );

    // The cloud identity, bound to the server's ServiceAccount and nothing else.
    let annotations: pulumi.Output<Record<string, string>>;
    let gcpEmail: pulumi.Output<string> | undefined;
    const grants: pulumi.Resource[] = [];
    const id = a.identity;
    if (id.cloud === "gcp") {
      const gsa = new gcp.serviceaccount.Account(
        `${name}-gsa`,
        { accountId: gcpAccountId(id.clusterName, "velero"), project: id.project, displayName: `${id.clusterName} ${a.namespace}/${VELERO_SERVICE_ACCOUNT} (Workload Identity)` },
        child,
      );
      grants.push(
        new gcp.serviceaccount.IAMMember(
          `${name}-gsa-workload-identity`,
          { serviceAccountId: gsa.name, role: "roles/iam.workloadIdentityUser", member: workloadIdentityMember(id.project, a.namespace, VELERO_SERVICE_ACCOUNT) },
          { ...child, dependsOn: [...(id.poolReady ?? [])] },
        ),
        // The GCP plugin signs the CLI's download URLs through the IAM API as this account (signBlob on itself).
        new gcp.serviceaccount.IAMMember(`${name}-gsa-sign-blob`, { serviceAccountId: gsa.name, role: GCP_SIGN_BLOB_ROLE, member: gsa.member }, child),
        new gcp.storage.BucketIAMMember(
          `${name}-gsa-bucket`,
          { bucket: a.store.bucket, role: GCS_OBJECT_ROLE, member: gsa.member, condition: pulumi.output(a.store.bucket).apply((b) => gcsPrefixCondition(b, prefix)) },
          child,
        ),
      );
      gcpEmail = gsa.email;
      this.cloudIdentity = gsa.email;
      annotations = gsa.email.apply((email): Record<string, string> => ({ "iam.gke.io/gcp-service-account": email }));
    } else {
      const partition = aws.getPartitionOutput({}, child).partition;
      const account = aws.getCallerIdentityOutput({}, child).accountId;
      const issuer = pulumi.output(id.oidcIssuer);
      const role = irsaRole(
        `${name}-role`,
        { providerArn: pulumi.all([partition, account, issuer]).apply(([p, acct, iss]) => oidcProviderArn(p, acct, iss)), issuer },
        { namespace: a.namespace, name: VELERO_SERVICE_ACCOUNT },
        awsTags(a.labels, "velero"),
        child,
      );
      grants.push(
        new aws.iam.RolePolicy(
          `${name}-role-policy`,
          { role: role.name, policy: pulumi.all([partition, a.store.bucket, a.store.kmsKeyId]).apply(([p, b, k]) => veleroS3Policy(p, b, prefix, k)) },
          child,
        ),
      );
      this.cloudIdentity = role.arn;
      annotations = role.arn.apply((arn): Record<string, string> => ({ "eks.amazonaws.com/role-arn": arn }));
    }

    const pin = CHARTS.velero;
    this.release = new k8s.helm.v3.Release(
      `${name}-release`,
      {
        name: VELERO_RELEASE,
        chart: pin.chart,
        version: pin.version,
        repositoryOpts: { repo: pin.repo },
        namespace: ns.metadata.name,
        atomic: true,
        values: annotations.apply((serviceAccountAnnotations) =>
          veleroValues({
            provider: a.store.provider,
            pluginImage: a.store.provider === "gcp" ? IMAGES.veleroPluginGcp : IMAGES.veleroPluginAws,
            serviceAccountAnnotations,
            labels,
            pool: a.pool,
          }),
        ),
      },
      { ...child, dependsOn: [...netpols, ...grants] },
    );
    const afterCrds = { ...child, dependsOn: [this.release] };

    this.storageLocation = new k8s.apiextensions.CustomResource(
      `${name}-location`,
      {
        apiVersion: "velero.io/v1",
        kind: "BackupStorageLocation",
        metadata: { name: VELERO_LOCATION, namespace: a.namespace, labels },
        spec: pulumi
          .all([a.store.bucket, a.store.kmsKeyId, gcpEmail ?? pulumi.output(undefined)])
          .apply(([bucket, kmsKeyId, email]) => backupStorageLocationSpec({ provider: a.store.provider, bucket, region: a.store.region, kmsKeyId, prefix }, email)),
      },
      afterCrds,
    );
    this.schedule = new k8s.apiextensions.CustomResource(
      `${name}-schedule`,
      {
        apiVersion: "velero.io/v1",
        kind: "Schedule",
        metadata: { name: a.scheduleName, namespace: a.namespace, labels },
        spec: scheduleSpec(a.schedule, labels),
      },
      { ...child, dependsOn: [this.release, this.storageLocation] },
    );
    this.registerOutputs({ namespace: this.namespace, scheduleName: this.scheduleName, cloudIdentity: this.cloudIdentity });
  }
}
