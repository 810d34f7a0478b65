import { Readable } from "node:stream";
import { Client } from "pg";
import type { BackupStore } from "../backup/store";
import { cancelOnAbort } from "../db/cancel";

/**
 * The database maintenance the playbook schedules, one task per CronJob. Every task is idempotent, bounded by a
 * statement timeout, and takes a session advisory lock of its own: a second run that overlaps the first (a retry,
 * a manual run) finds the lock held and returns `skipped` instead of doing the work twice.
 */
export const MAINTENANCE_TASKS = ["heartbeat", "vacuum", "refresh-stats", "partitions", "purge", "capacity-report"] as const;
export type MaintenanceTask = (typeof MAINTENANCE_TASKS)[number];

/** Namespace of the tasks' advisory locks (the first key of the two-key form). */
export const MAINTENANCE_LOCK_NAMESPACE = 0x6d61696e; // "main"

export interface MaintenanceOptions {
  readonly databaseUrl: string;
  /** Longest any one statement may run. */
  readonly statementTimeoutSeconds: number;
  /** `partitions`: months of `container_metrics` kept (the current month is never dropped). */
  readonly metricsRetentionMonths: number;
  /** `purge`: finished jobs (completed, dead) older than this many days are deleted. */
  readonly jobRetentionDays: number;
  /** `purge`: rows deleted per statement, so locks stay short. */
  readonly purgeBatchSize: number;
  /** `capacity-report`: where the report is stored (`reports/capacity/<date>.json`); unset logs it only. */
  readonly store?: BackupStore;
  readonly now?: () => Date;
  /** Stops the task (the Job's deadline): the statement in flight is cancelled on the server. */
  readonly signal?: AbortSignal;
}

export type TaskResult = { readonly task: MaintenanceTask; readonly status: "done" | "skipped"; readonly details: Record<string, unknown> };

/** Tables the daily VACUUM ANALYZE covers: the queue and its time series. */
export const VACUUM_TABLES = ["container_jobs", "container_metrics"] as const;

export const HEARTBEAT_SQL = [
  `CREATE TABLE IF NOT EXISTS replication_heartbeat (id integer PRIMARY KEY CHECK (id = 1), beat_at timestamptz NOT NULL)`,
  `INSERT INTO replication_heartbeat (id, beat_at) VALUES (1, now()) ON CONFLICT (id) DO UPDATE SET beat_at = excluded.beat_at`,
];

/** `container_metrics_YYYY_MM` partitions wholly older than the retention window. */
export const EXPIRED_PARTITIONS_SQL = `
  SELECT c.relname AS name
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    JOIN pg_class p ON p.oid = i.inhparent
   WHERE p.relname = 'container_metrics'
     AND c.relname ~ '^container_metrics_[0-9]{4}_[0-9]{2}$'
     AND to_date(substring(c.relname from '[0-9]{4}_[0-9]{2}$'), 'YYYY_MM')
         < (date_trunc('month', now() AT TIME ZONE 'UTC') - make_interval(months => $1::int))::date
   ORDER BY c.relname`;

export const PURGE_SQL = `
  DELETE FROM container_jobs
   WHERE id IN (
     SELECT id FROM container_jobs
      WHERE status IN ('completed', 'dead')
        AND coalesce(completed_at, created_at) < now() - make_interval(days => $1::int)
      LIMIT $2
      FOR UPDATE SKIP LOCKED)`;

/** Last 7 days per job type from the hourly rollup: jobs, worst hourly p95, cost. */
export const CAPACITY_SQL = `
  SELECT type,
         sum(job_count)::bigint AS jobs,
         sum(job_count) FILTER (WHERE status = 'completed')::bigint AS completed,
         max(p95_time) AS p95_seconds_worst_hour,
         coalesce(sum(total_cost), 0)::float8 AS cost_usd
    FROM container_stats_hourly
   WHERE hour > now() - interval '7 days'
   GROUP BY type
   ORDER BY type`;

