import type { Pool, QueryConfig, QueryResult, QueryResultRow } from "pg";
import type { JobType } from "../runtime/types";

/** A pool or a single connection. */
export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
}

/** Where the hot statements go: a pool, or a worker's own pipelined session (`Lane`). Named statements need the config form. */
export interface StatementTarget {
  query<R extends QueryResultRow = QueryResultRow>(query: QueryConfig): Promise<QueryResult<R>>;
}

export type JobStatus = "pending" | "processing" | "completed" | "failed" | "dead";

/** What the API shows of a job. */
export interface JobView {
  readonly id: string;
  readonly type: JobType;
  readonly status: JobStatus;
  readonly priority: number;
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly createdAt: Date;
  readonly startedAt: Date | null;
  readonly completedAt: Date | null;
  readonly result: unknown;
  readonly error: string | null;
  readonly progress: number | null;
  readonly progressMessage: string | null;
  readonly processingTimeSeconds: number | null;
  readonly estimatedCostUsd: number | null;
}

/** A job this worker holds a lease on. `attempt` is the fencing token together with the worker id. */
export interface ClaimedJob {
  readonly id: string;
  readonly type: JobType;
  readonly payload: unknown;
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly priority: number;
  /** Seconds between the job becoming runnable and this claim. */
  readonly waitSeconds: number;
}

export interface SubmitOptions {
  readonly priority?: number;
  readonly idempotencyKey?: string;
  readonly maxAttempts?: number;
  readonly runAt?: Date;
  /** The API client submitting the job (`api_clients.id`); idempotency keys are scoped to it. */
  readonly owner?: string;
}

export interface SubmitResult {
  readonly job: JobView;
  /** False when the idempotency key matched an existing job. */
  readonly created: boolean;
}

export class IdempotencyConflictError extends Error {
  override name = "IdempotencyConflictError";
  constructor(readonly existing: JobView) {
    super(`Idempotency key was already used for job ${existing.id} with a different payload`);
  }
}

export interface HeartbeatItem {
  readonly id: string;
  readonly attempt: number;
  readonly progress: number | null;
  readonly message: string | null;
}

export interface ReapedJob {
  readonly id: string;
  readonly type: JobType;
  readonly status: "pending" | "dead";
}

/**
 * Namespace of the session advisory locks workers hold while alive; the reaper
 * uses them to tell a crashed worker from a slow one before its lease runs out.
 */
export const LIVENESS_LOCK_NAMESPACE = 70_312;

const VIEW_COLUMNS = `id, type, status, priority, attempts, max_attempts, created_at, started_at,
  completed_at, result, error_message, progress, progress_message,
  processing_time_seconds::float8 AS processing_time_seconds, estimated_cost_usd::float8 AS estimated_cost_usd`;

interface ViewRow {
  id: string;
  type: JobType;
  status: JobStatus;
  priority: number;
  attempts: number;
  max_attempts: number;
  created_at: Date;
  started_at: Date | null;
  completed_at: Date | null;
  result: unknown;
  error_message: string | null;
  progress: number | null;
  progress_message: string | null;
  processing_time_seconds: number | null;
  estimated_cost_usd: number | null;
}

function toView(r: ViewRow): JobView {
  return {
    id: r.id,
    type: r.type,
    status: r.status,
    priority: r.priority,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    createdAt: r.created_at,
    startedAt: r.started_at,
    completedAt: r.completed_at,
    result: r.result,
    error: r.error_message,
    progress: r.progress,
    progressMessage: r.progress_message,
    processingTimeSeconds: r.processing_time_seconds,
    estimatedCostUsd: r.estimated_cost_usd,
  };
}

/**
 * How a batch write finds its rows. A join of the table with the batch (an
 * `unnest` or `jsonb_to_recordset`) lets the planner scan every processing
 * row (the whole prefetch buffer, from the partial status index) and rescan
 * the batch for each: with a thousand jobs held, 60–200 ms per write of 125
 * rows, growing with the buffer (quadratic), and a heartbeat of every held job
 * worse. So the rows are found by primary key (`id = ANY(ids)`), each row's
 * own values are looked up in a JSON object keyed by id (a binary search, in
 * C), and the status test is written so the partial status index cannot
 * answer it (`IS TRUE`), which leaves the primary key as the only way in.
 */
const FENCED_PROCESSING = "(j.status = 'processing') IS TRUE";

