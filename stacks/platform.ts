import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Keda } from "../components/autoscaling";
import type { ClusterFacts } from "../components/cluster";
import { DatabaseBackup, R2Credential, r2AccountOf, r2Endpoint, type R2Grant } from "../components/backup";
import { postgresMajorOf, RestoreVerification } from "../components/backup/restore";
import { CloudStore, monthlyRetentionSeconds } from "../components/backup/cloud-store";
import { BackupCopy } from "../components/backup/cloud-store-job";
import { Velero, VELERO_METRICS_PORT, VELERO_POD_LABELS } from "../components/backup/velero";
import { IMAGES } from "../components/versions";
import { StackBudget } from "../components/cost/budget";
import { DatabaseMaintenance, DatabaseOperator, JobsDatabase, poolerName, type ArchiveLocation } from "../components/database";
import { ingressSettings, originHostOf } from "./edge";
import { failoverPlan, processorConfigFor } from "./failover";
import { DATABASE_CLUSTER, DATABASE_NAMESPACE, DATABASE_OPERATOR_NAMESPACE, archiveLocationFor, replayedPrimary } from "./database";
import { WorkerImage } from "../components/images";
import { awsTags, k8sLabels, type LabelContext } from "../components/labels";
import { Certificates } from "../components/certificates";
import { EdgeOrigin, GlobalEdge } from "../components/edge";
import { CONTROLLER_POD_LABELS, IngressController, routeLimits, routePath } from "../components/ingress";
import { PROMETHEUS_POD_LABELS, WorkloadNamespace } from "../components/namespace";
import { desiredTerminationGraceSeconds, HTTP_PORT, HTTPS_EGRESS_LABEL, METRICS_PORT, ProcessorService } from "../components/processor";
import { migrationJobName, migrationJobSpec } from "../components/processor/migration";
import type { ClusterRequest } from "./cluster";
import { ADDON_NAMESPACES } from "../components/cluster/addons";
import { LOKI_STORE_SECRET, Observability } from "../components/observability";
import { JOB_TYPE_OF, PROCESSOR_NAMES, type ProcessorName, type StackInputs } from "./config";
import { observabilityRoutingArgs, observabilityRuleArgs } from "./observability";
import { bucketOf, mirroredResultsBucket } from "./config/stores";

/** Kubernetes Secret with the jobs database connection; read by processors, the migration and the jobs. */
export const DATABASE_SECRET = "jobs-database";
/** Kubernetes Secret with KEDA's read-only connection (key `connection`). */
export const READER_SECRET = "jobs-database-reader";
export const TRIGGER_AUTH = "jobs-database";
/**
 * Object-store credentials (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`), one per use, each from its own R2 token
 * limited to one bucket: the processors that store results (never code-executor) write the results bucket; only the
 * backup job holds the backup bucket's writer; restore verification reads it; the capacity report writes its own.
 */
export const RESULTS_STORE_SECRET = "results-store";
export const BACKUP_WRITER_SECRET = "backup-writer";
export const BACKUP_READER_SECRET = "backup-reader";
export const CAPACITY_REPORTS_SECRET = "capacity-reports";
export const RESULTS_MIRROR_SECRET = "results-mirror";
/** The copy job's read-only token on the R2 backup bucket, and its ServiceAccount (bound to its cloud identity). */
export const BACKUP_COPY_SECRET = "backup-copy-reader";
export const BACKUP_COPY_SA = "backup-copy";
/** Dockerfile target and registry repository of the backup job's image. */
export const BACKUP_IMAGE = "db-backup";

/** `createCluster`, injected so tests can wire the platform to the cluster of their choosing. */
export type ClusterFactory = (name: string, request: ClusterRequest, opts?: pulumi.ComponentResourceOptions) => ClusterFacts;

/** What the other region's stack reads from this one (through a StackReference). */
export interface EdgeOutputs {
  /** This region's origin host name (a proxied record whose content is the ingress load balancer). */
  readonly originHost: string;
  /** The ingress load balancer's address. */
  readonly originAddress: pulumi.Output<string>;
}

