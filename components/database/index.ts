import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { stringify } from "yaml";
import type { PoolScheduling } from "../cluster/types";
import { chartLabels, k8sLabels, type LabelContext } from "../labels";
import { podSecurityLabels } from "../namespace/builders";
import { CHARTS, IMAGES } from "../versions";
import { MAINTENANCE_JOBS, maintenanceCronJobSpec, type MaintenanceJob, type MaintenanceSettings } from "./maintenance";
import {
  APP_ROLE,
  ARCHIVE_KEY_ID,
  ARCHIVE_SECRET_KEY,
  MONITORING_KEY,
  READER_ROLE,
  clusterSpec,
  connectionUrl,
  databaseSettingsProblems,
  monitoringQueries,
  objectStoreSpec,
  poolerName,
  poolerSpec,
  scheduledBackupSpec,
  type ArchiveLocation,
  type DatabaseSettings,
} from "./builders";
import { databaseNetworkPolicies } from "./network";
import { BARMAN_PLUGIN_RELEASE, OPERATOR_RELEASE, operatorNetworkPolicies, type ManagedCluster } from "./operator-network";

export * from "./builders";
export * from "./maintenance";
export * from "./network";
export * from "./operator-network";

export interface DatabaseOperatorArgs {
  /** Namespace of the operator and the Barman Cloud plugin. Default `cnpg-system`. */
  readonly namespace: string;
  readonly labels: LabelContext;
  /**
   * cert-manager, which the Barman Cloud plugin needs for its mTLS certificates; the plugin is installed after it.
   * Default: none (cert-manager already present in the cluster).
   */
  readonly certManager?: pulumi.Resource[];
  /**
   * The `Cluster`s the operator manages: its NetworkPolicies let it reach their instances' status port and
   * PostgreSQL, and nothing else in other namespaces. Required.
   */
  readonly clusters: readonly ManagedCluster[];
}

/**
 * Operator chart values: two replicas, the CRDs, no PodMonitor, the program's cost labels on the operator's pods.
 * Neither CloudNativePG chart has a value that labels every object; `podLabels` labels the pods.
 */
export function cnpgOperatorValues(labels: Readonly<Record<string, string>>): Record<string, unknown> {
  return { replicaCount: 2, crds: { create: true }, podLabels: chartLabels(labels), monitoring: { podMonitorEnabled: false } };
}

/** Barman Cloud plugin chart values: the program's cost labels on the plugin's pods. */
export function barmanCloudValues(labels: Readonly<Record<string, string>>): Record<string, unknown> {
  return { podLabels: chartLabels(labels) };
}

/** CloudNativePG and its Barman Cloud plugin from their upstream charts. */
export class DatabaseOperator extends pulumi.ComponentResource {
  readonly namespace: string;
  /** Custom resources of the operator and the plugin must wait for these. */
  readonly ready: pulumi.Resource[];

  constructor(name: string, args: DatabaseOperatorArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pitchey:database:DatabaseOperator", name, {}, opts);
    const labels = k8sLabels(args.labels, "cloudnative-pg", "database-operator");
    const ns = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      { metadata: { name: args.namespace, labels: { ...labels, ...podSecurityLabels() } } },
      { parent: this },
    );
    const netpols = Object.entries(operatorNetworkPolicies(args.clusters)).map(
      ([policy, spec]) =>
        new k8s.networking.v1.NetworkPolicy(`${name}-${policy}`, { metadata: { name: policy, namespace: ns.metadata.name, labels }, spec }, { parent: this }),
    );
    const operator = new k8s.helm.v3.Release(
      `${name}-operator`,
      {
        name: OPERATOR_RELEASE,
        chart: CHARTS.cloudnativePg.chart,
        version: CHARTS.cloudnativePg.version,
        repositoryOpts: { repo: CHARTS.cloudnativePg.repo },
        namespace: ns.metadata.name,
        atomic: true,
        values: cnpgOperatorValues(labels),
      },
      { parent: this, dependsOn: netpols },
    );
    const plugin = new k8s.helm.v3.Release(
      `${name}-barman-cloud`,
      {
        name: BARMAN_PLUGIN_RELEASE,
        chart: CHARTS.barmanCloud.chart,
        version: CHARTS.barmanCloud.version,
        repositoryOpts: { repo: CHARTS.barmanCloud.repo },
        namespace: ns.metadata.name,
        atomic: true,
        values: barmanCloudValues(labels),
      },
      { parent: this, dependsOn: [operator, ...(args.certManager ?? [])] },
    );
    this.namespace = args.namespace;
    this.ready = [operator, plugin];
    this.registerOutputs({ namespace: this.namespace });
  }
}

