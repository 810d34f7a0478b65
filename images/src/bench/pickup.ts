// Latency from submitting a job to an idle worker claiming it (LISTEN/NOTIFY
// path; the 1 s poll is only the fallback). Last line: JSON.
import { Pool } from "pg";
import { JobQueue } from "../queue/queue";
import { Worker } from "../queue/worker";
import { BENCH_MARK, benchDatabase, intFromEnv, median, noopHandler, noStore, exitOnError } from "./common";

const SAMPLES = intFromEnv("BENCH_SAMPLES", 200);

async function main(): Promise<void> {
  const db = await benchDatabase();
  const pool = new Pool({ connectionString: db.url, max: 8 });
  pool.on("error", () => undefined);
  let claimed: ((at: bigint) => void) | undefined;
  const worker = new Worker({
    pool,
    databaseUrl: db.url,
    handler: noopHandler(),
    store: noStore,
    onClaim: () => claimed?.(process.hrtime.bigint()),
  });
  const queue = new JobQueue(db.pool);
  const samples: number[] = [];
  try {
    await worker.start();
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < SAMPLES + 10; i++) {
      const claim = new Promise<bigint>((resolve) => (claimed = resolve));
      const t0 = process.hrtime.bigint();
      await queue.submit("code", { i, [BENCH_MARK]: true });
      const ms = Number((await claim) - t0) / 1e6;
      // The first few warm up connections and JIT.
      if (i >= 10) samples.push(ms);
      // Let the worker go idle again, as it would be between real submissions.
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 10));
    }
  } finally {
    await worker.stop();
    await pool.end();
    await db.close();
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const p = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  console.log(`${SAMPLES} submissions, one idle worker, submit → claim`);
  console.log(JSON.stringify({ pickup_p50_ms: Number(median(samples).toFixed(2)), pickup_p95_ms: Number(p(0.95).toFixed(2)), pickup_max_ms: Number(sorted[sorted.length - 1]!.toFixed(2)) }));
}

main().catch(exitOnError);
