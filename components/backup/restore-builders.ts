import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { PoolScheduling } from "../cluster/types";
import { DNS_EGRESS, NON_PUBLIC_CIDRS, nsSelector } from "../namespace/builders";
import { containerSecurityContext, runToCompletionPodSpec, singleRunCronJobSpec } from "../processor/builders";
import type { SecretFiles } from "../processor/secrets";

/** How often the newest backup is restored and checked, and how old things may grow before an alert. */
export interface RestoreVerificationSettings {
  /** Cron (5 fields, UTC). Default daily 04:30, after the night's base backup, maintenance and weekly jobs. */
  readonly schedule: string;
  /** Newest successfully verified backup older than this: verification has stopped working. Default 26 h. */
  readonly maxVerifiedBackupAgeHours: number;
  /** A run still going after this is stopped and counts as failed. Default 60 min. */
  readonly deadlineMinutes: number;
  /** Size of the scratch database's volume (an emptyDir); must hold the restored database. Default `20Gi`. */
  readonly scratchStorage: string;
}

/** The table the verifier writes (migration 007) and the exporter reads. */
export const RESTORE_TABLE = "restore_verifications";
/** Name of the exporter's custom query; metrics are `cnpg_<query>_<column>`. */
export const RESTORE_QUERY = "pitchey_restore_verification";

/** The metrics the database's exporter produces from the verifier's rows (what alerts and the DR drill read). */
export const RESTORE_METRICS = {
  /** Unix time the newest run finished; 0 before the first. */
  lastRun: `cnpg_${RESTORE_QUERY}_last_run_timestamp_seconds`,
  /** 1 when the newest run verified its backup, else 0 (also 0 before the first run). */
  lastRunSuccess: `cnpg_${RESTORE_QUERY}_last_run_success`,
  /** How long the newest run took. */
  lastRunDuration: `cnpg_${RESTORE_QUERY}_last_run_duration_seconds`,
  /** Unix time the newest successful run finished; 0 when none has succeeded. */
  lastSuccess: `cnpg_${RESTORE_QUERY}_last_success_timestamp_seconds`,
  /** Unix time the newest successfully verified backup was taken; 0 when none. */
  verifiedBackup: `cnpg_${RESTORE_QUERY}_verified_backup_timestamp_seconds`,
  /** Age of the newest backup when the newest run looked; 1e9 when it found none. */
  newestBackupAge: `cnpg_${RESTORE_QUERY}_newest_backup_age_seconds`,
} as const;

/**
 * The exporter's custom query (CloudNativePG's `customQueriesConfigMap` format): one row summarising the verifier's
 * rows, so a short-lived Job's outcome reaches Prometheus through the database rather than by scraping its pod.
 */
export function restoreVerificationQueries(database: string): Record<string, unknown> {
  const epoch = (col: string) => `coalesce(EXTRACT(EPOCH FROM ${col}), 0)`;
  return {
    [RESTORE_QUERY]: {
      query: [
        "SELECT",
        `  ${epoch("last.finished_at")} AS last_run_timestamp_seconds,`,
        "  coalesce(last.success::int, 0) AS last_run_success,",
        `  ${epoch("last.finished_at - last.started_at")} AS last_run_duration_seconds,`,
        `  ${epoch("ok.finished_at")} AS last_success_timestamp_seconds,`,
        `  ${epoch("ok.backup_taken_at")} AS verified_backup_timestamp_seconds,`,
        `  coalesce(EXTRACT(EPOCH FROM last.finished_at - last.backup_taken_at), 1e9) AS newest_backup_age_seconds`,
        "FROM (SELECT 1) AS one",
        `LEFT JOIN LATERAL (SELECT * FROM ${RESTORE_TABLE} ORDER BY finished_at DESC LIMIT 1) AS last ON true`,
        `LEFT JOIN LATERAL (SELECT * FROM ${RESTORE_TABLE} WHERE success ORDER BY finished_at DESC LIMIT 1) AS ok ON true`,
      ].join("\n"),
      target_databases: [database],
      metrics: [
        { last_run_timestamp_seconds: { usage: "GAUGE", description: "Unix time the newest restore verification finished (0: none yet)" } },
        { last_run_success: { usage: "GAUGE", description: "1 if the newest restore verification passed, 0 if it failed or none ran" } },
        { last_run_duration_seconds: { usage: "GAUGE", description: "Duration of the newest restore verification" } },
        { last_success_timestamp_seconds: { usage: "GAUGE", description: "Unix time the newest passing restore verification finished (0: none)" } },
        { verified_backup_timestamp_seconds: { usage: "GAUGE", description: "Unix time the newest backup that restored and passed its checks was taken (0: none)" } },
        { newest_backup_age_seconds: { usage: "GAUGE", description: "Age of the newest backup when the newest verification looked (1e9: none found)" } },
      ],
    },
  };
}