/**
 * Records a batch of successes, each fenced on (worker, attempt): $1 the ids
 * (`uuid[]`), $2 a JSON object keyed by id of `{ a: attempt, r: result,
 * s: seconds, c: cost }`, $3 the worker. Returns nothing: its row count says
 * whether every job of the batch was still owned (nearly always), and only
 * when it falls short does {@link COMPLETED_ATTEMPTS_SQL} ask which. A
 * `RETURNING` of the ids, gathered into one array, cost the server about a
 * quarter of the write.
 */
export const COMPLETE_MANY_SQL = `UPDATE container_jobs j
          SET status = 'completed', result = $2::jsonb -> j.id::text -> 'r', error_message = NULL, completed_at = now(),
              processing_time_seconds = ($2::jsonb -> j.id::text ->> 's')::numeric,
              estimated_cost_usd = coalesce(j.estimated_cost_usd, 0) + ($2::jsonb -> j.id::text ->> 'c')::numeric,
              progress = 1, locked_by = NULL, lease_expires_at = NULL, heartbeat_at = NULL
        WHERE j.id = ANY($1::uuid[]) AND j.attempts = ($2::jsonb -> j.id::text ->> 'a')::int
          AND j.locked_by = $3 AND ${FENCED_PROCESSING}`;

/**
 * Which jobs of a batch stand completed at the attempt this worker ran: $1
 * the ids, $2 the batch's JSON object (its `a` is the attempt). Asked after a
 * completion write changed fewer rows than it carried, and after a retried
 * write (its first try may have committed before the connection dropped).
 * Attempt numbers identify a claim: every claim takes the next number, and
 * the only step back, a release, is made by the holder of the attempt, which
 * then never completes it. So a job completed at our attempt was completed by
 * us. (An operator's requeue starts attempts over; a requeued job run up to
 * the same number and completed in the milliseconds between our write and
 * this check would be counted as ours in the metrics. The row is right
 * either way.)
 */
export const COMPLETED_ATTEMPTS_SQL = `SELECT coalesce(json_agg(j.id), '[]') AS ids FROM container_jobs j
        WHERE j.id = ANY($1::uuid[]) AND j.attempts = ($2::jsonb -> j.id::text ->> 'a')::int
          AND (j.status = 'completed') IS TRUE`;

/**
 * Renews the leases of held jobs: $1 the ids, $2 a JSON object keyed by id of
 * `{ a: attempt, p: progress, m: message }`, $3 the lease in seconds, $4 the
 * worker. Returns the ids still owned.
 */
export const HEARTBEAT_SQL = `WITH renewed AS (
         UPDATE container_jobs j
            SET lease_expires_at = now() + make_interval(secs => $3), heartbeat_at = now(),
                progress = ($2::jsonb -> j.id::text ->> 'p')::real, progress_message = $2::jsonb -> j.id::text ->> 'm'
          WHERE j.id = ANY($1::uuid[]) AND j.attempts = ($2::jsonb -> j.id::text ->> 'a')::int
            AND j.locked_by = $4 AND ${FENCED_PROCESSING}
         RETURNING j.id
       )
       SELECT coalesce(json_agg(id), '[]') AS ids FROM renewed`;

/**
 * Leases up to $3 runnable jobs of type $1 for worker $2 (container $4, lease
 * $5 seconds), by priority then age. The claimed rows come back as one JSON
 * array (one parse in the worker rather than a parser call per column of
 * every row), made by `json_agg` over a row whose column names are the
 * {@link ClaimedJob} fields: building a JSON object per row from name/value
 * pairs (`json_build_object`) cost the server as much as the row update
 * itself. `date_part` stays in float8 where `extract` computes in numeric.
 * The locked rows are updated through `id = ANY(ARRAY(...))`, which the
 * planner can only answer from the primary key: written as a join with the
 * locked set, it chose, once the table had statistics, a hash join over a
 * sequential scan of the whole table, so every claim read every row.
 */
export const CLAIM_SQL = `WITH next AS (
         SELECT id FROM runnable_container_jobs
          WHERE type = $1
          ORDER BY priority, created_at
          LIMIT $3
          FOR UPDATE SKIP LOCKED
       ), claimed AS (
         UPDATE container_jobs j
            SET status = 'processing', attempts = j.attempts + 1, locked_by = $2, container_id = $4,
                lease_expires_at = now() + make_interval(secs => $5), lease_seconds = $5, heartbeat_at = now(),
                started_at = now(), progress = NULL, progress_message = NULL
          WHERE j.id = ANY(ARRAY(SELECT id FROM next))
         RETURNING j.id, j.type, j.payload, j.attempts, j.max_attempts, j.priority, j.created_at,
                   greatest(0, date_part('epoch', now() - greatest(j.run_at, j.created_at))) AS wait
       )
       SELECT coalesce(json_agg(c), '[]') AS jobs
         FROM (SELECT id, type, payload, attempts AS attempt, max_attempts AS "maxAttempts", priority, wait AS "waitSeconds"
                 FROM claimed ORDER BY priority, created_at) c`;