export interface JobsDatabaseArgs {
  /** Namespace the database runs in (created here). Default `jobs-db`. */
  readonly namespace: string;
  /** Cluster name; also the prefix of its Services. Default `jobs-db`. */
  readonly clusterName: string;
  readonly settings: DatabaseSettings;
  readonly labels: LabelContext;
  readonly pool: PoolScheduling;
  readonly cloud: "gcp" | "aws";
  /** This cluster's own archive (WAL and base backups). */
  readonly archive: ArchiveLocation;
  /** S3-compatible token for the archive(s), a Pulumi secret. */
  readonly archiveCredentials: { readonly accessKeyId: pulumi.Input<string>; readonly secretAccessKey: pulumi.Input<string> };
  /** dr stack: follow this primary's archive (from a StackReference); promote at failover. Default: none (a primary). */
  readonly replicaOf?: { readonly archive: pulumi.Input<ArchiveLocation>; readonly promote: boolean };
  /** Namespaces whose workloads may reach the pooler. */
  readonly clientNamespaces: readonly string[];
  readonly operator: DatabaseOperator;
  readonly monitoringNamespace: string;
  /**
   * What provisions the volumes of the declared StorageClass (on EKS, the EBS CSI driver): the Cluster waits for
   * it, or its claims stay Pending. Default: none (the cluster ships its driver, as GKE does).
   */
  readonly volumeProvisioner?: readonly pulumi.Resource[];
}

/**
 * The jobs database: a CloudNativePG cluster archiving WAL to object storage (point-in-time recovery, and the
 * source of the DR replica), a PgBouncer pooler in session mode in front, and the roles the platform connects as.
 */
export class JobsDatabase extends pulumi.ComponentResource {
  /** Connection URL for the processors, migrations and jobs (owner role, through the pooler). Secret. */
  readonly appUrl: pulumi.Output<string>;
  /** Connection URL for KEDA (SELECT-only role, through the pooler). Secret. */
  readonly readerUrl: pulumi.Output<string>;
  /** Where this cluster archives; the dr stack's replica reads prod's. */
  readonly archive: ArchiveLocation;
  readonly cluster: k8s.apiextensions.CustomResource;
  readonly pooler: k8s.apiextensions.CustomResource;

  constructor(name: string, args: JobsDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pitchey:database:JobsDatabase", name, {}, opts);
    const problems = databaseSettingsProblems(args.settings);
    if (problems.length > 0) {
      throw new pulumi.InputPropertiesError({
        message: `invalid JobsDatabase ${name}`,
        errors: problems.map(([p, reason]) => ({ propertyPath: `settings.${p}`, reason })),
      });
    }
    const labels = k8sLabels(args.labels, args.clusterName, "database");
    const child = { parent: this };
    const inOperator = { parent: this, dependsOn: args.operator.ready };
    const cn = args.clusterName;

    const ns = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      { metadata: { name: args.namespace, labels: { ...labels, ...podSecurityLabels() } } },
      child,
    );
    const meta = (n: string, extra: Record<string, string> = {}) => ({ name: n, namespace: ns.metadata.name, labels: { ...labels, ...extra } });