async function withLock<T>(client: Client, task: MaintenanceTask, work: () => Promise<T>): Promise<T | undefined> {
  const { rows } = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok", [MAINTENANCE_LOCK_NAMESPACE, task]);
  if (!rows[0]?.ok) return undefined;
  try {
    return await work();
  } finally {
    // The lock goes with the session anyway; an unlock on a lost connection must not hide why the task failed.
    await client.query("SELECT pg_advisory_unlock($1, hashtext($2))", [MAINTENANCE_LOCK_NAMESPACE, task]).catch(() => undefined);
  }
}

export async function runMaintenance(task: MaintenanceTask, opts: MaintenanceOptions): Promise<TaskResult> {
  opts.signal?.throwIfAborted();
  // A server that takes the connection and never answers must fail the run, not hold it until the Job's deadline.
  const client = new Client({ connectionString: opts.databaseUrl, connectionTimeoutMillis: 10_000, application_name: `maintenance-${task}` });
  // A lost connection fails the statement in flight; unheard, its 'error' event would also end the process unreported.
  client.on("error", () => undefined);
  await client.connect();
  let stopListening: (() => void) | undefined;
  try {
    stopListening = await cancelOnAbort(client, opts.databaseUrl, opts.signal);
    opts.signal?.throwIfAborted();
    await client.query(`SET statement_timeout = ${Math.round(opts.statementTimeoutSeconds * 1000)}`);
    // A maintenance statement never waits long behind the workers' row locks.
    await client.query("SET lock_timeout = '10s'");
    const details = await withLock(client, task, () => TASKS[task](client, opts));
    return details === undefined ? { task, status: "skipped", details: { reason: "another run holds the task's lock" } } : { task, status: "done", details };
  } finally {
    stopListening?.();
    await client.end().catch(() => undefined);
  }
}

type Task = (c: Client, o: MaintenanceOptions) => Promise<Record<string, unknown>>;

const TASKS: Record<MaintenanceTask, Task> = {
  async heartbeat(c) {
    for (const sql of HEARTBEAT_SQL) await c.query(sql);
    return {};
  },
  async vacuum(c) {
    const tables: string[] = [];
    for (const t of VACUUM_TABLES) {
      await c.query(`VACUUM (ANALYZE) ${t}`);
      tables.push(t);
    }
    return { tables };
  },
  async "refresh-stats"(c) {
    await c.query("SELECT refresh_container_stats()");
    return {};
  },
  async partitions(c, o) {
    const { rows: created } = await c.query<{ n: number }>("SELECT ensure_container_metrics_partitions(2) AS n");
    const { rows } = await c.query<{ name: string }>(EXPIRED_PARTITIONS_SQL, [o.metricsRetentionMonths]);
    for (const { name } of rows) await c.query(`DROP TABLE IF EXISTS ${quoteIdent(name)}`);
    return { created: Number(created[0]?.n ?? 0), dropped: rows.map((r) => r.name) };
  },
  async purge(c, o) {
    let deleted = 0;
    for (;;) {
      o.signal?.throwIfAborted();
      const r = await c.query(PURGE_SQL, [o.jobRetentionDays, o.purgeBatchSize]);
      deleted += r.rowCount ?? 0;
      if ((r.rowCount ?? 0) < o.purgeBatchSize) break;
    }
    return { deleted };
  },
  async "capacity-report"(c, o) {
    const now = (o.now ?? (() => new Date()))();
    const { rows } = await c.query(CAPACITY_SQL);
    const report = { generatedAt: now.toISOString(), window: "7 days", byType: rows };
    let stored: string | undefined;
    if (o.store) {
      const key = `reports/capacity/${now.toISOString().slice(0, 10)}.json`;
      await o.store.put(key, Readable.from([Buffer.from(JSON.stringify(report, null, 2) + "\n")]), async () => undefined);
      stored = o.store.url(key);
    }
    return { report, stored };
  },
};

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