/** `cnpg_<query>_<column>` for every metric column of a custom-queries document: what the exporter produces. */
export function customQueryMetricNames(queries: Record<string, unknown>): string[] {
  return Object.entries(queries).flatMap(([name, q]) =>
    ((q as { metrics: Record<string, { usage: string }>[] }).metrics ?? []).flatMap((m) =>
      Object.entries(m)
        .filter(([, v]) => v.usage !== "LABEL")
        .map(([col]) => `cnpg_${name}_${col}`),
    ),
  );
}

export interface RestoreJobArgs {
  /** The `db-backup` image (node, the worker's commands, PostgreSQL 15 client tools), by digest. */
  readonly image: pulumi.Input<string>;
  /**
   * Major version of the jobs database's PostgreSQL. The `db-backup` image carries Debian's server of that major
   * beside its client tools; the scratch database runs it from the same image.
   */
  readonly postgresMajor: number;
  readonly settings: RestoreVerificationSettings;
  /** `s3://bucket[/prefix]`. */
  readonly storeUrl: string;
  /** S3-compatible endpoint (R2); unset for the cloud's own S3. */
  readonly s3Endpoint?: string;
  /** Secret with `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` that can read the backup bucket. */
  readonly credentialsSecretName: string;
  /** Secret with `DATABASE_URL`: where the outcome is recorded. */
  readonly databaseSecretName: string;
  readonly serviceAccountName: pulumi.Input<string>;
  readonly pool: PoolScheduling;
  readonly labels: Record<string, string>;
  /** Label that opts the pod into HTTPS egress (the object store). */
  readonly httpsEgressLabel: string;
  /** `true` creates the CronJob suspended: where the jobs database is a read-only replica, nothing can be recorded. */
  readonly suspend?: boolean;
}

/** The scratch server listens on loopback only: nothing outside the pod can reach it. */
export const SCRATCH_PORT = 5432;
export const SCRATCH_URL = `postgresql://postgres@127.0.0.1:${SCRATCH_PORT}/postgres`;
const SCRATCH_DIR = "/var/lib/scratch";

/** `ghcr.io/cloudnative-pg/postgresql:15.14-standard-bookworm` → 15. */
export function postgresMajorOf(image: string): number {
  const m = /:(\d+)(?:\.\d+)?(?:[-@]|$)/.exec(image);
  if (!m) throw new Error(`cannot tell the PostgreSQL major version of image ${image}`);
  return Number(m[1]);
}

/**
 * The scratch database: Debian's PostgreSQL of the jobs database's major version from the `db-backup` image, started
 * as a native sidecar (an init container that keeps running) with its data on an emptyDir that dies with the pod.
 * Same image, same user (10001) as the verifier. Trust authentication on loopback, durability off: it holds a
 * throwaway copy for the length of one run.
 */
export function scratchDatabaseContainer(a: Pick<RestoreJobArgs, "image" | "postgresMajor" | "settings">): k8s.types.input.core.v1.Container {
  const bin = `/usr/lib/postgresql/${a.postgresMajor}/bin`;
  const start = [
    `${bin}/initdb --pgdata=${SCRATCH_DIR}/data --username=postgres --auth=trust --encoding=UTF8 --no-locale --no-sync >/dev/null`,
    `exec ${bin}/postgres -D ${SCRATCH_DIR}/data -c listen_addresses=127.0.0.1 -c port=${SCRATCH_PORT} -c unix_socket_directories= -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_wal_size=4GB`,
  ].join(" && ");
  return {
    name: "scratch-db",
    image: a.image,
    // A native sidecar: started before the verifier, stopped once it exits, so the Job completes.
    restartPolicy: "Always",
    command: ["sh", "-c", start],
    startupProbe: {
      exec: { command: ["pg_isready", "--host=127.0.0.1", `--port=${SCRATCH_PORT}`, "--username=postgres"] },
      periodSeconds: 2,
      failureThreshold: 90,
    },
    resources: {
      requests: { cpu: "250m", memory: "512Mi", "ephemeral-storage": "1Gi" },
      limits: { cpu: "2", memory: "2Gi", "ephemeral-storage": a.settings.scratchStorage },
    },
    securityContext: containerSecurityContext,
    volumeMounts: [
      { name: "scratch-db", mountPath: SCRATCH_DIR },
      { name: "tmp", mountPath: "/tmp" },
    ],
  };
}

