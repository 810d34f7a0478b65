import type { PoolScheduling } from "../cluster/types";
import { backupRunQueries } from "../backup/builders";
import { restoreVerificationQueries } from "../backup/restore-builders";

/** The Barman Cloud plugin's name, as CloudNativePG clusters reference it. */
export const BARMAN_PLUGIN = "barman-cloud.cloudnative-pg.io";

/** Role the processors, the migration and the backup/maintenance jobs connect as; owns the jobs database. */
export const APP_ROLE = "processors";
/** Role KEDA's postgresql scaler connects as: it can read, never write. */
export const READER_ROLE = "keda_reader";
/** Database holding `container_jobs`. */
export const DATABASE_NAME = "jobs";

/** Keys of the credentials Secret the ObjectStore reads (R2's S3-compatible token). */
export const ARCHIVE_KEY_ID = "ACCESS_KEY_ID";
export const ARCHIVE_SECRET_KEY = "ACCESS_SECRET_KEY";

export interface PoolerSettings {
  /** PgBouncer pods. Default 2. */
  readonly instances: number;
  /** Server connections per PgBouncer pod for each user/database pair. Default 125. */
  readonly defaultPoolSize: number;
  /** Client connections one PgBouncer pod accepts. Default 2000. */
  readonly maxClientConnections: number;
}

/** Where a cluster's WAL and base backups live (an S3-compatible object store such as R2). */
export interface ArchiveLocation {
  /** `s3://bucket/path/`; each cluster writes under its own `serverName` below it. */
  readonly destinationPath: string;
  /** S3-compatible endpoint; R2's `https://<account>.r2.cloudflarestorage.com`. */
  readonly endpointURL: string;
  /** Folder under `destinationPath` this cluster's WAL and base backups go to; unique per cluster. */
  readonly serverName: string;
}

/** The jobs database's shape: the config-shaped part of `JobsDatabaseArgs`. */
export interface DatabaseSettings {
  /** PostgreSQL instances (primary + standbys), spread across zones. Default 3. */
  readonly instances: number;
  /** Volume per instance. Default `50Gi`. */
  readonly storageSize: string;
  /** PostgreSQL `max_connections`; must hold every pooler's pool plus reserved connections. Default 300. */
  readonly maxConnections: number;
  /** Longest a WAL segment stays unarchived on a quiet database (`archive_timeout`). Default 120 s. */
  readonly archiveTimeoutSeconds: number;
  /** Days of WAL and base backups the archive keeps (point-in-time recovery window). Default 30. */
  readonly walRetentionDays: number;
  /** Cron (5 fields, UTC) of the base backup. Default daily 01:00. */
  readonly baseBackupSchedule: string;
  /** Replica lag that pages, seconds; the RPO. Default 300. */
  readonly maxReplicationLagSeconds: number;
  readonly pooler: PoolerSettings;
}

export const DATABASE_DEFAULTS: DatabaseSettings = {
  instances: 3,
  storageSize: "50Gi",
  maxConnections: 300,
  archiveTimeoutSeconds: 120,
  walRetentionDays: 30,
  baseBackupSchedule: "0 1 * * *",
  maxReplicationLagSeconds: 300,
  pooler: { instances: 2, defaultPoolSize: 125, maxClientConnections: 2000 },
};

/** Connections PostgreSQL keeps beyond the poolers': superuser, replication, operator and exporter. */
export const RESERVED_CONNECTIONS = 20;

/**
 * Problems with a database shape, each as `[path, message]`. The poolers' server connections must fit
 * `max_connections`, or PgBouncer queues clients while PostgreSQL refuses it connections.
 */
