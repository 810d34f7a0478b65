import { Pool } from "pg";
import { Worker, type WorkerOptions } from "../src/queue/worker";
import { doublingHandler, unusedStore } from "./handlers";

/** A worker with test-sized timings, on its own pool; `stop` also closes the pool. */
export async function startWorker(url: string, opts: Partial<WorkerOptions> = {}) {
  const pool = new Pool({ connectionString: url, max: (opts.concurrency ?? 4) + 4, connectionTimeoutMillis: 3000 });
  pool.on("error", () => undefined);
  const worker = new Worker({
    pool,
    databaseUrl: url,
    handler: doublingHandler(),
    store: unusedStore,
    concurrency: 4,
    leaseSeconds: 3,
    heartbeatIntervalMs: 300,
    pollIntervalMs: 100,
    reapIntervalMs: 200,
    backoff: { baseMs: 50, maxMs: 400 },
    ...opts,
  });
  await worker.start();
  return {
    worker,
    pool,
    async stop(graceMs = 5000) {
      await worker.stop(graceMs);
      await pool.end();
    },
  };
}
