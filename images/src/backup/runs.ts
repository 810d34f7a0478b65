import { Client } from "pg";
import type { Logger } from "pino";

/** One run of the backup job as it is recorded, whatever its outcome. */
export interface BackupRun {
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly success: boolean;
  /** Where the dumps go (`s3://bucket/prefix/postgres/`). */
  readonly location: string;
  /** The dump stored and verified by this run; unset when it stored none. */
  readonly key?: string;
  readonly bytes?: number;
  /** Copies written into the higher tiers by this run. */
  readonly tierCopies: readonly string[];
  /** What failed; unset on success. */
  readonly error?: string;
}

export const BACKUP_RUNS_TABLE = "backup_runs";

export const RECORD_RUN_SQL = `
  INSERT INTO ${BACKUP_RUNS_TABLE} (started_at, finished_at, success, location, backup_key, backup_bytes, tier_copies, error)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
  RETURNING id`;

/**
 * Every row but the newest `keep` and the newest successful one. Runs that overlap (a manual run beside the
 * scheduled one) each prune; the advisory lock lets one do it and the other skip, so two deletes never wait on
 * each other's rows.
 */
export const PRUNE_RUNS_SQL = `
  DELETE FROM ${BACKUP_RUNS_TABLE}
   WHERE pg_try_advisory_xact_lock(hashtext('${BACKUP_RUNS_TABLE}.prune'))
     AND id IN (SELECT id FROM ${BACKUP_RUNS_TABLE} ORDER BY finished_at DESC, id DESC OFFSET $1)
     AND id IS DISTINCT FROM (SELECT id FROM ${BACKUP_RUNS_TABLE} WHERE success ORDER BY finished_at DESC, id DESC LIMIT 1)`;

/** PostgreSQL's `read_only_sql_transaction`: a hot standby (a replica) refuses writes with it. */
const READ_ONLY = "25006";

export type RecordResult = { readonly recorded: true; readonly id: number; readonly pruned: number } | { readonly recorded: false; readonly reason: string };

/**
 * Writes the run as a row of the jobs database (where its exporter reads it) and prunes old rows, in one
 * transaction. A database that refuses writes because it is a replica is not an error: its rows are the primary's,
 * replayed, and the run is reported as not recorded.
 */
export async function recordBackupRun(databaseUrl: string, run: BackupRun, opts: { keep: number; logger?: Logger }): Promise<RecordResult> {
  const client = new Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000, application_name: "db-backup" });
  await client.connect();
  try {
    await client.query("BEGIN");
    try {
      const { rows } = await client.query<{ id: string }>(RECORD_RUN_SQL, [
        run.startedAt,
        run.finishedAt,
        run.success,
        run.location,
        run.key ?? null,
        run.bytes ?? null,
        run.tierCopies,
        run.success ? null : (run.error ?? "failed").slice(0, 4000),
      ]);
      const pruned = await client.query(PRUNE_RUNS_SQL, [opts.keep]);
      await client.query("COMMIT");
      return { recorded: true, id: Number(rows[0]!.id), pruned: pruned.rowCount ?? 0 };
    } catch (err) {
      await client.query("ROLLBACK").catch(() => undefined);
      if ((err as { code?: string }).code === READ_ONLY) return { recorded: false, reason: `the database is read-only (a replica): ${(err as Error).message}` };
      throw err;
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}