export function databaseSettingsProblems(s: DatabaseSettings): [string, string][] {
  const problems: [string, string][] = [];
  const needed = s.pooler.instances * s.pooler.defaultPoolSize + RESERVED_CONNECTIONS;
  if (needed > s.maxConnections) {
    problems.push([
      "maxConnections",
      `is ${s.maxConnections}, but ${s.pooler.instances} pooler pod(s) × defaultPoolSize ${s.pooler.defaultPoolSize} + ${RESERVED_CONNECTIONS} reserved need ${needed}`,
    ]);
  }
  if (s.archiveTimeoutSeconds > s.maxReplicationLagSeconds) {
    problems.push([
      "archiveTimeoutSeconds",
      `is ${s.archiveTimeoutSeconds}, longer than maxReplicationLagSeconds (${s.maxReplicationLagSeconds}): a quiet database would break the RPO`,
    ]);
  }
  return problems;
}

/** The stack this cluster replicates from (the dr stack) and whether it has been promoted. */
export interface ReplicaOf {
  /** The primary's archive, read through this stack's own object-store credentials. */
  readonly archive: ArchiveLocation;
  /** `false` keeps the cluster a replica; `true` promotes it to a primary (failover at 100 %). */
  readonly promote: boolean;
}

export interface ClusterSpecArgs {
  readonly name: string;
  readonly settings: DatabaseSettings;
  readonly image: string;
  /** ObjectStore this cluster archives its own WAL and base backups to. */
  readonly objectStoreName: string;
  readonly serverName: string;
  readonly appSecretName: string;
  readonly readerSecretName: string;
  readonly pool: PoolScheduling;
  readonly storageClassName: string;
  /** ConfigMap with `monitoringQueries()` under `MONITORING_KEY`. */
  readonly monitoringConfigMapName: string;
  readonly labels: Record<string, string>;
  /** Set in the dr stack. */
  readonly replicaOf?: ReplicaOf & { readonly objectStoreName: string };
}

/** Name of the external cluster a replica follows. */
export const PRIMARY_SOURCE = "primary-archive";

const tolerationsFor = (pool: PoolScheduling) =>
  pool.taints.map((t) => ({ key: t.key, operator: "Equal", value: t.value, effect: t.effect }));

/** `postgresql.cnpg.io/v1` Cluster spec. */
export function clusterSpec(a: ClusterSpecArgs): Record<string, unknown> {
  const s = a.settings;
  const spec: Record<string, unknown> = {
    instances: s.instances,
    imageName: a.image,
    // Standbys are promoted by the operator; the switchover of a primary on update needs no human.
    primaryUpdateStrategy: "unsupervised",
    enableSuperuserAccess: false,
    postgresql: {
      parameters: {
        max_connections: String(s.maxConnections),
        // A quiet database still closes and ships a segment this often: the replica's worst-case lag.
        archive_timeout: `${s.archiveTimeoutSeconds}s`,
        log_min_duration_statement: "1000",
      },
    },
    storage: { size: s.storageSize, storageClass: a.storageClassName },
    walStorage: { size: s.storageSize, storageClass: a.storageClassName },
    affinity: {
      // Never two instances on one node ...
      topologyKey: "kubernetes.io/hostname",
      podAntiAffinityType: "required",
      nodeSelector: { ...a.pool.labels },
      tolerations: tolerationsFor(a.pool),
    },
    // ... and spread evenly over the zones, so losing one zone leaves a quorum of instances.
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: "topology.kubernetes.io/zone",
        whenUnsatisfiable: "DoNotSchedule",
        labelSelector: { matchLabels: { "cnpg.io/cluster": a.name } },
      },
    ],
    monitoring: { customQueriesConfigMap: [{ name: a.monitoringConfigMapName, key: MONITORING_KEY }] },
    resources: { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "2", memory: "4Gi" } },
    plugins: [{ name: BARMAN_PLUGIN, isWALArchiver: true, parameters: { barmanObjectName: a.objectStoreName, serverName: a.serverName } }],
    managed: {
      roles: [
        {
          name: APP_ROLE,
          ensure: "present",
          login: true,
          passwordSecret: { name: a.appSecretName },
        },
        {
          name: READER_ROLE,
          ensure: "present",
          login: true,
          // SELECT on every table and nothing else: the queue-depth query cannot change a job.
          inRoles: ["pg_read_all_data"],
          connectionLimit: 20,
          passwordSecret: { name: a.readerSecretName },
        },
      ],
    },
    inheritedMetadata: { labels: a.labels },
  };
  if (a.replicaOf) {
    // A replica cluster is seeded from the primary's archive and follows it; promotion is `replica.enabled: false`.
    spec.bootstrap = { recovery: { source: PRIMARY_SOURCE, database: DATABASE_NAME, owner: APP_ROLE } };
    spec.externalClusters = [
      {
        name: PRIMARY_SOURCE,
        plugin: {
          name: BARMAN_PLUGIN,
          parameters: { barmanObjectName: a.replicaOf.objectStoreName, serverName: a.replicaOf.archive.serverName },
        },
      },
    ];
    spec.replica = { enabled: !a.replicaOf.promote, source: PRIMARY_SOURCE };
  } else {
    spec.bootstrap = { initdb: { database: DATABASE_NAME, owner: APP_ROLE, secret: { name: a.appSecretName } } };
  }
  return spec;
}

