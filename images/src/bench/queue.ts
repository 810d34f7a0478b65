// No-op jobs through this queue and through graphile-worker on the same
// PostgreSQL with the same concurrency, alternating rounds. Last line: JSON.
import { Logger, makeWorkerUtils, run } from "graphile-worker";
import { Pool } from "pg";
import { Worker } from "../queue/worker";
import { BENCH_MARK, benchDatabase, type BenchDatabase, intFromEnv, median, noopHandler, noStore, exitOnError, truncateJobs } from "./common";

const JOBS = intFromEnv("BENCH_JOBS", 5000);
const CONCURRENCY = intFromEnv("BENCH_CONCURRENCY", 10);
const ROUNDS = intFromEnv("BENCH_ROUNDS", 5);

async function ours(db: BenchDatabase): Promise<number> {
  await truncateJobs(db);
  await db.pool.query(
    `INSERT INTO container_jobs (type, payload) SELECT 'code', jsonb_build_object('n', n, '${BENCH_MARK}', true) FROM generate_series(1, $1) n`,
    [JOBS],
  );
  let done = 0;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const pool = new Pool({ connectionString: db.url, max: CONCURRENCY + 4 });
  pool.on("error", () => undefined);
  const worker = new Worker({
    pool,
    databaseUrl: db.url,
    handler: noopHandler(),
    store: noStore,
    concurrency: CONCURRENCY,
    onSettled: () => ++done === JOBS && finish(),
  });
  const started = process.hrtime.bigint();
  await worker.start();
  await finished;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await worker.stop();
  await pool.end();
  const { rows } = await db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM container_jobs WHERE status = 'completed'");
  if (rows[0]!.n !== JOBS) throw new Error(`ours: ${rows[0]!.n} of ${JOBS} completed`);
  return JOBS / seconds;
}

// graphile-worker's tables may hold someone else's jobs: touch only this benchmark's task.
const GRAPHILE_TASK = "pitchey_bench_noop";
const GRAPHILE_OURS = `FROM graphile_worker._private_jobs j USING graphile_worker._private_tasks t
  WHERE j.task_id = t.id AND t.identifier = '${GRAPHILE_TASK}'`;
const GRAPHILE_DELETE_OURS = `DELETE ${GRAPHILE_OURS}`;
const GRAPHILE_COUNT_OURS = `SELECT count(*)::int AS n FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks t
  ON j.task_id = t.id WHERE t.identifier = '${GRAPHILE_TASK}'`;

async function graphile(db: BenchDatabase): Promise<number> {
  db.pool.on("connect", (client) => client.on("error", () => undefined));
  const utils = await makeWorkerUtils({ pgPool: db.pool });
  try {
    await utils.migrate();
    await db.pool.query(GRAPHILE_DELETE_OURS);
    for (let i = 0; i < JOBS; i += 1000) {
      const batch = Array.from({ length: Math.min(1000, JOBS - i) }, (_, k) => ({ identifier: GRAPHILE_TASK, payload: { n: i + k } }));
      await utils.addJobs(batch);
    }
  } finally {
    await utils.release();
  }
  let done = 0;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const started = process.hrtime.bigint();
  // Its own pool, like ours gets inside the processor; handed in so shutdown stays under our control.
  const pgPool = new Pool({ connectionString: db.url, max: CONCURRENCY + 4 });
  pgPool.on("error", () => undefined);
  pgPool.on("connect", (client) => client.on("error", () => undefined));
  const runner = await run({
    pgPool,
    concurrency: CONCURRENCY,
    noHandleSignals: true,
    pollInterval: 1000,
    taskList: { [GRAPHILE_TASK]: async () => undefined },
    logger: new Logger(() => () => undefined),
  });
  runner.events.on("job:complete", () => ++done === JOBS && finish());
  await finished;
  // job:complete fires before the row is deleted; the run ends when none of ours is left.
  for (let left = 1; left > 0; ) {
    const { rows } = await db.pool.query<{ n: number }>(GRAPHILE_COUNT_OURS);
    left = rows[0]!.n;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await runner.stop();
  await pgPool.end();
  return JOBS / seconds;
}

async function main(): Promise<void> {
  const db = await benchDatabase();
  const oursRates: number[] = [];
  const graphileRates: number[] = [];
  try {
    // One untimed warm-up each (JIT, connection setup, schema caches).
    await ours(db);
    await graphile(db);
    for (let round = 1; round <= ROUNDS; round++) {
      const a = await ours(db);
      const b = await graphile(db);
      oursRates.push(a);
      graphileRates.push(b);
      console.log(`round ${round}: ours ${a.toFixed(0)} jobs/s, graphile-worker ${b.toFixed(0)} jobs/s`);
    }
  } finally {
    await db.close();
  }
  const o = median(oursRates);
  const g = median(graphileRates);
  console.log(`${JOBS} no-op jobs, concurrency ${CONCURRENCY}, median of ${ROUNDS} alternating rounds`);
  console.log(JSON.stringify({ ours_jobs_per_s: Math.round(o), graphile_jobs_per_s: Math.round(g), ratio: Number((o / g).toFixed(2)) }));
}

main().catch(exitOnError);