export interface PlatformOutputs {
  readonly cloud: string;
  /** The cluster's name in its cloud, for `aws eks update-kubeconfig` / `gcloud container clusters get-credentials`. */
  readonly clusterName: pulumi.Output<string>;
  /** A kubeconfig that fetches a short-lived token through the cloud CLI; a secret output. */
  readonly kubeconfig: pulumi.Output<string>;
  readonly edge: EdgeOutputs;
  readonly namespace: pulumi.Output<string>;
  readonly images: Record<ProcessorName, pulumi.Output<string>>;
  readonly processors: Record<ProcessorName, ProcessorService>;
  /** The archive of a database the program runs (what a replica elsewhere follows); unset for an external one. */
  readonly databaseArchive: ArchiveLocation | undefined;
  /** The backups' copy in this stack's own cloud (C2): where to restore from when R2 is gone. */
  readonly backupCopy: { provider: "gcp" | "aws"; bucket: pulumi.Output<string>; region: string; kmsKeyId: pulumi.Output<string> };
  /** On a standby stack: the failover phase, the load balancer weights it sets and the database role it promises. */
  readonly failover: ReturnType<typeof failoverPlan>;
}

/**
 * The composition root: typed config in, components wired out. `pulumi up` and the offline plan both run this.
 */
export function createPlatform(inputs: StackInputs, createCluster: ClusterFactory): PlatformOutputs {
  const { config, secrets } = inputs;
  const labels: LabelContext = { environment: config.environment, costCenter: config.costCenter, team: config.team };

  const cluster = createCluster(config.cluster.name, {
    config: config.cluster,
    labels,
    // A results store in the cloud's own object storage is reached by identity; R2 by its API token instead.
    workloads: PROCESSOR_NAMES.map((name) => ({
      name,
      namespace: config.namespace,
      access: config.results.s3Endpoint || config.results.storeUrl.startsWith("file:") ? [] : ["results-bucket" as const],
    })),
    resultsBucket: bucketOf(config.results.storeUrl),
    imageRepositories: [...PROCESSOR_NAMES, BACKUP_IMAGE],
    untaggedImageRetentionDays: config.images.untaggedRetentionDays,
    alertmanagerUrl: `http://alertmanager-operated.${config.monitoringNamespace}.svc:9093`,
    // Where the autoscaler's drain can be lengthened (EKS), it is, to the longest job plus its hand-back margin.
    longestTerminationGraceSeconds: Math.max(...PROCESSOR_NAMES.map((name) => desiredTerminationGraceSeconds(processorConfigFor(config, name)))),
  });
  const inCluster = { provider: cluster.provider, dependsOn: [...cluster.readyResources] };

  const managed = !config.database.cidrs;
  // The pooler of the database the program runs; an external database is reached at its CIDRs instead.
  const databasePods = managed ? { namespace: DATABASE_NAMESPACE, labels: { "cnpg.io/poolerName": poolerName(DATABASE_CLUSTER) } } : undefined;
  const ns = new WorkloadNamespace(
    "processors",
    {
      name: config.namespace,
      labels,
      quota: config.resourceQuota,
      ingressNamespace: config.ingressNamespace,
      ingressControllerPodLabels: CONTROLLER_POD_LABELS,
      monitoringNamespace: config.monitoringNamespace,
      prometheusPodLabels: PROMETHEUS_POD_LABELS,
      httpPort: HTTP_PORT,
      metricsPort: METRICS_PORT,
      databaseCidrs: config.database.cidrs ?? [],
      databasePort: config.database.port,
      databasePods,
      httpsEgressLabel: HTTPS_EGRESS_LABEL,
    },
    inCluster,
  );

  const keda = new Keda(
    "keda",
    {
      namespace: config.kedaNamespace,
      labels,
      metricsApi: cluster.metricsApi,
      queueDatabase: { cidrs: config.database.cidrs, pods: databasePods, port: config.database.port },
    },
    inCluster,
  );

  // cert-manager serves the origin certificate and the database's backup plugin alike.
  const certificates = new Certificates(
    "certificates",
    {
      labels,
      acmeServer: config.edge.tls.acmeServer,
      dnsApiToken: secrets.dnsApiToken,
      zone: config.edge.zone,
      monitoringNamespace: config.monitoringNamespace,
      prometheusPodLabels: PROMETHEUS_POD_LABELS,
    },
    inCluster,
  );

  let appUrl: pulumi.Output<string>;
  let readerUrl: pulumi.Output<string>;
  let database: JobsDatabase | undefined;
  if (managed) {
    const operator = new DatabaseOperator(
      "cnpg",
      { namespace: DATABASE_OPERATOR_NAMESPACE, labels, certManager: [certificates.release], clusters: [{ namespace: DATABASE_NAMESPACE, name: DATABASE_CLUSTER }] },
      inCluster,
    );
    const { cidrs: _external, port: _port, replicaOf, ...settings } = config.database;
    // Read from the Pulumi backend, never from the primary's cloud: this works while that region is down.
    const primaryArchive = replicaOf
      ? (new pulumi.StackReference(replicaOf.stack).requireOutput("databaseArchive") as pulumi.Output<ArchiveLocation>)
      : undefined;
    // The archive's own token: write on this stack's bucket and, on a replica, read on the primary's.
    const own: R2Grant = { bucket: config.backups.bucket, access: "write" };
    const archiveCredential = new R2Credential("jobs-db-archive", {
      accountId: config.backups.accountId,
      tokenName: `${config.cluster.name}-database-archive`,
      grants: primaryArchive ? primaryArchive.apply((a): R2Grant[] => [own, { bucket: bucketOf(a.destinationPath)!, access: "read" }]) : [own],
    });
    database = new JobsDatabase(
      DATABASE_CLUSTER,
      {
        namespace: DATABASE_NAMESPACE,
        clusterName: DATABASE_CLUSTER,
        settings,
        labels,
        pool: cluster.pools.general,
        cloud: cluster.cloud,
        archive: archiveLocationFor(config),
        archiveCredentials: archiveCredential,
        replicaOf: primaryArchive ? { archive: primaryArchive, promote: config.failover.phase === 100 } : undefined,
        clientNamespaces: [config.namespace, config.kedaNamespace],
        operator,
        monitoringNamespace: config.monitoringNamespace,
        volumeProvisioner: cluster.volumeProvisioner,
      },
      inCluster,
    );
    appUrl = database.appUrl;
    readerUrl = database.readerUrl;
  } else {
    appUrl = secrets.databaseUrl!;
    readerUrl = secrets.databaseUrl!;
  }

  const dbSecret = new k8s.core.v1.Secret(
    "jobs-database",
    {
      metadata: { name: DATABASE_SECRET, namespace: ns.name, labels: k8sLabels(labels, "jobs-database", "database") },
      type: "Opaque",
      stringData: { DATABASE_URL: appUrl },
    },
    { provider: cluster.provider },
  );
  const readerSecret = new k8s.core.v1.Secret(
    "jobs-database-reader",
    {
      metadata: { name: READER_SECRET, namespace: ns.name, labels: k8sLabels(labels, "jobs-database-reader", "database") },
      type: "Opaque",
      // `connection` is the key KEDA's postgresql scaler reads.
      stringData: { connection: readerUrl },
    },
    { provider: cluster.provider },
  );

  // Results on R2: a token that can touch the results bucket and nothing else (cloud buckets are reached by identity).
  const resultsAccount = config.results.s3Endpoint ? r2AccountOf(config.results.s3Endpoint) : undefined;
  const resultsBucket = bucketOf(config.results.storeUrl);
  const resultsCredential =
    resultsAccount && resultsBucket
      ? new R2Credential(
          "results-store",
          {
            accountId: resultsAccount,
            tokenName: `${config.cluster.name}-${RESULTS_STORE_SECRET}`,
            grants: [{ bucket: resultsBucket, access: "write" }],
            secret: { name: RESULTS_STORE_SECRET, namespace: ns.name, labels: k8sLabels(labels, RESULTS_STORE_SECRET, "storage") },
          },
          { provider: cluster.provider },
        )
      : undefined;

  const triggerAuth = new k8s.apiextensions.CustomResource(
    "jobs-database-trigger-auth",
    {
      apiVersion: "keda.sh/v1alpha1",
      kind: "TriggerAuthentication",
      metadata: { name: TRIGGER_AUTH, namespace: ns.name, labels: k8sLabels(labels, "jobs-database", "autoscaler") },
      spec: { secretTargetRef: [{ parameter: "connection", name: READER_SECRET, key: "connection" }] },
    },
    { provider: cluster.provider, dependsOn: [keda.release, readerSecret] },
  );

  const buildImage = (target: string) =>
    new WorkerImage(target, {
      target,
      context: config.images.context,
      dockerfile: config.images.dockerfile,
      repository: cluster.imageRepository(target),
      registryAuth: cluster.registryAuth,
      platforms: config.images.platforms,
      push: config.images.push,
    }).ref;
  const images = Object.fromEntries(PROCESSOR_NAMES.map((name) => [name, buildImage(name)])) as Record<
    ProcessorName,
    pulumi.Output<string>
  >;

  const migrationSa = new k8s.core.v1.ServiceAccount(
    "jobs-migrate-sa",
    {
      metadata: { name: "jobs-migrate", namespace: ns.name, labels: k8sLabels(labels, "jobs-migrate", "migration") },
      automountServiceAccountToken: false,
    },
    { provider: cluster.provider },
  );
  const migration = new k8s.batch.v1.Job(
    "jobs-migrate",
    {
      // Named after the migrations' content: a changed migration is a new Job, which runs before processors roll.
      metadata: { name: migrationJobName(config.images.context), namespace: ns.name, labels: k8sLabels(labels, "jobs-migrate", "migration") },
      spec: migrationJobSpec({
        // The smallest image carries the same runtime and migrations as the others.
        image: images["code-executor"],
        databaseSecretName: DATABASE_SECRET,
        serviceAccountName: migrationSa.metadata.name,
        pool: cluster.pools.general,
        labels: k8sLabels(labels, "jobs-migrate", "migration"),
      }),
    },
    { provider: cluster.provider, dependsOn: database ? [ns, dbSecret, database] : [ns, dbSecret], deleteBeforeReplace: true },
  );

  const processors = Object.fromEntries(
    PROCESSOR_NAMES.map((name) => {
      const pc = processorConfigFor(config, name);
      const sandboxed = pc.placement.pool === "sandbox";
      const svc = new ProcessorService(
        name,
        {
          name,
          jobType: JOB_TYPE_OF[name],
          config: pc,
          image: images[name],
          labels,
          namespace: ns.name,
          pool: cluster.pools[pc.placement.pool],
          fallbackPool: pc.placement.fallbackToOnDemand ? cluster.spotFirst.fallback : undefined,
          computeClass: pc.placement.fallbackToOnDemand ? cluster.spotFirst.computeClass : undefined,
          autoscalerMaxGraceSeconds: cluster.autoscalerMaxGraceSeconds,
          runtimeClassName: sandboxed ? cluster.sandboxRuntimeClassName : undefined,
          databaseSecretName: DATABASE_SECRET,
          // code-executor keeps its results in the jobs table: no store, no token (it could not reach one anyway).
          resultsStoreUrl: sandboxed ? undefined : config.results.storeUrl,
          resultsS3Endpoint: sandboxed ? undefined : config.results.s3Endpoint,
          resultsStoreSecretName: !sandboxed && resultsCredential ? RESULTS_STORE_SECRET : undefined,
          // Untrusted code gets no route out beyond DNS and the database.
          httpsEgress: !sandboxed,
          serviceAccountAnnotations: cluster.serviceAccountAnnotations(name),
          triggerAuthenticationName: TRIGGER_AUTH,
        },
        { provider: cluster.provider, dependsOn: [migration, triggerAuth, ...(resultsCredential ? [resultsCredential] : [])] },
      );
      return [name, svc];
    }),
  ) as Record<ProcessorName, ProcessorService>;

  // Writing needs a primary: always on prod, on dr once promoted. Until then dr's database replays prod's rows.
  const primary = replayedPrimary(config) === undefined;
  const backupImage = buildImage(BACKUP_IMAGE);
  const mirrored = mirroredResultsBucket(config);
  const backup = new DatabaseBackup(
    "db-backup",
    {
      namespace: ns.name,
      labels,
      image: backupImage,
      schedule: config.backups.schedule,
      retention: config.backups.retention,
      accountId: config.backups.accountId,
      bucket: config.backups.bucket,
      location: config.backups.location,
      storeSecretName: BACKUP_WRITER_SECRET,
      readerSecretName: BACKUP_READER_SECRET,
      tokenNamePrefix: config.cluster.name,
      // The results store on R2 in the backups' account is mirrored under the bucket's `r2/`.
      resultsMirror: mirrored
        ? { sourceUrl: config.results.storeUrl, sourceBucket: mirrored, ...config.backups.resultsMirror, secretName: RESULTS_MIRROR_SECRET }
        : undefined,
      databaseSecretName: DATABASE_SECRET,
      pool: cluster.pools.general,
      // A replica cannot take the run's row (the dump itself works on it); the primary's rows are replayed instead.
      recordRuns: primary,
    },
    { provider: cluster.provider, dependsOn: [migration] },
  );

  // The copy of the backups in this stack's own cloud (what survives the loss of Cloudflare), fed daily from R2.
  const copy = config.backups.cloudCopy;
  const cloudStore = new CloudStore("cloud-store", {
    cloud: config.cluster.cloud,
    namePrefix: config.cluster.name,
    region: config.cluster.region,
    project: config.cluster.project,
    retention: { ...config.backups.retention, mirror: config.backups.resultsMirror.retention, noncurrentDays: copy.noncurrentDays, accessLogDays: copy.accessLogDays },
    labels,
    deletionProtection: config.cluster.deletionProtection,
    copier: { namespace: config.namespace, serviceAccount: BACKUP_COPY_SA },
    oidcIssuer: cluster.oidcIssuer,
  });
  new BackupCopy(
    "backup-copy",
    {
      namespace: ns.name,
      labels,
      image: backupImage,
      schedule: copy.schedule,
      deadlineSeconds: copy.deadlineMinutes * 60,
      source: { accountId: config.backups.accountId, bucket: config.backups.bucket, endpoint: r2Endpoint(config.backups.accountId) },
      target: { provider: cloudStore.provider, bucket: cloudStore.bucket, region: cloudStore.region },
      monthlyRetentionSeconds: monthlyRetentionSeconds(config.backups.retention),
      serviceAccount: { name: BACKUP_COPY_SA, annotations: cloudStore.copierAnnotations },
      sourceSecretName: BACKUP_COPY_SECRET,
      tokenName: `${config.cluster.name}-${BACKUP_COPY_SECRET}`,
      pool: cluster.pools.general,
      httpsEgressLabel: HTTPS_EGRESS_LABEL,
    },
    { provider: cluster.provider, dependsOn: [backup.bucket] },
  );
  new RestoreVerification(
    "restore-verification",
    {
      namespace: ns.name,
      labels,
      image: backupImage,
      // The jobs database's major: the scratch copy restores into the same.
      postgresMajor: postgresMajorOf(IMAGES.postgresql),
      settings: config.restoreVerification,
      bucket: config.backups.bucket,
      endpoint: r2Endpoint(config.backups.accountId),
      // The backup bucket's read-only credential: it can restore, never change a backup.
      credentialsSecretName: BACKUP_READER_SECRET,
      databaseSecretName: DATABASE_SECRET,
      pool: cluster.pools.general,
      httpsEgressLabel: HTTPS_EGRESS_LABEL,
      database: databasePods ? { pods: databasePods, port: config.database.port } : { cidrs: config.database.cidrs ?? [], port: config.database.port },
      // A replica cannot record outcomes; the primary's are replayed into it and its exporter reports them.
      suspended: !primary,
    },
    { provider: cluster.provider, dependsOn: [migration, dbSecret, backup.reader] },
  );

  // Maintenance writes, so it runs where the database is a primary: always on prod, on dr once promoted.
  if (managed && primary) {
    const reportsCredential = new R2Credential(
      "capacity-reports",
      {
        accountId: config.backups.accountId,
        tokenName: `${config.cluster.name}-${CAPACITY_REPORTS_SECRET}`,
        grants: [{ bucket: config.backups.bucket, access: "write" }],
        secret: { name: CAPACITY_REPORTS_SECRET, namespace: ns.name, labels: k8sLabels(labels, CAPACITY_REPORTS_SECRET, "maintenance") },
      },
      { provider: cluster.provider },
    );
    new DatabaseMaintenance(
      "db-maintenance",
      {
        namespace: ns.name,
        settings: config.maintenance,
        labels,
        image: backupImage,
        databaseSecretName: DATABASE_SECRET,
        reportStore: { url: `s3://${config.backups.bucket}`, endpoint: r2Endpoint(config.backups.accountId), secretName: CAPACITY_REPORTS_SECRET },
        pool: cluster.pools.general,
        httpsEgressLabel: HTTPS_EGRESS_LABEL,
      },
      { provider: cluster.provider, dependsOn: [migration, dbSecret, reportsCredential] },
    );
  }

  if (config.cost.monthlyBudgetUsd !== undefined) {
    new StackBudget("cost", {
      // Unique per stack: AWS refuses a second budget of the same name in an account.
      budgetName: `${config.cluster.name}-monthly`,
      monthlyUsd: config.cost.monthlyBudgetUsd,
      alertEmails: config.cost.alertEmails,
      scope:
        config.cluster.cloud === "gcp"
          ? { cloud: "gcp", billingAccount: config.cost.billingAccount!, project: config.cluster.project! }
          : { cloud: "aws", environmentTag: config.environment },
      tags: awsTags(labels),
    });
  }

  // Cluster state: every object and Secret, on the schedule from config, into this stack's cloud backup bucket.
  const c = config.cluster;
  const velero = new Velero(
    "velero",
    {
      labels,
      store: { provider: cloudStore.provider, bucket: cloudStore.bucket, region: cloudStore.region, kmsKeyId: cloudStore.kmsKeyId, prefix: "configs" },
      identity: c.cloud === "gcp" ? { cloud: "gcp", project: c.project!, clusterName: c.name, poolReady: cluster.readyResources } : { cloud: "aws", oidcIssuer: cluster.oidcIssuer },
      schedule: { schedule: config.backups.configs.schedule, ttl: config.backups.configs.ttl },
      pool: cluster.pools.general,
      monitoringNamespace: config.monitoringNamespace,
      prometheusPodLabels: PROMETHEUS_POD_LABELS,
    },
    inCluster,
  );

  const o = config.observability;
  new Observability(
    "monitoring",
    {
      namespace: config.monitoringNamespace,
      agentsNamespace: o.agentsNamespace,
      labels,
      environment: inputs.stack,
      processors: { namespace: config.namespace, services: PROCESSOR_NAMES },
      // CloudNativePG's instance exporter (connections, settings) and PgBouncer's, when the database is the program's.
      exporters: [
        ...(managed
          ? [
              { name: "jobs-db", namespace: DATABASE_NAMESPACE, matchLabels: { "cnpg.io/cluster": DATABASE_CLUSTER }, port: { name: "metrics", number: 9187 } },
              { name: "jobs-db-pooler", namespace: DATABASE_NAMESPACE, matchLabels: { "cnpg.io/poolerName": poolerName(DATABASE_CLUSTER) }, port: { name: "metrics", number: 9127 } },
            ]
          : []),
        // Velero's server: the cluster-state backups' outcome.
        { name: "velero", namespace: velero.namespace, matchLabels: VELERO_POD_LABELS, port: VELERO_METRICS_PORT },
      ],
      alertSenderNamespaces: [ADDON_NAMESPACES.falco],
      pool: cluster.pools.general,
      rules: observabilityRuleArgs(config),
      routing: observabilityRoutingArgs(config),
      prometheus: o.prometheus,
      alertmanager: { replicas: o.alertmanager.replicas, storageSize: o.alertmanager.storageSize },
      loki: {
        // The same Cloudflare account as the backups; a bucket of its own, written with its own token.
        accountId: config.backups.accountId,
        bucket: o.loki.bucket ?? `${config.cluster.name}-logs`,
        tokenName: `${config.cluster.name}-${LOKI_STORE_SECRET}`,
        location: o.loki.location,
        retention: o.loki.retention,
        storageSize: o.loki.storageSize,
      },
      grafana: o.grafana,
      secrets: secrets.observability,
    },
    inCluster,
  );

  const edge = createEdge(inputs, { provider: cluster.provider, dependsOn: [...cluster.readyResources] }, ns, processors, certificates);

  return { cloud: cluster.cloud, clusterName: cluster.clusterName, kubeconfig: cluster.kubeconfig, edge, namespace: ns.name, images, processors, databaseArchive: database?.archive, backupCopy: { provider: cloudStore.provider, bucket: cloudStore.bucket, region: cloudStore.region, kmsKeyId: cloudStore.kmsKeyId }, failover: failoverPlan(config) };
}