export interface ObjectStoreSpecArgs {
  readonly destinationPath: string;
  readonly endpointURL: string;
  readonly credentialsSecretName: string;
  /** Days kept; `undefined` for a store this cluster only reads (the primary's archive). */
  readonly retentionDays?: number;
}

/** `barmancloud.cnpg.io/v1` ObjectStore spec. `serverName` is left to each cluster's plugin parameters. */
export function objectStoreSpec(a: ObjectStoreSpecArgs): Record<string, unknown> {
  return {
    ...(a.retentionDays ? { retentionPolicy: `${a.retentionDays}d` } : {}),
    configuration: {
      destinationPath: a.destinationPath,
      endpointURL: a.endpointURL,
      s3Credentials: {
        accessKeyId: { name: a.credentialsSecretName, key: ARCHIVE_KEY_ID },
        secretAccessKey: { name: a.credentialsSecretName, key: ARCHIVE_SECRET_KEY },
      },
      wal: { compression: "gzip", maxParallel: 4 },
      data: { compression: "gzip", jobs: 2 },
    },
    instanceSidecarConfiguration: {
      // boto3's default checksums are rejected by S3-compatible stores such as R2.
      env: [
        { name: "AWS_REQUEST_CHECKSUM_CALCULATION", value: "when_required" },
        { name: "AWS_RESPONSE_CHECKSUM_VALIDATION", value: "when_required" },
      ],
    },
  };
}

/** `postgresql.cnpg.io/v1` ScheduledBackup spec: a base backup through the plugin, from a standby when one exists. */
export function scheduledBackupSpec(clusterName: string, cron5: string): Record<string, unknown> {
  return {
    // CloudNativePG's schedule has a leading seconds field.
    schedule: `0 ${cron5}`,
    backupOwnerReference: "self",
    cluster: { name: clusterName },
    method: "plugin",
    pluginConfiguration: { name: BARMAN_PLUGIN },
    target: "prefer-standby",
    immediate: true,
  };
}

/**
 * `postgresql.cnpg.io/v1` Pooler spec: PgBouncer in session mode in front of the primary. Session mode because
 * the workers' LISTEN/NOTIFY connection does not survive transaction pooling.
 */
export function poolerSpec(clusterName: string, p: PoolerSettings, pool: PoolScheduling, labels: Record<string, string>): Record<string, unknown> {
  return {
    cluster: { name: clusterName },
    instances: p.instances,
    type: "rw",
    pgbouncer: {
      poolMode: "session",
      parameters: {
        max_client_conn: String(p.maxClientConnections),
        default_pool_size: String(p.defaultPoolSize),
        // The worker sets these per session; PgBouncer must not reject the startup packet for them.
        ignore_startup_parameters: "extra_float_digits,options",
      },
    },
    template: {
      metadata: { labels },
      spec: {
        nodeSelector: { ...pool.labels },
        tolerations: tolerationsFor(pool),
        containers: [],
      },
    },
  };
}