export function restoreEnv(a: Pick<RestoreJobArgs, "storeUrl" | "s3Endpoint">): k8s.types.input.core.v1.EnvVar[] {
  return [
    { name: "BACKUP_STORE_URL", value: a.storeUrl },
    ...(a.s3Endpoint ? [{ name: "BACKUP_S3_ENDPOINT", value: a.s3Endpoint }] : []),
    { name: "SCRATCH_SERVER_URL", value: SCRATCH_URL },
  ];
}

/** The verifier's Secrets, as files: the jobs database (to record the outcome) and the bucket's read credentials. */
export function restoreSecrets(a: Pick<RestoreJobArgs, "databaseSecretName" | "credentialsSecretName">): SecretFiles[] {
  return [
    { secretName: a.databaseSecretName, keys: ["DATABASE_URL"] },
    { secretName: a.credentialsSecretName, keys: ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] },
  ];
}

/** The command the CronJob runs (the worker image's restore-verification CLI). */
export const RESTORE_COMMAND = ["node", "dist/cli/verify-restore.js"];

/**
 * The restore verification: one run at a time, never retried within a tick (a failure is a finding, recorded as a
 * row; the next tick tries again), stopped at its deadline.
 */
export function restoreCronJobSpec(a: RestoreJobArgs): k8s.types.input.batch.v1.CronJobSpec {
  const pod = runToCompletionPodSpec({
    name: "verify",
    image: a.image,
    command: RESTORE_COMMAND,
    env: restoreEnv(a),
    secrets: restoreSecrets(a),
    resources: {
      requests: { cpu: "250m", memory: "256Mi", "ephemeral-storage": "1Gi" },
      limits: { cpu: "1", memory: "1Gi", "ephemeral-storage": a.settings.scratchStorage },
    },
    serviceAccountName: a.serviceAccountName,
    pool: a.pool,
    // The downloaded backup waits here while it is checked and restored.
    tmpSize: a.settings.scratchStorage,
  });
  pod.initContainers = [scratchDatabaseContainer(a)];
  pod.volumes = [...(pod.volumes as k8s.types.input.core.v1.Volume[]), { name: "scratch-db", emptyDir: { sizeLimit: a.settings.scratchStorage } }];
  const labels = { ...a.labels, [a.httpsEgressLabel]: "true" };
  return singleRunCronJobSpec({
    schedule: a.settings.schedule,
    suspend: a.suspend ?? false,
    labels,
    startingDeadlineSeconds: 3600,
    deadlineSeconds: a.settings.deadlineMinutes * 60,
    backoffLimit: 0,
    pod,
  });
}

/**
 * The verifier's flows and nothing else: no ingress at all (the scratch database listens on loopback), egress to
 * DNS, the jobs database's poolers and the object store over HTTPS.
 */
export function restoreNetworkPolicy(a: {
  readonly podLabels: Record<string, string>;
  readonly databasePods?: { readonly namespace: string; readonly labels: Readonly<Record<string, string>> };
  readonly databaseCidrs?: readonly string[];
  readonly databasePort: number;
}): k8s.types.input.networking.v1.NetworkPolicySpec {
  const database = [
    ...(a.databasePods
      ? [{ ...nsSelector(a.databasePods.namespace), podSelector: { matchLabels: { ...a.databasePods.labels } } }]
      : []),
    ...(a.databaseCidrs ?? []).map((cidr) => ({ ipBlock: { cidr } })),
  ];
  return {
    podSelector: { matchLabels: { ...a.podLabels } },
    policyTypes: ["Ingress", "Egress"],
    ingress: [],
    egress: [
      DNS_EGRESS,
      ...(database.length > 0 ? [{ to: database, ports: [{ protocol: "TCP", port: a.databasePort }] }] : []),
      { to: [{ ipBlock: { cidr: "0.0.0.0/0", except: NON_PUBLIC_CIDRS } }], ports: [{ protocol: "TCP", port: 443 }] },
    ],
  };
}