    const password = (role: string) =>
      new random.RandomPassword(`${name}-${role}-password`, { length: 40, special: false }, child).result;
    const appPassword = password("app");
    const readerPassword = password("reader");
    const basicAuth = (role: string, user: string, pw: pulumi.Output<string>) =>
      new k8s.core.v1.Secret(
        `${name}-${role}-credentials`,
        { metadata: meta(`${cn}-${role}-credentials`), type: "kubernetes.io/basic-auth", stringData: { username: user, password: pw } },
        child,
      );
    const appSecret = basicAuth("app", APP_ROLE, appPassword);
    const readerSecret = basicAuth("reader", READER_ROLE, readerPassword);
    const archiveSecret = new k8s.core.v1.Secret(
      `${name}-archive-credentials`,
      {
        metadata: meta(`${cn}-archive-credentials`),
        type: "Opaque",
        stringData: { [ARCHIVE_KEY_ID]: args.archiveCredentials.accessKeyId, [ARCHIVE_SECRET_KEY]: args.archiveCredentials.secretAccessKey },
      },
      child,
    );

    const storageClass = new k8s.storage.v1.StorageClass(
      `${name}-storage`,
      {
        metadata: { name: `${cn}-ssd`, labels },
        ...(args.cloud === "gcp"
          ? { provisioner: "pd.csi.storage.gke.io", parameters: { type: "pd-ssd" } }
          : { provisioner: "ebs.csi.aws.com", parameters: { type: "gp3", encrypted: "true" } }),
        // A deleted claim must not take the database's volume with it.
        reclaimPolicy: "Retain",
        volumeBindingMode: "WaitForFirstConsumer",
        allowVolumeExpansion: true,
      },
      child,
    );

    const ownStore = new k8s.apiextensions.CustomResource(
      `${name}-archive`,
      {
        apiVersion: "barmancloud.cnpg.io/v1",
        kind: "ObjectStore",
        metadata: meta(`${cn}-archive`),
        spec: objectStoreSpec({
          destinationPath: args.archive.destinationPath,
          endpointURL: args.archive.endpointURL,
          credentialsSecretName: `${cn}-archive-credentials`,
          retentionDays: args.settings.walRetentionDays,
        }),
      },
      { ...inOperator, dependsOn: [...args.operator.ready, archiveSecret] },
    );
    const sources: pulumi.Resource[] = [ownStore];
    const primaryArchive = args.replicaOf ? pulumi.output(args.replicaOf.archive) : undefined;
    if (primaryArchive) {
      sources.push(
        new k8s.apiextensions.CustomResource(
          `${name}-primary-archive`,
          {
            apiVersion: "barmancloud.cnpg.io/v1",
            kind: "ObjectStore",
            metadata: meta(`${cn}-primary-archive`),
            spec: primaryArchive.apply((a) =>
              objectStoreSpec({ destinationPath: a.destinationPath, endpointURL: a.endpointURL, credentialsSecretName: `${cn}-archive-credentials` }),
            ),
          },
          { ...inOperator, dependsOn: [...args.operator.ready, archiveSecret] },
        ),
      );
    }

    const monitoring = new k8s.core.v1.ConfigMap(
      `${name}-monitoring`,
      { metadata: meta(`${cn}-monitoring`, { "cnpg.io/reload": "" }), data: { [MONITORING_KEY]: stringify(monitoringQueries()) } },
      child,
    );

    this.cluster = new k8s.apiextensions.CustomResource(
      `${name}-cluster`,
      {
        apiVersion: "postgresql.cnpg.io/v1",
        kind: "Cluster",
        metadata: meta(cn),
        spec: pulumi.output(primaryArchive).apply((primary) =>
          clusterSpec({
            name: cn,
            settings: args.settings,
            image: IMAGES.postgresql,
            objectStoreName: `${cn}-archive`,
            serverName: args.archive.serverName,
            appSecretName: `${cn}-app-credentials`,
            readerSecretName: `${cn}-reader-credentials`,
            pool: args.pool,
            storageClassName: `${cn}-ssd`,
            monitoringConfigMapName: `${cn}-monitoring`,
            labels,
            replicaOf:
              primary && args.replicaOf
                ? { archive: primary, promote: args.replicaOf.promote, objectStoreName: `${cn}-primary-archive` }
                : undefined,
          }),
        ),
      },
      // The data outlives any stack operation: deleting it takes a deliberate `pulumi state unprotect`.
      {
        ...child,
        protect: true,
        dependsOn: [...args.operator.ready, ...sources, appSecret, readerSecret, storageClass, monitoring, ...(args.volumeProvisioner ?? [])],
      },
    );

