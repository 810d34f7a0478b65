// No-op jobs through this queue, graphile-worker (its defaults, and its
// fastest documented configuration) and pg-boss on the same PostgreSQL, with
// the same job count and concurrency; every round runs each once, in an order
// that rotates, each from a vacuumed and checkpointed database, and the median
// of the rounds is reported. Last line: JSON.
//   BENCH_JOBS (5000)  BENCH_CONCURRENCY (10)  BENCH_ROUNDS (5)
//   BENCH_RUNNERS (all: ours,graphile_best,graphile_default,pgboss) to time only some of them
import { Logger, makeWorkerUtils, run } from "graphile-worker";
import { Pool } from "pg";
import PgBoss from "pg-boss";
import { Worker } from "../queue/worker";
import { GRAPHILE_FASTEST, type GraphileWorkerOptions } from "./graphile";
import { BENCH_MARK, benchDatabase, type BenchDatabase, exitOnError, intFromEnv, median, noopHandler, noStore, truncateJobs } from "./common";

const JOBS = intFromEnv("BENCH_JOBS", 5000);
const CONCURRENCY = intFromEnv("BENCH_CONCURRENCY", 10);
const ROUNDS = intFromEnv("BENCH_ROUNDS", 5);

type Runner = (db: BenchDatabase) => Promise<number>;

function countdown(n: number) {
  let done = 0;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  return { tick: () => ++done === n && finish(), finished };
}