/** The Pooler's Service (and object) name. It must differ from every Cluster's name. */
export const poolerName = (clusterName: string) => `${clusterName}-pooler-rw`;

/** Connection URL through the pooler; the password is URL-encoded. */
export function connectionUrl(host: string, port: number, user: string, password: string, database = DATABASE_NAME): string {
  return `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}/${database}`;
}

/**
 * Replication lag as the replica sees it: seconds since the last heartbeat the primary wrote, which stays honest
 * on a quiet database (the last replayed transaction's age would not). Exported by the instances' metrics
 * exporter as `cnpg_pitchey_heartbeat_lag_seconds`.
 */
export const HEARTBEAT_TABLE = "replication_heartbeat";
export const MONITORING_KEY = "queries";
export function lagQueries(): Record<string, unknown> {
  return {
    pitchey_heartbeat: {
      query: `SELECT coalesce(EXTRACT(EPOCH FROM now() - max(beat_at)), 1e9) AS lag_seconds FROM ${HEARTBEAT_TABLE}`,
      target_databases: [DATABASE_NAME],
      metrics: [{ lag_seconds: { usage: "GAUGE", description: "Seconds since the newest primary heartbeat this instance has replayed" } }],
    },
  };
}

/**
 * Everything the instances' exporter runs besides its defaults: the heartbeat lag, the backup job's runs and the
 * restore verifier's outcome (rows those CronJobs write to the jobs database).
 */
export function monitoringQueries(): Record<string, unknown> {
  return { ...lagQueries(), ...backupRunQueries(DATABASE_NAME), ...restoreVerificationQueries(DATABASE_NAME) };
}

/**
 * Prometheus rules for the database: replica lag against the RPO, and archiving health. Rule-file shape with the
 * platform's labels (severity, team, service) and a runbook page per alert under `runbookBaseUrl`.
 */
export function databaseAlertRules(a: { clusterName: string; maxLagSeconds: number; runbookBaseUrl: string }) {
  const sel = `pod=~"${a.clusterName}-[0-9]+"`;
  const labels = { severity: "critical", team: "platform", service: "database" };
  return {
    groups: [
      {
        name: "jobs-database",
        rules: [
          {
            alert: "DatabaseReplicationLagHigh",
            expr: `max(cnpg_pitchey_heartbeat_lag_seconds{${sel}}) > ${a.maxLagSeconds}`,
            for: "5m",
            labels,
            annotations: {
              summary: `Jobs database replica is more than ${a.maxLagSeconds} s behind its primary`,
              description: `The newest heartbeat this database has replayed is {{ $value | humanizeDuration }} old (RPO ${a.maxLagSeconds} s): the DR copy no longer meets its RPO. Check WAL archiving on the primary and the replica's recovery.`,
              runbook_url: `${a.runbookBaseUrl}DatabaseReplicationLagHigh.md`,
            },
          },
          {
            alert: "DatabaseWalArchivingFailing",
            expr: `increase(cnpg_pg_stat_archiver_failed_count{${sel}}[10m]) > 0 and on (pod) cnpg_pg_stat_archiver_seconds_since_last_archival{${sel}} > ${a.maxLagSeconds}`,
            for: "5m",
            labels,
            annotations: {
              summary: "The jobs database cannot archive WAL",
              description: `{{ $labels.pod }} keeps failing to archive WAL and has archived nothing for more than ${a.maxLagSeconds} s. Point-in-time recovery and the DR replica depend on the archive.`,
              runbook_url: `${a.runbookBaseUrl}DatabaseWalArchivingFailing.md`,
            },
          },
        ],
      },
    ],
  };
}