/**
 * The edge: cert-manager and the ingress controller in the cluster; in Cloudflare, this region's origin record and,
 * on the stack that names a primary stack (dr), everything that exists once for the zone.
 */
function createEdge(
  inputs: StackInputs,
  inCluster: pulumi.ComponentResourceOptions,
  ns: WorkloadNamespace,
  processors: Record<ProcessorName, ProcessorService>,
  certificates: Certificates,
): EdgeOutputs {
  const { config } = inputs;
  const e = config.edge;
  const labels: LabelContext = { environment: config.environment, costCenter: config.costCenter, team: config.team };
  const settings = ingressSettings(config);
  const ingress = new IngressController(
    "ingress",
    {
      namespace: config.ingressNamespace,
      labels,
      settings,
      apiHost: e.apiHost,
      processorsNamespace: ns.name,
      processorsNamespaceName: config.namespace,
      processorPort: HTTP_PORT,
      routes: PROCESSOR_NAMES.map((name) => ({ processor: name, jobType: JOB_TYPE_OF[name], servicePort: HTTP_PORT })),
      monitoringNamespace: config.monitoringNamespace,
      prometheusPodLabels: PROMETHEUS_POD_LABELS,
      clusterIssuer: certificates.clusterIssuer,
    },
    { ...inCluster, dependsOn: [...((inCluster.dependsOn as pulumi.Resource[]) ?? []), ...Object.values(processors).map((p) => p.service)] },
  );
  const originHost = originHostOf(config);
  const cf = e.cloudflare;
  if (cf) {
    new EdgeOrigin("edge-origin", { zoneId: cf.zoneId, hostname: originHost, address: ingress.address });
    if (cf.primaryStack) {
      // The primary's origin comes from its own stack's outputs: this stack stays updatable while that region is down.
      const primary = new pulumi.StackReference("primary-stack", { name: cf.primaryStack });
      // During a staged failover its phase sets the weights (C5); otherwise the configured ones apply.
      const plan = config.failover.phase > 0 ? failoverPlan(config) : undefined;
      new GlobalEdge("edge", {
        settings: plan ? { ...cf, loadBalancer: { ...cf.loadBalancer, poolWeights: plan.poolWeights } } : cf,
        apiHost: e.apiHost,
        routes: PROCESSOR_NAMES.map((name) => {
          const limits = routeLimits(settings.routes[name]!, settings.zones);
          return { path: routePath(JOB_TYPE_OF[name]), ratePerSecond: limits.perIp.ratePerSecond, burst: limits.perIp.burst };
        }),
        primaryOrigin: primary.requireOutput("edgeOriginHost").apply(String),
        standbyOrigin: originHost,
      });
    }
  }
  return { originHost, originAddress: ingress.address };
}