/**
 * Settings of the session claims run on (the worker's claim lane, which runs
 * nothing else). With sorting off, the planner takes the one path that needs
 * no sort: `idx_jobs_type_priority` walked in order, stopping after the
 * limit. Left to its statistics, it sorts: when they are older than a burst
 * of submissions (a table of finished jobs analysed, then tens of thousands
 * submitted), it estimates a pending row or two, reads every pending job
 * through `idx_jobs_pending` and sorts them all for each claim: 50,000
 * pending jobs made each claim of 500 cost 60 % more at the start and every
 * claim read the whole backlog. The claimed rows' final ordering still sorts
 * (it has no other way).
 */
export const CLAIM_SESSION_SETTINGS: readonly string[] = ["SET enable_sort = off"];

/** A `uuid[]` literal; ids come from the database, so they need no quoting. */
const uuidArray = (ids: readonly string[]) => `{${ids.join(",")}}`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Every statement the queue runs. Updates by a worker are fenced on (locked_by, attempts). */
export class JobQueue {
  constructor(readonly pool: Pool) {}

  async submit(type: JobType, payload: unknown, opts: SubmitOptions = {}): Promise<SubmitResult> {
    const params = [
      type,
      JSON.stringify(payload ?? null),
      opts.priority ?? 0,
      opts.maxAttempts ?? 5,
      opts.runAt ?? null,
      opts.idempotencyKey ?? null,
      opts.owner ?? null,
    ];
    // ON CONFLICT DO NOTHING waits for a concurrent insert of the same key to
    // commit, so the follow-up SELECT always finds the winner.
    const inserted = await this.pool.query<ViewRow>(
      `INSERT INTO container_jobs (type, payload, priority, max_attempts, run_at, idempotency_key, owner_client_id)
       VALUES ($1, $2::jsonb, $3, $4, coalesce($5, now()), $6, $7::uuid)
       ON CONFLICT (type, owner_client_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
       RETURNING ${VIEW_COLUMNS}`,
      params,
    );
    if (inserted.rows[0]) return { job: toView(inserted.rows[0]), created: true };
    const existing = await this.pool.query<ViewRow & { same_payload: boolean }>(
      `SELECT ${VIEW_COLUMNS}, payload = $3::jsonb AS same_payload
         FROM container_jobs WHERE type = $1 AND idempotency_key = $2 AND owner_client_id IS NOT DISTINCT FROM $4::uuid`,
      [type, opts.idempotencyKey, params[1], opts.owner ?? null],
    );
    const row = existing.rows[0];
    if (!row) throw new Error("Idempotent insert found neither a new nor an existing job");
    if (!row.same_payload) throw new IdempotencyConflictError(toView(row));
    return { job: toView(row), created: false };
  }

  /** With `owner`, only that client's job: another's (or an ownerless one) is as absent as an unknown id. */
  async get(id: string, type?: JobType, owner?: string): Promise<JobView | undefined> {
    if (!UUID.test(id)) return undefined;
    const { rows } = await this.pool.query<ViewRow>(
      `SELECT ${VIEW_COLUMNS} FROM container_jobs
        WHERE id = $1 AND ($2::text IS NULL OR type = $2) AND ($3::uuid IS NULL OR owner_client_id = $3::uuid)`,
      [id, type ?? null, owner ?? null],
    );
    return rows[0] ? toView(rows[0]) : undefined;
  }

  /**
   * Leases up to `limit` runnable jobs, highest priority (lowest number) then
   * oldest first, returned in that order. The rows come back as one JSON
   * document: a claim of hundreds of jobs is then one parse in the worker
   * instead of a parser call per column of every row.
   */
  async claim(
    type: JobType,
    workerId: string,
    containerId: string,
    limit: number,
    leaseSeconds: number,
    db: StatementTarget = this.pool,
  ): Promise<ClaimedJob[]> {
    const { rows } = await db.query<{ jobs: ClaimedJob[] }>({
      name: "pitchey_claim",
      text: CLAIM_SQL,
      values: [type, workerId, limit, containerId, leaseSeconds],
    });
    return rows[0]!.jobs;
  }

