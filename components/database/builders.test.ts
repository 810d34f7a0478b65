import { describe, expect, it } from "vitest";
import type { PoolScheduling } from "../cluster/types";
import {
  DATABASE_DEFAULTS,
  clusterSpec,
  databaseAlertRules,
  databaseSettingsProblems,
  objectStoreSpec,
  poolerSpec,
  scheduledBackupSpec,
  connectionUrl,
} from "./builders";
import { DATABASE_SCHEMAS } from "./schemas";

const pool: PoolScheduling = { name: "general", labels: { "pitchey.io/pool": "general" }, taints: [] };
const base = {
  name: "jobs-db",
  settings: DATABASE_DEFAULTS,
  image: "ghcr.io/cloudnative-pg/postgresql:15.14-standard-bookworm",
  objectStoreName: "jobs-db-archive",
  serverName: "jobs-db-production",
  appSecretName: "jobs-db-app-credentials",
  readerSecretName: "jobs-db-reader-credentials",
  pool,
  storageClassName: "jobs-db-ssd",
  monitoringConfigMapName: "jobs-db-monitoring",
  labels: { "app.kubernetes.io/name": "jobs-db" },
};
const archive = { destinationPath: "s3://pitchey-backups/cnpg/", endpointURL: "https://a.r2.cloudflarestorage.com", serverName: "jobs-db-production" };
const valid = (apiVersion: string, kind: string, spec: unknown) =>
  DATABASE_SCHEMAS[`${apiVersion}/${kind}`].safeParse({ apiVersion, kind, metadata: { name: "x", namespace: "jobs-db" }, spec });

describe("jobs database cluster", () => {
  const spec = clusterSpec(base) as any;

  it("runs three instances, one per node, spread over zones, with WAL archived through the Barman Cloud plugin", () => {
    expect(spec.instances).toBe(3);
    expect(spec.affinity.podAntiAffinityType).toBe("required");
    expect(spec.topologySpreadConstraints[0]).toMatchObject({ topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "DoNotSchedule" });
    expect(spec.plugins).toEqual([
      { name: "barman-cloud.cloudnative-pg.io", isWALArchiver: true, parameters: { barmanObjectName: "jobs-db-archive", serverName: "jobs-db-production" } },
    ]);
  });

  it("ships a WAL segment at least every archiveTimeoutSeconds, even when quiet", () => {
    expect(spec.postgresql.parameters.archive_timeout).toBe("120s");
    expect(DATABASE_DEFAULTS.archiveTimeoutSeconds).toBeLessThanOrEqual(DATABASE_DEFAULTS.maxReplicationLagSeconds);
  });

  it("creates the owner role at initdb and a reader role that can only SELECT", () => {
    expect(spec.bootstrap).toEqual({ initdb: { database: "jobs", owner: "processors", secret: { name: "jobs-db-app-credentials" } } });
    const reader = spec.managed.roles.find((r: any) => r.name === "keda_reader");
    expect(reader.inRoles).toEqual(["pg_read_all_data"]);
    expect(spec.replica).toBeUndefined();
    expect(spec.enableSuperuserAccess).toBe(false);
  });

  it("as a replica, is seeded from and follows the primary's archive; promotion turns replication off", () => {
    const replica = clusterSpec({ ...base, serverName: "jobs-db-dr", replicaOf: { archive, promote: false, objectStoreName: "jobs-db-primary-archive" } }) as any;
    expect(replica.bootstrap.recovery.source).toBe("primary-archive");
    expect(replica.externalClusters[0].plugin.parameters).toEqual({ barmanObjectName: "jobs-db-primary-archive", serverName: "jobs-db-production" });
    expect(replica.replica).toEqual({ enabled: true, source: "primary-archive" });
    // It archives to its own folder, never into the primary's.
    expect(replica.plugins[0].parameters.serverName).toBe("jobs-db-dr");
    const promoted = clusterSpec({ ...base, replicaOf: { archive, promote: true, objectStoreName: "jobs-db-primary-archive" } }) as any;
    expect(promoted.replica.enabled).toBe(false);
  });

  it("is valid against the CRD fields the program sets, and a misspelt field is caught", () => {
    expect(valid("postgresql.cnpg.io/v1", "Cluster", spec).success).toBe(true);
    expect(valid("postgresql.cnpg.io/v1", "Cluster", { ...spec, instance: 3 }).success).toBe(false);
    expect(valid("postgresql.cnpg.io/v1", "ScheduledBackup", scheduledBackupSpec("jobs-db", "0 1 * * *")).success).toBe(true);
    expect(valid("postgresql.cnpg.io/v1", "Pooler", poolerSpec("jobs-db", DATABASE_DEFAULTS.pooler, pool, {})).success).toBe(true);
    const store = objectStoreSpec({ ...archive, credentialsSecretName: "c", retentionDays: 30 });
    expect(valid("barmancloud.cnpg.io/v1", "ObjectStore", store).success).toBe(true);
  });
});

describe("archive, base backups and pooler", () => {
  it("keeps walRetentionDays of WAL and works around R2's checksum handling", () => {
    const store = objectStoreSpec({ ...archive, credentialsSecretName: "jobs-db-archive-credentials", retentionDays: 30 }) as any;
    expect(store.retentionPolicy).toBe("30d");
    expect(store.configuration.endpointURL).toBe("https://a.r2.cloudflarestorage.com");
    expect(store.instanceSidecarConfiguration.env).toContainEqual({ name: "AWS_REQUEST_CHECKSUM_CALCULATION", value: "when_required" });
    // A store only read (the primary's, from the replica) prunes nothing.
    expect((objectStoreSpec({ ...archive, credentialsSecretName: "c" }) as any).retentionPolicy).toBeUndefined();
  });

  it("takes base backups through the plugin, from a standby", () => {
    expect(scheduledBackupSpec("jobs-db", "0 1 * * *")).toMatchObject({ schedule: "0 0 1 * * *", method: "plugin", target: "prefer-standby" });
  });

  it("pools in session mode so LISTEN/NOTIFY works", () => {
    const p = poolerSpec("jobs-db", DATABASE_DEFAULTS.pooler, pool, {}) as any;
    expect(p.pgbouncer.poolMode).toBe("session");
    expect(p.type).toBe("rw");
  });

  it("refuses pools that cannot fit max_connections, and an archive timeout longer than the RPO", () => {
    expect(databaseSettingsProblems(DATABASE_DEFAULTS)).toEqual([]);
    const p = databaseSettingsProblems({ ...DATABASE_DEFAULTS, maxConnections: 200, archiveTimeoutSeconds: 600 });
    expect(p.map(([k]) => k)).toEqual(["maxConnections", "archiveTimeoutSeconds"]);
    expect(p[0][1]).toMatch(/need 270/);
  });

  it("encodes the password in the connection URL", () => {
    expect(connectionUrl("h", 5432, "processors", "a/b@c")).toBe("postgresql://processors:a%2Fb%40c@h:5432/jobs");
  });

  it("alerts when the replica is further behind than the RPO", () => {
    const rule = databaseAlertRules({ clusterName: "jobs-db", maxLagSeconds: 300, runbookBaseUrl: "docs/runbooks/" }).groups[0].rules[0];
    expect(rule.alert).toBe("DatabaseReplicationLagHigh");
    expect(rule.expr).toBe('max(cnpg_pitchey_heartbeat_lag_seconds{pod=~"jobs-db-[0-9]+"}) > 300');
  });
});
