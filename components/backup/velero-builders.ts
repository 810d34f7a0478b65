import { join } from "node:path";
import type * as k8s from "@pulumi/kubernetes";
import type { PoolScheduling } from "../cluster/types";
import { toleration } from "../cluster/scheduling";
import { DNS_EGRESS, GKE_METADATA_EGRESS, nsSelector } from "../namespace/builders";

/** Velero's Schedule and BackupStorageLocation CRDs as the pinned chart ships them (see velero-crds/SOURCE.md). */
export const VELERO_CRD_DIR = join(__dirname, "velero-crds");

/**
 * Velero's compatibility tables, for the pinned Velero minor: the Kubernetes minors its release was tested on (its
 * README's matrix: 1.18 on 1.33.7, 1.34.1 and 1.35.0) and the object-store plugins' minor (both plugins' README:
 * plugin 1.14.x for Velero 1.18.x).
 */
export const VELERO_COMPATIBILITY: Readonly<Record<string, { readonly kubernetes: readonly string[]; readonly plugins: string }>> = {
  "1.18": { kubernetes: ["1.33", "1.34", "1.35"], plugins: "1.14" },
};

/** The chart's release name; with it the chart names its Deployment, ServiceAccount and pods `velero`. */
export const VELERO_RELEASE = "velero";
/** Velero's server ServiceAccount: the one subject its cloud identity trusts. */
export const VELERO_SERVICE_ACCOUNT = "velero";
/** The Schedule's default name: the `schedule` label on Velero's metrics and the prefix of its backups' names. */
export const VELERO_SCHEDULE = "cluster-state";
/** The one BackupStorageLocation, and Velero's default one. */
export const VELERO_LOCATION = "default";
/** Port (name and number) the server serves Prometheus metrics on (the chart's `http-monitoring`). */
export const VELERO_METRICS_PORT = { name: "http-monitoring", number: 8085 } as const;
/** Labels the chart sets on the server pod (and not on its CRD upgrade Job's). */
export const VELERO_POD_LABELS: Readonly<Record<string, string>> = { "app.kubernetes.io/name": "velero", "app.kubernetes.io/instance": VELERO_RELEASE };
/**
 * The images' user: the Velero image runs as the named user `cnb`, which the kubelet cannot check against
 * `runAsNonRoot`; the plugin images run as 65532. Both run as 65532 here.
 */
export const VELERO_UID = 65532;

/**
 * Resources a cluster-state backup leaves out. Events are a record of the past that a restore would replay as noise;
 * leases are leader-election locks whose restored holders no longer exist.
 */
export const EXCLUDED_RESOURCES = ["events", "events.events.k8s.io", "leases.coordination.k8s.io"] as const;

/** Where and under which key Velero writes, and the cloud it is in (from the cloud backup store). */
export interface VeleroStore {
  readonly provider: "gcp" | "aws";
  /** The bucket's name. */
  readonly bucket: string;
  /** The bucket's location (GCS) or region (S3). */
  readonly region: string;
  /** GCP: the CryptoKey id (`projects/…/cryptoKeys/…`); AWS: the KMS key ARN. */
  readonly kmsKeyId: string;
  /** Key prefix of every object Velero writes, without slashes at either end. */
  readonly prefix: string;
}

/** What the schedule backs up and how long each backup is kept. */
export interface VeleroScheduleSettings {
  /** 5-field cron (UTC). */
  readonly schedule: string;
  /** How long each backup is kept before Velero deletes it, as a Go duration (`720h`). */
  readonly ttl: string;
}

