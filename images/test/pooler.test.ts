import { Pool } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobQueue } from "../src/queue/queue";
import { doublingHandler, waitFor } from "./handlers";
import { startTestDatabase, type TestDatabase } from "./pg";
import { startPgBouncer, type PgBouncer } from "./pgbouncer";
import { startWorker } from "./worker";
import { requireTool } from "../src/dev/tools";

/**
 * The program puts the operator's PgBouncer Pooler in session mode in front of the jobs database, and the workers'
 * LISTEN connection goes through it like every other connection. These tests run the real worker through a real
 * PgBouncer: with polling effectively off, a job can only be picked up promptly if its NOTIFY reaches the worker.
 */
let db: TestDatabase;
let direct: Pool;
let queue: JobQueue;
const bouncers: PgBouncer[] = [];

beforeAll(async () => {
  requireTool("pgbouncer");
  db = await startTestDatabase();
  direct = new Pool({ connectionString: db.url, max: 4 });
  direct.on("error", () => undefined);
  queue = new JobQueue(direct);
});
afterAll(async () => {
  await Promise.all(bouncers.map((b) => b.stop()));
  await direct?.end();
  await db?.stop();
});

/** A worker through `mode` pooling that only wakes on notifications (and once at start). */
async function notifiedPickup(mode: "session" | "transaction", waitMs: number): Promise<boolean> {
  const bouncer = await startPgBouncer(db.url, mode);
  bouncers.push(bouncer);
  await direct.query("TRUNCATE container_jobs");
  const w = await startWorker(bouncer.url, { handler: doublingHandler(), pollIntervalMs: 600_000, concurrency: 2 });
  try {
    // Connected, then a pause long enough for the listener to be in place and the start-up wake-ups to pass, so
    // only a notification can trigger the claim.
    await waitFor(() => w.worker.databaseReachable, 10_000);
    await new Promise((r) => setTimeout(r, 1_000));
    const { job } = await queue.submit("code", { n: 21 });
    try {
      await waitFor(async () => (await queue.get(job.id))?.status === "completed", waitMs, 50);
      return true;
    } catch {
      return false;
    }
  } finally {
    await w.stop();
  }
}

describe("worker LISTEN/NOTIFY through PgBouncer", () => {
  it("session pooling (what the Pooler is configured with) delivers notifications to the worker", async () => {
    expect(await notifiedPickup("session", 5_000)).toBe(true);
  });

  it("session pooling carries each worker's pipelined claims and completion writes: every job once", async () => {
    const bouncer = await startPgBouncer(db.url, "session");
    bouncers.push(bouncer);
    await direct.query("TRUNCATE container_jobs");
    await direct.query("INSERT INTO container_jobs (type, payload) SELECT 'code', jsonb_build_object('n', n) FROM generate_series(1, 3000) n");
    const runs = new Map<number, number>();
    const handler = doublingHandler({ onRun: (p) => runs.set(p.n, (runs.get(p.n) ?? 0) + 1) });
    const workers = await Promise.all([1, 2].map(() => startWorker(bouncer.url, { handler, concurrency: 8 })));
    try {
      await waitFor(async () => (await direct.query<{ n: number }>("SELECT count(*)::int AS n FROM container_jobs WHERE status = 'completed'")).rows[0]!.n === 3000, 60_000, 100);
      // Each worker's claims and writes went through a session of their own, named for the worker.
      const { rows } = await direct.query<{ application_name: string }>("SELECT application_name FROM pg_stat_activity WHERE application_name LIKE 'claims %' OR application_name LIKE 'writes %'");
      expect(rows.length).toBeGreaterThanOrEqual(2);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
    const { rows } = await direct.query<{ attempts: number; n: number }>("SELECT attempts, count(*)::int AS n FROM container_jobs GROUP BY attempts");
    expect(rows).toEqual([{ attempts: 1, n: 3000 }]);
    expect(runs.size).toBe(3000);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
  });

  it("transaction pooling would lose them: the same job is not picked up without polling", async () => {
    expect(await notifiedPickup("transaction", 3_000)).toBe(false);
  });
});