    new k8s.apiextensions.CustomResource(
      `${name}-base-backup`,
      {
        apiVersion: "postgresql.cnpg.io/v1",
        kind: "ScheduledBackup",
        metadata: meta(`${cn}-base-backup`),
        spec: scheduledBackupSpec(cn, args.settings.baseBackupSchedule),
      },
      { ...child, dependsOn: [this.cluster] },
    );

    const pn = poolerName(cn);
    this.pooler = new k8s.apiextensions.CustomResource(
      `${name}-pooler`,
      {
        apiVersion: "postgresql.cnpg.io/v1",
        kind: "Pooler",
        metadata: meta(pn),
        spec: poolerSpec(cn, args.settings.pooler, args.pool, labels),
      },
      { ...child, dependsOn: [this.cluster] },
    );

    for (const [policy, spec] of Object.entries(
      databaseNetworkPolicies({
        clusterName: cn,
        clientNamespaces: args.clientNamespaces,
        operatorNamespace: args.operator.namespace,
        monitoringNamespace: args.monitoringNamespace,
      }),
    )) {
      new k8s.networking.v1.NetworkPolicy(`${name}-${policy}`, { metadata: meta(policy), spec }, child);
    }

    const host = `${pn}.${args.namespace}.svc`;
    this.appUrl = pulumi.secret(appPassword.apply((pw) => connectionUrl(host, 5432, APP_ROLE, pw)));
    this.readerUrl = pulumi.secret(readerPassword.apply((pw) => connectionUrl(host, 5432, READER_ROLE, pw)));
    this.archive = args.archive;
    this.registerOutputs({ cluster: this.cluster.metadata.name, pooler: this.pooler.metadata.name, archive: this.archive });
  }
}

export interface DatabaseMaintenanceArgs {
  /** Namespace the CronJobs run in: the one holding the connection Secret. */
  readonly namespace: pulumi.Input<string>;
  readonly settings: MaintenanceSettings;
  readonly labels: LabelContext;
  /** The `db-backup` image, by digest. */
  readonly image: pulumi.Input<string>;
  readonly databaseSecretName: string;
  readonly reportStore?: { readonly url: string; readonly endpoint?: string; readonly secretName: string };
  readonly pool: PoolScheduling;
  /** Label that opts a pod into HTTPS egress (the capacity report's upload). */
  readonly httpsEgressLabel: string;
}

/** The playbook's routine database maintenance as CronJobs running `maintenance <task>`. */
export class DatabaseMaintenance extends pulumi.ComponentResource {
  readonly cronJobs: Record<MaintenanceJob, k8s.batch.v1.CronJob>;

  constructor(name: string, args: DatabaseMaintenanceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pitchey:database:DatabaseMaintenance", name, {}, opts);
    const labels = k8sLabels(args.labels, "db-maintenance", "maintenance");
    const sa = new k8s.core.v1.ServiceAccount(
      `${name}-sa`,
      { metadata: { name: "db-maintenance", namespace: args.namespace, labels }, automountServiceAccountToken: false },
      { parent: this },
    );
    const jobs = Object.keys(MAINTENANCE_JOBS) as MaintenanceJob[];
    this.cronJobs = Object.fromEntries(
      jobs.map((job) => {
        const task = MAINTENANCE_JOBS[job].task;
        const jobLabels: Record<string, string> = { ...labels, "app.kubernetes.io/name": `db-${task}`, "app.kubernetes.io/instance": `db-${task}` };
        if (job === "capacityReport" && args.reportStore) jobLabels[args.httpsEgressLabel] = "true";
        const cron = new k8s.batch.v1.CronJob(
          `${name}-${task}`,
          {
            metadata: { name: `db-${task}`, namespace: args.namespace, labels: jobLabels },
            spec: maintenanceCronJobSpec({
              job,
              settings: args.settings,
              image: args.image,
              databaseSecretName: args.databaseSecretName,
              reportStore: args.reportStore,
              serviceAccountName: sa.metadata.name,
              pool: args.pool,
              labels: jobLabels,
            }),
          },
          { parent: this },
        );
        return [job, cron];
      }),
    ) as Record<MaintenanceJob, k8s.batch.v1.CronJob>;
    this.registerOutputs({});
  }
}