/** Restricted container security context (PSA restricted) for the server, its init containers and the CRD job. */
export function veleroContainerSecurityContext(): Record<string, unknown> {
  return {
    runAsNonRoot: true,
    runAsUser: VELERO_UID,
    runAsGroup: VELERO_UID,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

export interface VeleroValuesArgs {
  readonly provider: "gcp" | "aws";
  /** The object-store plugin image for the provider. */
  readonly pluginImage: string;
  /** ServiceAccount annotations that bind the server to its cloud identity (GKE Workload Identity / EKS IRSA). */
  readonly serviceAccountAnnotations: Record<string, string>;
  readonly labels: Record<string, string>;
  readonly pool: PoolScheduling;
}

/**
 * Labels the chart's templates already write (name, instance, managed-by, version, chart) are left to the chart: the
 * extra labels are appended after its own, and a repeated key would make the rendered manifest invalid YAML.
 */
export function chartLabels(labels: Record<string, string>): Record<string, string> {
  const own = new Set(["app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/managed-by", "app.kubernetes.io/version", "helm.sh/chart", "name", "component"]);
  return Object.fromEntries(Object.entries(labels).filter(([k]) => !own.has(k)));
}

/** Requests and limits for the server; Velero's own install uses 500m/128Mi requests and 1 CPU/512Mi limits. */
const SERVER_RESOURCES = { requests: { cpu: "100m", memory: "128Mi", "ephemeral-storage": "256Mi" }, limits: { cpu: "1", memory: "512Mi", "ephemeral-storage": "1Gi" } };
const SMALL_RESOURCES = { requests: { cpu: "10m", memory: "32Mi", "ephemeral-storage": "64Mi" }, limits: { cpu: "100m", memory: "128Mi", "ephemeral-storage": "256Mi" } };

/**
 * Chart values: the server alone (no node agent, no volume snapshots: the jobs database has its own WAL archive and
 * base backups, and nothing else keeps data on volumes), the provider's object-store plugin, no credentials Secret
 * (the cloud identity comes from the ServiceAccount), restricted security contexts, metrics for a PodMonitor. The
 * BackupStorageLocation and Schedule are the program's own objects, not the chart's.
 */
export function veleroValues(a: VeleroValuesArgs): Record<string, unknown> {
  const sc = veleroContainerSecurityContext();
  const labels = chartLabels(a.labels);
  return {
    labels,
    podLabels: labels,
    resources: SERVER_RESOURCES,
    upgradeJobResources: SMALL_RESOURCES,
    // The CRD upgrade Job (a pre-install and pre-upgrade hook) labels its pod from these alone.
    kubectl: { labels },
    initContainers: [
      {
        name: `velero-plugin-for-${a.provider}`,
        image: a.pluginImage,
        imagePullPolicy: "IfNotPresent",
        volumeMounts: [{ mountPath: "/target", name: "plugins" }],
        securityContext: sc,
        resources: SMALL_RESOURCES,
      },
    ],
    podSecurityContext: { runAsNonRoot: true, runAsUser: VELERO_UID, runAsGroup: VELERO_UID, fsGroup: VELERO_UID, seccompProfile: { type: "RuntimeDefault" } },
    containerSecurityContext: sc,
    nodeSelector: a.pool.labels,
    tolerations: a.pool.taints.map(toleration),
    metrics: {
      // Prometheus scrapes the server through the program's PodMonitor; the chart's own monitors stay off.
      enabled: true,
      serviceMonitor: { enabled: false },
      prometheusRule: { enabled: false },
    },
    upgradeCRDs: true,
    cleanUpCRDs: false,
    configuration: {
      backupStorageLocation: [],
      volumeSnapshotLocation: [],
      defaultBackupStorageLocation: VELERO_LOCATION,
      logFormat: "json",
    },
    rbac: { create: true, clusterAdministrator: true },
    serviceAccount: { server: { create: true, name: VELERO_SERVICE_ACCOUNT, annotations: a.serviceAccountAnnotations, labels } },
    credentials: { useSecret: false },
    backupsEnabled: true,
    snapshotsEnabled: false,
    deployNodeAgent: false,
    schedules: {},
  };
}

/** The plugin's provider name in a BackupStorageLocation. */
export const VELERO_PROVIDER = { gcp: "velero.io/gcp", aws: "velero.io/aws" } as const;

/**
 * The BackupStorageLocation: the store's bucket under its prefix, every object written under the customer key
 * (GCS: `kmsKeyName` on each write; S3: SSE-KMS with `kmsKeyId`). On GCP the plugin also needs the service account
 * it runs as (`serviceAccount`): under Workload Identity it signs download URLs through the IAM API as that account.
 */
export function backupStorageLocationSpec(store: VeleroStore, gcpServiceAccountEmail?: string): Record<string, unknown> {
  const config: Record<string, string> =
    store.provider === "gcp" ? { kmsKeyName: store.kmsKeyId, ...(gcpServiceAccountEmail ? { serviceAccount: gcpServiceAccountEmail } : {}) } : { region: store.region, kmsKeyId: store.kmsKeyId };
  return {
    provider: VELERO_PROVIDER[store.provider],
    default: true,
    accessMode: "ReadWrite",
    objectStorage: { bucket: store.bucket, prefix: store.prefix },
    config,
  };
}

/**
 * The Schedule: every namespace and the cluster-scoped resources, Secrets included, as manifests only (no volume
 * snapshots or file-system copies). Backups do not carry an owner reference to the schedule, so deleting or renaming
 * the schedule never deletes its backups.
 */
export function scheduleSpec(s: VeleroScheduleSettings, labels: Record<string, string>): Record<string, unknown> {
  return {
    schedule: s.schedule,
    useOwnerReferencesInBackup: false,
    skipImmediately: false,
    paused: false,
    template: {
      metadata: { labels },
      ttl: s.ttl,
      storageLocation: VELERO_LOCATION,
      includedNamespaces: ["*"],
      includeClusterResources: true,
      excludedResources: [...EXCLUDED_RESOURCES],
      snapshotVolumes: false,
      defaultVolumesToFsBackup: false,
      snapshotMoveData: false,
    },
  };
}

/** A Go duration of whole hours, minutes and seconds (`720h`, `1h30m`), as Velero reads `ttl`. */
export const GO_DURATION = /^(?=\d)(\d+h)?(\d+m)?(\d+s)?$/;

/** Every problem with the schedule and store, with its path. */
export function veleroProblems(s: VeleroScheduleSettings, prefix: string): { propertyPath: string; reason: string }[] {
  const out: { propertyPath: string; reason: string }[] = [];
  if (!GO_DURATION.test(s.ttl) || !/[1-9]/.test(s.ttl)) out.push({ propertyPath: "schedule.ttl", reason: `expected a positive Go duration such as 720h, got "${s.ttl}"` });
  if (s.schedule.trim().split(/\s+/).length !== 5) out.push({ propertyPath: "schedule.schedule", reason: `expected a 5-field cron expression, got "${s.schedule}"` });
  if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(prefix)) out.push({ propertyPath: "store.prefix", reason: `expected path segments without leading or trailing "/", got "${prefix}"` });
  return out;
}

export interface VeleroNetworkArgs {
  readonly monitoringNamespace: string;
  readonly prometheusPodLabels: Readonly<Record<string, string>>;
  readonly provider: "gcp" | "aws";
}

/**
 * Default deny; Prometheus in to the metrics port; out to DNS, the API server and the cloud's HTTPS APIs (storage,
 * KMS, STS or IAM credentials) and, on GKE, the metadata server that hands out Workload Identity tokens.
 */
export function veleroNetworkPolicies(a: VeleroNetworkArgs): Record<string, k8s.types.input.networking.v1.NetworkPolicySpec> {
  const tcp = (port: number) => ({ protocol: "TCP", port });
  return {
    "default-deny": { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    "allow-monitoring-scrape": {
      podSelector: { matchLabels: { ...VELERO_POD_LABELS } },
      policyTypes: ["Ingress"],
      ingress: [{ from: [{ ...nsSelector(a.monitoringNamespace), podSelector: { matchLabels: { ...a.prometheusPodLabels } } }], ports: [tcp(VELERO_METRICS_PORT.number)] }],
    },
    "allow-dns-egress": { podSelector: {}, policyTypes: ["Egress"], egress: [DNS_EGRESS] },
    // The API server's address is the cluster's to choose (private or public): any address, its ports only.
    "allow-https-egress": { podSelector: {}, policyTypes: ["Egress"], egress: [{ ports: [tcp(443), tcp(6443)] }] },
    ...(a.provider === "gcp"
      ? {
          "allow-metadata-egress": {
            podSelector: { matchLabels: { ...VELERO_POD_LABELS } },
            policyTypes: ["Egress"],
            egress: GKE_METADATA_EGRESS,
          },
        }
      : {}),
  };
}

/* Identity */

/** GCS: object rights on the bucket, limited by an IAM condition to the prefix (and the bucket itself, for listing). */
export function gcsPrefixCondition(bucket: string, prefix: string): { title: string; description: string; expression: string } {
  return {
    title: `${prefix}-only`,
    description: `Objects under ${prefix}/ in ${bucket}; listing is checked on the bucket`,
    expression: `resource.name == "projects/_/buckets/${bucket}" || resource.name.startsWith("projects/_/buckets/${bucket}/objects/${prefix}/")`,
  };
}

/** The role Velero holds on the GCS bucket (under `gcsPrefixCondition`): create, read, list and delete objects. */
export const GCS_OBJECT_ROLE = "roles/storage.objectUser";
/** Lets the account sign blobs as itself (`iam.serviceAccounts.signBlob`): download URLs for the velero CLI. */
export const GCP_SIGN_BLOB_ROLE = "roles/iam.serviceAccountTokenCreator";

/**
 * S3: list the bucket only under the prefix, read, write and delete objects only under it (multipart uploads
 * included), and use the customer key to encrypt new objects (GenerateDataKey) and read them (Decrypt).
 */
export function veleroS3Policy(partition: string, bucket: string, prefix: string, kmsKeyArn: string): string {
  const arn = `arn:${partition}:s3:::${bucket}`;
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      { Sid: "ListPrefix", Effect: "Allow", Action: ["s3:ListBucket"], Resource: [arn], Condition: { StringLike: { "s3:prefix": [`${prefix}/*`] } } },
      {
        Sid: "ObjectsUnderPrefix",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
        Resource: [`${arn}/${prefix}/*`],
      },
      { Sid: "CustomerKey", Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: [kmsKeyArn] },
    ],
  });
}

/** The IAM OIDC provider's ARN for a cluster's issuer, as IAM names it. */
export function oidcProviderArn(partition: string, accountId: string, issuerUrl: string): string {
  return `arn:${partition}:iam::${accountId}:oidc-provider/${issuerUrl.replace(/^https:\/\//, "")}`;
}