async function ours(db: BenchDatabase): Promise<number> {
  await truncateJobs(db);
  await db.pool.query(
    `INSERT INTO container_jobs (type, payload) SELECT 'code', jsonb_build_object('n', n, '${BENCH_MARK}', true) FROM generate_series(1, $1) n`,
    [JOBS],
  );
  const { tick, finished } = countdown(JOBS);
  const pool = new Pool({ connectionString: db.url, max: CONCURRENCY + 4 });
  pool.on("error", () => undefined);
  const worker = new Worker({
    pool,
    databaseUrl: db.url,
    handler: noopHandler(),
    store: noStore,
    concurrency: CONCURRENCY,
    onSettled: tick,
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

function graphile(worker: GraphileWorkerOptions | undefined): Runner {
  return async (db) => {
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
    const { tick, finished } = countdown(JOBS);
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
      ...(worker ? { preset: { worker } } : {}),
    });
    runner.events.on("job:complete", tick);
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
  };
}

const PGBOSS_QUEUE = "pitchey-bench-noop";
const noop = async () => undefined;

/**
 * pg-boss 10 (the last major that runs on Node 20). It has no concurrency
 * setting, and each worker waits its polling interval (0.5 s at least)
 * between fetches even when jobs are waiting; its lever for throughput is the
 * batch size. So: `CONCURRENCY` workers, each fetching batches of 100 and
 * running a batch's jobs one after another (at most `CONCURRENCY` handlers at
 * once, as for the others), polling every 0.5 s.
 */
async function pgboss(db: BenchDatabase): Promise<number> {
  const boss = new PgBoss({ connectionString: db.url, max: CONCURRENCY + 4, supervise: false, schedule: false });
  boss.on("error", () => undefined);
  await boss.start();
  try {
    await boss.deleteQueue(PGBOSS_QUEUE).catch(() => undefined);
    await boss.createQueue(PGBOSS_QUEUE);
    for (let i = 0; i < JOBS; i += 1000) {
      await boss.insert(Array.from({ length: Math.min(1000, JOBS - i) }, (_, k) => ({ name: PGBOSS_QUEUE, data: { n: i + k } })));
    }
    const { tick, finished } = countdown(JOBS);
    const started = process.hrtime.bigint();
    for (let w = 0; w < CONCURRENCY; w++) {
      await boss.work(PGBOSS_QUEUE, { pollingIntervalSeconds: 0.5, batchSize: 100 }, async (jobs) => {
        for (let k = 0; k < jobs.length; k++) await noop().then(tick);
      });
    }
    await finished;
    // Handlers resolve before pg-boss marks the job completed.
    while ((await boss.getQueueSize(PGBOSS_QUEUE, { before: "completed" })) > 0) await new Promise((r) => setTimeout(r, 5));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return JOBS / seconds;
  } finally {
    await boss.stop({ graceful: false, wait: true, timeout: 2000 }).catch(() => undefined);
    await boss.deleteQueue(PGBOSS_QUEUE).catch(() => undefined);
  }
}

const ALL_RUNNERS: Array<[keyof Rates, Runner]> = [
  ["ours", ours],
  ["graphile_best", graphile(GRAPHILE_FASTEST)],
  ["graphile_default", graphile(undefined)],
  ["pgboss", pgboss],
];
const RUNNERS = chooseRunners(process.env.BENCH_RUNNERS);

function chooseRunners(list: string | undefined): Array<[keyof Rates, Runner]> {
  if (!list) return ALL_RUNNERS;
  const names = list.split(",").map((n) => n.trim());
  const unknown = names.filter((n) => !ALL_RUNNERS.some(([k]) => k === n));
  if (unknown.length > 0) throw new Error(`BENCH_RUNNERS: unknown runner(s) ${unknown.join(", ")}; known: ${ALL_RUNNERS.map(([k]) => k).join(", ")}`);
  return ALL_RUNNERS.filter(([k]) => names.includes(k));
}
interface Rates {
  ours: number[];
  graphile_best: number[];
  graphile_default: number[];
  pgboss: number[];
}

/**
 * Every timed run starts from the same state: no dead rows, autovacuum debt or
 * dirty buffers left behind by the runner before it (a deleted batch of
 * graphile-worker's, our updated rows, pg-boss's) for it to pay for. The
 * vacuum analyses too: otherwise autovacuum's own analyse of a table the
 * runner before churned could fall inside the next runner's timed run.
 */
async function quiesce(db: BenchDatabase): Promise<void> {
  for (const table of ["container_jobs", "graphile_worker._private_jobs", "pgboss.job"]) {
    const { rows } = await db.pool.query<{ t: string | null }>("SELECT to_regclass($1)::text AS t", [table]);
    if (rows[0]!.t) await db.pool.query(`VACUUM (ANALYZE) ${table}`);
  }
  // Needs superuser or pg_checkpoint; on a database that refuses, the vacuum alone has to do.
  await db.pool.query("CHECKPOINT").catch(() => undefined);
}

async function main(): Promise<void> {
  const db = await benchDatabase();
  // graphile-worker's utilities borrow clients from this pool; a server-side error on an idle one must not crash us.
  db.pool.on("connect", (client) => client.on("error", () => undefined));
  const rates: Rates = { ours: [], graphile_best: [], graphile_default: [], pgboss: [] };
  try {
    // One untimed warm-up each (JIT, connection setup, schema caches, peers' migrations).
    for (const [, runner] of RUNNERS) await runner(db);
    for (let round = 1; round <= ROUNDS; round++) {
      // Rotate who goes first, so no runner always inherits a warm cache or a pending autovacuum.
      const order = RUNNERS.map((_, i) => RUNNERS[(i + round - 1) % RUNNERS.length]!);
      const line: string[] = [];
      for (const [name, runner] of order) {
        await quiesce(db);
        const r = await runner(db);
        rates[name].push(r);
        line.push(`${name} ${r.toFixed(0)}`);
      }
      console.log(`round ${round}: ${line.join(", ")} jobs/s`);
    }
  } finally {
    await db.close();
  }
  const m = Object.fromEntries(
    Object.entries(rates).map(([k, v]) => [k, (v as number[]).length > 0 ? median(v as number[]) : undefined]),
  ) as Record<keyof Rates, number | undefined>;
  const rate = (x: number | undefined) => (x === undefined ? null : Math.round(x));
  console.log(`${JOBS} no-op jobs, concurrency ${CONCURRENCY}, median of ${ROUNDS} rounds (order rotating)`);
  console.log("| runner | jobs/s |\n|---|---|");
  console.log(`| ours | ${rate(m.ours) ?? "not run"} |`);
  console.log(`| graphile-worker, local queue 500 (refetch delay 10 ms) + batched completion | ${rate(m.graphile_best) ?? "not run"} |`);
  console.log(`| graphile-worker, defaults | ${rate(m.graphile_default) ?? "not run"} |`);
  console.log(`| pg-boss 10, ${CONCURRENCY} workers × batches of 100 | ${rate(m.pgboss) ?? "not run"} |`);
  console.log(
    JSON.stringify({
      ours_jobs_per_s: rate(m.ours),
      graphile_best_jobs_per_s: rate(m.graphile_best),
      graphile_default_jobs_per_s: rate(m.graphile_default),
      pgboss_jobs_per_s: rate(m.pgboss),
      ratio_vs_best: m.ours !== undefined && m.graphile_best !== undefined ? Number((m.ours / m.graphile_best).toFixed(2)) : null,
    }),
  );
}

main().catch(exitOnError);
