// A database outage under load: workers keep running jobs while the server
// stops for a while and starts again on the same data. Counts how often each
// job's handler ran. No worker dies, so every job must run exactly once.
import { Pool } from "pg";
import { z } from "zod";
import type { EmbeddedDatabase } from "../dev/embedded-db";
import { JobQueue } from "../queue/queue";
import { Worker, type WorkerOptions } from "../queue/worker";
import type { JobHandler } from "../runtime/types";
import { noStore } from "./common";

export interface OutageDrillOptions {
  readonly db: EmbeddedDatabase;
  readonly outageMs: number;
  readonly workers?: number;
  readonly concurrency?: number;
  /** Jobs submitted per second while the database is up. Default 100. */
  readonly jobsPerSecond?: number;
  /** Load before the outage and after the database is back. Default 2000 ms each. */
  readonly loadMs?: number;
  /** Worker timings; production defaults unless given. */
  readonly worker?: Partial<Pick<WorkerOptions, "leaseSeconds" | "heartbeatIntervalMs" | "reapIntervalMs" | "pollIntervalMs" | "reconnectSettleMs">>;
  /** How long to wait for every job to finish once the load stops. Default two leases plus 30 s. */
  readonly settleTimeoutMs?: number;
}

export interface OutageDrillResult {
  readonly outage_s: number;
  readonly jobs: number;
  readonly completed: number;
  /** Jobs whose handler ran more than once. */
  readonly duplicate_runs: number;
  /** Jobs not completed when the drill gave up waiting. */
  readonly lost: number;
  readonly max_attempts: number;
  /** From the server accepting connections again to the last job completing. */
  readonly drain_after_outage_s: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const DrillPayload = z.object({ n: z.number().int(), sleepMs: z.number().int().min(0) });

export async function runOutageDrill(opts: OutageDrillOptions): Promise<OutageDrillResult> {
  const { db } = opts;
  const loadMs = opts.loadMs ?? 2000;
  const rate = opts.jobsPerSecond ?? 100;
  const leaseSeconds = opts.worker?.leaseSeconds ?? 30;
  const runs = new Map<string, number>();
  const handler: JobHandler<z.infer<typeof DrillPayload>, { n: number }> = {
    type: "code",
    payloadSchema: DrillPayload,
    async run(p, ctx) {
      runs.set(ctx.jobId, (runs.get(ctx.jobId) ?? 0) + 1);
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, p.sleepMs);
        ctx.signal.addEventListener("abort", () => (clearTimeout(t), reject(ctx.signal.reason)), { once: true });
      });
      return { n: p.n };
    },
  };
  const pools: Pool[] = [];
  const workers: Worker[] = [];
  const concurrency = opts.concurrency ?? 4;
  for (let i = 0; i < (opts.workers ?? 3); i++) {
    const pool = new Pool({ connectionString: db.url, max: concurrency + 4, connectionTimeoutMillis: 3000 });
    pool.on("error", () => undefined);
    pools.push(pool);
    workers.push(new Worker({ pool, databaseUrl: db.url, handler, store: noStore, concurrency, ...opts.worker }));
  }
  const submitPool = new Pool({ connectionString: db.url, max: 4, connectionTimeoutMillis: 2000 });
  submitPool.on("error", () => undefined);
  const queue = new JobQueue(submitPool);
  const ids = new Set<string>();
  let n = 0;
  let submitting = true;
  // One job every 1000/rate ms; a submission the outage refuses is retried with the same key, so none is doubled.
  const submitter = (async () => {
    while (submitting) {
      const key = `drill-${n}`;
      const payload = { n, sleepMs: 10 + (n % 10) * 10 };
      for (;;) {
        try {
          const { job } = await queue.submit("code", payload, { idempotencyKey: key });
          ids.add(job.id);
          break;
        } catch {
          if (!submitting) return;
          await sleep(200);
        }
      }
      n++;
      await sleep(1000 / rate);
    }
  })();
  const countCompleted = async () => {
    try {
      const { rows } = await submitPool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM container_jobs WHERE status = 'completed' AND id = ANY($1::uuid[])",
        [[...ids]],
      );
      return rows[0]!.n;
    } catch {
      return -1;
    }
  };
  let backAt = 0;
  let doneAt = 0;
  try {
    await Promise.all(workers.map((w) => w.start()));
    await sleep(loadMs);
    await db.restart(opts.outageMs);
    backAt = Date.now();
    await sleep(loadMs);
    submitting = false;
    await submitter;
    const deadline = Date.now() + (opts.settleTimeoutMs ?? 2 * leaseSeconds * 1000 + 30_000);
    while ((await countCompleted()) !== ids.size && Date.now() < deadline) await sleep(200);
    doneAt = Date.now();
  } finally {
    submitting = false;
    await submitter;
    await Promise.all(workers.map((w) => w.stop(2000)));
    await Promise.all(pools.map((p) => p.end()));
  }
  const drained = (doneAt - backAt) / 1000;
  const { rows } = await submitPool.query<{ id: string; status: string; attempts: number }>(
    "SELECT id, status, attempts FROM container_jobs WHERE id = ANY($1::uuid[])",
    [[...ids]],
  );
  await submitPool.end();
  const completed = rows.filter((r) => r.status === "completed").length;
  return {
    outage_s: opts.outageMs / 1000,
    jobs: ids.size,
    completed,
    duplicate_runs: [...runs.values()].filter((c) => c > 1).length,
    lost: ids.size - completed,
    max_attempts: Math.max(0, ...rows.map((r) => r.attempts)),
    drain_after_outage_s: Number(drained.toFixed(2)),
  };
}