  /** Extends the leases still held; returns the ids this worker still owns. */
  async heartbeat(workerId: string, items: readonly HeartbeatItem[], leaseSeconds: number, db: Queryable = this.pool): Promise<Set<string>> {
    if (items.length === 0) return new Set();
    const byId: Record<string, { a: number; p: number | null; m: string | null }> = {};
    for (const i of items) byId[i.id] = { a: i.attempt, p: i.progress, m: i.message };
    const { rows } = await db.query<{ ids: string[] }>(
      HEARTBEAT_SQL,
      [uuidArray(items.map((i) => i.id)), JSON.stringify(byId), leaseSeconds, workerId],
    );
    return new Set(rows[0]!.ids);
  }

  /** Records success; false when the lease was lost and someone else owns the job now. */
  async complete(job: ClaimedJob, workerId: string, result: unknown, durationSeconds: number, costUsd: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE container_jobs
          SET status = 'completed', result = $4::jsonb, error_message = NULL, completed_at = now(),
              processing_time_seconds = $5, estimated_cost_usd = coalesce(estimated_cost_usd, 0) + $6,
              progress = 1, locked_by = NULL, lease_expires_at = NULL, heartbeat_at = NULL
        WHERE id = $1 AND locked_by = $2 AND attempts = $3 AND status = 'processing'`,
      [job.id, workerId, job.attempt, JSON.stringify(result ?? null), durationSeconds, costUsd],
    );
    return rowCount === 1;
  }

  /**
   * Records many successes in one statement, each fenced like `complete`;
   * returns the ids that were still owned. `retried` says an earlier try of
   * this batch may have committed already, so a short count is checked even
   * when it is zero.
   */
  async completeMany(
    workerId: string,
    items: ReadonlyArray<{ job: ClaimedJob; result: unknown; durationSeconds: number; costUsd: number }>,
    retried = false,
    db: StatementTarget = this.pool,
  ): Promise<Set<string>> {
    if (items.length === 0) return new Set();
    // Both parameters written as text directly: an object per job and a
    // stringify of the whole cost more than the rest of the worker's work per job.
    let ids = "";
    let byId = "";
    for (const { job, result, durationSeconds, costUsd } of items) {
      const sep = ids === "" ? "" : ",";
      ids += sep + job.id;
      byId += `${sep}"${job.id}":{"a":${job.attempt},"r":${JSON.stringify(result ?? null) ?? "null"},"s":${JSON.stringify(durationSeconds)},"c":${JSON.stringify(costUsd)}}`;
    }
    const values = [`{${ids}}`, `{${byId}}`];
    const { rowCount } = await db.query({ name: "pitchey_complete", text: COMPLETE_MANY_SQL, values: [...values, workerId] });
    if (rowCount === items.length) return new Set(items.map((i) => i.job.id));
    if (rowCount === 0 && !retried) return new Set();
    const { rows } = await db.query<{ ids: string[] }>({ text: COMPLETED_ATTEMPTS_SQL, values });
    return new Set(rows[0]!.ids);
  }

  /**
   * Records a failed attempt: back to pending after `retryDelayMs`, or `dead`
   * once attempts are used up, or `failed` when the error is permanent.
   * Returns the new status, or "lost" when the lease had been lost.
   */
  async fail(
    job: ClaimedJob,
    workerId: string,
    error: string,
    durationSeconds: number,
    costUsd: number,
    retryDelayMs: number,
    permanent = false,
  ): Promise<"pending" | "dead" | "failed" | "lost"> {
    const { rows } = await this.pool.query<{ status: "pending" | "dead" | "failed" }>(
      `UPDATE container_jobs
          SET status = CASE WHEN $7 THEN 'failed' WHEN attempts >= max_attempts THEN 'dead' ELSE 'pending' END,
              run_at = now() + make_interval(secs => $6 / 1000.0),
              completed_at = CASE WHEN $7 OR attempts >= max_attempts THEN now() END,
              error_message = $4, processing_time_seconds = $5,
              estimated_cost_usd = coalesce(estimated_cost_usd, 0) + $8,
              locked_by = NULL, lease_expires_at = NULL, heartbeat_at = NULL
        WHERE id = $1 AND locked_by = $2 AND attempts = $3 AND status = 'processing'
       RETURNING status`,
      [job.id, workerId, job.attempt, error.slice(0, 8000), durationSeconds, retryDelayMs, permanent, costUsd],
    );
    return rows[0]?.status ?? "lost";
  }

  /** Gives a job back without counting the attempt (shutdown); false when the lease was lost. */
  async release(job: ClaimedJob, workerId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE container_jobs
          SET status = 'pending', attempts = attempts - 1, run_at = now(), started_at = NULL,
              locked_by = NULL, lease_expires_at = NULL, heartbeat_at = NULL
        WHERE id = $1 AND locked_by = $2 AND attempts = $3 AND status = 'processing'`,
      [job.id, workerId, job.attempt],
    );
    return rowCount === 1;
  }

  /** Gives back jobs that never started, without counting the attempt; returns how many were still ours. */
  async releaseMany(workerId: string, jobs: readonly ClaimedJob[]): Promise<number> {
    if (jobs.length === 0) return 0;
    const attempts: Record<string, number> = {};
    for (const j of jobs) attempts[j.id] = j.attempt;
    const { rowCount } = await this.pool.query(
      `UPDATE container_jobs j
          SET status = 'pending', attempts = j.attempts - 1, run_at = now(), started_at = NULL,
              locked_by = NULL, lease_expires_at = NULL, heartbeat_at = NULL
        WHERE j.id = ANY($1::uuid[]) AND j.attempts = ($2::jsonb ->> j.id::text)::int
          AND j.locked_by = $3 AND ${FENCED_PROCESSING}`,
      [uuidArray(jobs.map((j) => j.id)), JSON.stringify(attempts), workerId],
    );
    return rowCount ?? 0;
  }

  /**
   * Returns jobs of lost workers to pending (or dead when out of attempts).
   * Each job is judged by the lease recorded on it, never by the reaper's own:
   * - its worker's session is alive (it holds its liveness lock): only once the
   *   lease has expired (a stuck worker);
   * - its worker's session is gone: once the job has missed two heartbeats (a
   *   third of its lease), but only when `trustLocks` says the reaper has been
   *   connected long enough for live workers to have re-taken their locks after
   *   an outage, and the server itself has been up that long. A database
   *   restart drops every session at once; without these conditions every job
   *   would look orphaned the moment it comes back.
   * Jobs `reaperId` still holds (`heldIds`) are never touched: their outcome
   * may still be on its way. The lost rows are updated by primary key, like
   * the claim's (see {@link CLAIM_SQL}), never through a join that could read
   * the whole table every few seconds.
   */
  async reap(reaperId: string, heldIds: readonly string[], opts: { trustLocks: boolean; settleSeconds: number }): Promise<ReapedJob[]> {
    const { rows } = await this.pool.query<ReapedJob>(
      `WITH live AS MATERIALIZED (
         SELECT l.objid FROM pg_locks l
          WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::int::oid AND l.objsubid = 2
            AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
       ), lost AS (
         SELECT id FROM container_jobs j
          WHERE status = 'processing'
            AND NOT (j.locked_by = $2 AND j.id = ANY($3::uuid[]))
            AND CASE WHEN hashtext(j.locked_by)::oid IN (SELECT objid FROM live)
                     THEN j.lease_expires_at < now()
                     ELSE $4::boolean
                          AND pg_postmaster_start_time() < now() - make_interval(secs => $5)
                          AND j.heartbeat_at < now() - make_interval(secs => coalesce(j.lease_seconds, 30) / 3.0)
                END
          FOR UPDATE SKIP LOCKED
       )
       UPDATE container_jobs j
          SET status = CASE WHEN j.attempts >= j.max_attempts THEN 'dead' ELSE 'pending' END,
              completed_at = CASE WHEN j.attempts >= j.max_attempts THEN now() END,
              error_message = 'lease lost: worker ' || j.locked_by || ' stopped during attempt ' || j.attempts,
              run_at = now(), locked_by = NULL, lease_expires_at = NULL, heartbeat_at = NULL
        WHERE j.id = ANY(ARRAY(SELECT id FROM lost))
       RETURNING j.id, j.type, j.status`,
      [LIVENESS_LOCK_NAMESPACE, reaperId, heldIds, opts.trustLocks, opts.settleSeconds],
    );
    return rows;
  }

  /** Jobs of this type a worker could claim now: the autoscaler's figure. */
  async runnableCount(type: JobType): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>("SELECT runnable_job_count($1) AS n", [type]);
    return Number(rows[0]!.n);
  }

  /** Pending jobs per type, runnable or scheduled. */
  async depth(): Promise<Map<JobType, number>> {
    const { rows } = await this.pool.query<{ type: JobType; n: number }>(
      `SELECT type, count(*)::int AS n FROM container_jobs WHERE status = 'pending' GROUP BY type`,
    );
    return new Map(rows.map((r) => [r.type, r.n]));
  }
}
