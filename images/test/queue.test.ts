import { Pool } from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Lane } from "../src/queue/lane";
import { CLAIM_SESSION_SETTINGS, CLAIM_SQL, type ClaimedJob, COMPLETE_MANY_SQL, COMPLETED_ATTEMPTS_SQL, HEARTBEAT_SQL, JobQueue } from "../src/queue/queue";
import type { Outcome } from "../src/queue/worker";
import { doublingHandler, waitFor } from "./handlers";
import { startTestDatabase, type TestDatabase } from "./pg";
import { startWorker } from "./worker";

let db: TestDatabase;
let pool: Pool;
let queue: JobQueue;

beforeAll(async () => {
  db = await startTestDatabase();
  pool = new Pool({ connectionString: db.url, max: 60 });
  // Idle connections die with the server at the end of the file.
  pool.on("error", () => undefined);
  queue = new JobQueue(pool);
});
afterAll(async () => {
  await pool?.end();
  await db?.stop();
});
beforeEach(async () => {
  await pool.query("TRUNCATE container_jobs");
});

/** A reaper that holds nothing and trusts missing liveness locks at once. */
const reap = (reaperId = "reaper") => queue.reap(reaperId, [], { trustLocks: true, settleSeconds: 0 });

const statusCounts = async () => {
  const { rows } = await pool.query<{ status: string; n: number }>(
    "SELECT status, count(*)::int AS n FROM container_jobs GROUP BY status",
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
};

describe("queue", () => {
  it("reaches each row of a batch write by primary key, without joining the batch, however many jobs are held", async () => {
    // Joined with its batch, a write could scan every held row and rescan the batch for each: quadratic in
    // the prefetch buffer. The plan must be one pass over the rows, never through the partial status index.
    await pool.query("INSERT INTO container_jobs (type, payload) SELECT 'code', jsonb_build_object('n', n) FROM generate_series(1, 2000) n");
    const held = await queue.claim("code", "w", "pod", 1500, 30);
    expect(held).toHaveLength(1500);
    const batch = held.slice(0, 125);
    const literal = (jobs: typeof held) => `{${jobs.map((j) => j.id).join(",")}}`;
    const cases: Array<[string, unknown[]]> = [
      [COMPLETE_MANY_SQL, [literal(batch), JSON.stringify(Object.fromEntries(batch.map((j) => [j.id, { a: j.attempt, r: null, s: 0.001, c: 0 }]))), "w"]],
      [COMPLETED_ATTEMPTS_SQL, [literal(batch), JSON.stringify(Object.fromEntries(batch.map((j) => [j.id, { a: j.attempt }])))]],
      [HEARTBEAT_SQL, [literal(held), JSON.stringify(Object.fromEntries(held.map((j) => [j.id, { a: j.attempt, p: null, m: null }]))), 30, "w"]],
    ];
    type PlanNode = { "Node Type": string; "Index Name"?: string; "Join Filter"?: string; Plans?: PlanNode[] };
    const flatten = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(flatten)];
    for (const [sql, values] of cases) {
      const { rows } = await pool.query<{ "QUERY PLAN": Array<{ Plan: PlanNode }> }>(`EXPLAIN (FORMAT JSON) ${sql}`, values);
      const nodes = flatten(rows[0]!["QUERY PLAN"][0]!.Plan);
      const types = nodes.map((n) => n["Node Type"]);
      if (sql !== COMPLETED_ATTEMPTS_SQL) expect(types).toContain("ModifyTable");
      expect(types.filter((t) => /Nested Loop|Hash Join|Merge Join|Function Scan/.test(t))).toEqual([]);
      expect(nodes.map((n) => n["Index Name"]).filter((i) => i && i !== "container_jobs_pkey")).toEqual([]);
    }
    // And they do what they say.
    expect(await queue.completeMany("w", batch.map((job) => ({ job, result: { ok: true }, durationSeconds: 0.001, costUsd: 0 })))).toEqual(
      new Set(batch.map((j) => j.id)),
    );
    const renewed = await queue.heartbeat("w", held.map((j) => ({ id: j.id, attempt: j.attempt, progress: 0.5, message: "half" })), 30);
    expect(renewed).toEqual(new Set(held.slice(125).map((j) => j.id)));
    expect(await statusCounts()).toEqual({ completed: 125, processing: 1375, pending: 500 });
  });

  it("claims through the primary key, never reading the whole table, once it has statistics", async () => {
    // Joined with the set of locked rows, the claim's update was planned, with statistics, as a hash join
    // over a sequential scan of the table: every claim of 250 jobs read every row, finished ones included.
    await pool.query("INSERT INTO container_jobs (type, payload) SELECT 'code', jsonb_build_object('n', n) FROM generate_series(1, 5000) n");
    await pool.query("ANALYZE container_jobs");
    type PlanNode = { "Node Type": string; "Relation Name"?: string; Plans?: PlanNode[] };
    const flatten = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(flatten)];
    const { rows } = await pool.query<{ "QUERY PLAN": Array<{ Plan: PlanNode }> }>(`EXPLAIN (FORMAT JSON) ${CLAIM_SQL}`, ["code", "w", 250, "pod", 30]);
    const nodes = flatten(rows[0]!["QUERY PLAN"][0]!.Plan);
    expect(nodes.map((n) => n["Node Type"])).toContain("ModifyTable");
    expect(nodes.filter((n) => n["Node Type"] === "Seq Scan" || /Hash Join|Merge Join/.test(n["Node Type"]))).toEqual([]);
    // And it does what it says: the first 250 by priority then age, leased to the worker.
    const claimed = await queue.claim("code", "w", "pod", 250, 30);
    expect(claimed).toHaveLength(250);
    expect(claimed.map((j) => (j.payload as { n: number }).n)).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
    expect(claimed[0]).toMatchObject({ type: "code", attempt: 1, maxAttempts: 5, priority: 0 });
    expect(await statusCounts()).toEqual({ processing: 250, pending: 4750 });
  });

  it("claims in index order on the claim lane's session even when the statistics predate a burst of submissions", async () => {
    // Statistics of a table of finished jobs, then a burst: the planner estimates a pending row or two. Left to
    // that estimate it read every pending job through idx_jobs_pending and sorted them all, for every claim.
    await pool.query("INSERT INTO container_jobs (type, payload, status, completed_at) SELECT 'code', '{}', 'completed', now() FROM generate_series(1, 20000)");
    await pool.query("ANALYZE container_jobs");
    await pool.query("TRUNCATE container_jobs");
    await pool.query("INSERT INTO container_jobs (type, payload) SELECT 'code', jsonb_build_object('n', n) FROM generate_series(1, 20000) n");
    type PlanNode = { "Node Type": string; "Index Name"?: string; "Actual Rows"?: number; Plans?: PlanNode[] };
    const flatten = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(flatten)];
    const lane = new Lane({ connectionString: db.url }, CLAIM_SESSION_SETTINGS);
    try {
      const { rows } = await lane.query<{ "QUERY PLAN": Array<{ Plan: PlanNode }> }>({
        text: `EXPLAIN (ANALYZE, FORMAT JSON) ${CLAIM_SQL}`,
        values: ["code", "w", 500, "pod", 30],
      });
      const lockRows = flatten(rows[0]!["QUERY PLAN"][0]!.Plan).find((n) => n["Node Type"] === "LockRows")!;
      const below = flatten(lockRows).slice(1);
      expect(below.map((n) => n["Node Type"])).toEqual(["Index Scan"]);
      expect(below[0]).toMatchObject({ "Index Name": "idx_jobs_type_priority", "Actual Rows": 500 });
    } finally {
      await lane.end();
    }
  });

  it("runs every job exactly once across several workers", async () => {
    const runs = new Map<string, number>();
    const handler = doublingHandler({ onRun: (_p, id) => runs.set(id, (runs.get(id) ?? 0) + 1) });
    const workers = await Promise.all([1, 2, 3, 4].map(() => startWorker(db.url, { handler, concurrency: 4 })));
    const jobs = await Promise.all(
      Array.from({ length: 300 }, (_, n) => queue.submit("code", { n, sleepMs: n % 7 })),
    );
    try {
      await waitFor(async () => (await statusCounts()).completed === 300, 60_000, 100);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
    const { rows } = await pool.query<{ id: string; result: { doubled: number }; payload: { n: number }; attempts: number }>(
      "SELECT id, result, payload, attempts FROM container_jobs",
    );
    expect(rows).toHaveLength(300);
    for (const r of rows) {
      expect(r.result.doubled).toBe(r.payload.n * 2);
      expect(r.attempts).toBe(1);
      expect(runs.get(r.id)).toBe(1);
    }
    expect(new Set(rows.map((r) => r.id))).toEqual(new Set(jobs.map((j) => j.job.id)));
  });

  it("claims by priority, then age", async () => {
    const order: number[] = [];
    const handler = doublingHandler({ onRun: (p) => order.push(p.n) });
    await queue.submit("code", { n: 1 }, { priority: 5 });
    await queue.submit("code", { n: 2 }, { priority: 0 });
    await queue.submit("code", { n: 3 }, { priority: 5 });
    await queue.submit("code", { n: 4 }, { priority: -1 });
    const w = await startWorker(db.url, { handler, concurrency: 1 });
    await waitFor(() => order.length === 4 || undefined);
    await w.stop();
    expect(order).toEqual([4, 2, 1, 3]);
  });

  it("returns one job for 50 concurrent submissions with one idempotency key", async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, () => queue.submit("code", { n: 7 }, { idempotencyKey: "upload-42" })),
    );
    expect(new Set(results.map((r) => r.job.id)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect((await statusCounts()).pending).toBe(1);
    await expect(queue.submit("code", { n: 8 }, { idempotencyKey: "upload-42" })).rejects.toThrow(/different payload/);
  });

  it("rejects a completion from a worker whose lease was taken over", async () => {
    const { job } = await queue.submit("code", { n: 1 });
    const [a] = await queue.claim("code", "worker-a", "pod-a", 1, 30);
    expect(a!.id).toBe(job.id);
    // Worker A stalls past its lease.
    await pool.query("UPDATE container_jobs SET lease_expires_at = now() - interval '1 second', heartbeat_at = now() - interval '31 seconds'");
    expect((await reap()).map((r) => r.status)).toEqual(["pending"]);
    const [b] = await queue.claim("code", "worker-b", "pod-b", 1, 30);
    expect(b!.attempt).toBe(2);
    expect(await queue.heartbeat("worker-a", [{ id: a!.id, attempt: a!.attempt, progress: null, message: null }], 30)).toEqual(new Set());
    expect(await queue.complete(a!, "worker-a", { by: "a" }, 1, 0)).toBe(false);
    expect(await queue.fail(a!, "worker-a", "late", 1, 0, 0)).toBe("lost");
    expect(await queue.complete(b!, "worker-b", { by: "b" }, 1, 0)).toBe(true);
    const view = await queue.get(job.id);
    expect(view).toMatchObject({ status: "completed", attempts: 2, result: { by: "b" } });
  });

  it("tells which jobs of a completion batch were still owned, and recognises its own write on a retry", async () => {
    await Promise.all([1, 2, 3].map((n) => queue.submit("code", { n })));
    const held = await queue.claim("code", "worker-a", "pod-a", 3, 30);
    expect(held).toHaveLength(3);
    const [lost, kept, other] = held as [ClaimedJob, ClaimedJob, ClaimedJob];
    // Worker A loses one job to the reaper, and worker B takes it (attempt 2).
    await pool.query("UPDATE container_jobs SET lease_expires_at = now() - interval '1 second', heartbeat_at = now() - interval '31 seconds' WHERE id = $1", [lost.id]);
    expect(await reap()).toEqual([{ id: lost.id, type: "code", status: "pending" }]);
    const [taken] = await queue.claim("code", "worker-b", "pod-b", 1, 30);
    expect(taken).toMatchObject({ id: lost.id, attempt: 2 });
    const outcome = (job: ClaimedJob, by: string) => ({ job, result: { by }, durationSeconds: 0.01, costUsd: 0 });
    // The write falls short by one: the check names the two that were A's.
    expect(await queue.completeMany("worker-a", [outcome(lost, "a"), outcome(kept, "a")])).toEqual(new Set([kept.id]));
    // B completes attempt 2; A's write of attempt 1 is still not its own.
    expect(await queue.completeMany("worker-b", [outcome(taken!, "b")])).toEqual(new Set([lost.id]));
    expect(await queue.completeMany("worker-a", [outcome(lost, "a")], true)).toEqual(new Set());
    // A retry of a write whose first try committed changes nothing and still owns its job.
    expect(await queue.completeMany("worker-a", [outcome(other, "a")])).toEqual(new Set([other.id]));
    expect(await queue.completeMany("worker-a", [outcome(other, "a")], true)).toEqual(new Set([other.id]));
    expect(await queue.completeMany("worker-a", [outcome(other, "a")], false)).toEqual(new Set());
    const results = await pool.query<{ id: string; result: { by: string }; attempts: number }>("SELECT id, result, attempts FROM container_jobs");
    expect(Object.fromEntries(results.rows.map((r) => [r.id, [r.result.by, r.attempts]]))).toEqual({
      [lost.id]: ["b", 2],
      [kept.id]: ["a", 1],
      [other.id]: ["a", 1],
    });
  });

  it("dead-letters a job whose last allowed attempt lost its worker", async () => {
    const { job } = await queue.submit("code", { n: 1 }, { maxAttempts: 1 });
    await queue.claim("code", "worker-a", "pod-a", 1, 30);
    await pool.query("UPDATE container_jobs SET lease_expires_at = now() - interval '1 second', heartbeat_at = now() - interval '31 seconds'");
    expect(await reap()).toEqual([{ id: job.id, type: "code", status: "dead" }]);
    expect((await queue.get(job.id))?.error).toMatch(/lease lost: worker worker-a stopped during attempt 1/);
  });

  it("reclaims the job of a worker whose session is gone before its lease runs out", async () => {
    const { job } = await queue.submit("code", { n: 1 });
    await queue.claim("code", "ghost", "pod-ghost", 1, 300);
    // Within two heartbeats of its 300 s lease (100 s) nothing happens; past them, with no live session holding
    // the ghost's lock, the job returns long before the lease runs out.
    await pool.query("UPDATE container_jobs SET heartbeat_at = now() - interval '99 seconds'");
    expect(await reap()).toEqual([]);
    await pool.query("UPDATE container_jobs SET heartbeat_at = now() - interval '101 seconds'");
    expect(await reap()).toEqual([{ id: job.id, type: "code", status: "pending" }]);
  });

  it("does not read a missing liveness lock as a dead worker until told the locks are settled", async () => {
    const { job } = await queue.submit("code", { n: 1 });
    await queue.claim("code", "ghost", "pod-ghost", 1, 30);
    await pool.query("UPDATE container_jobs SET heartbeat_at = now() - interval '20 seconds'");
    // Just reconnected after an outage: peers may not have re-taken their locks yet.
    expect(await queue.reap("reaper", [], { trustLocks: false, settleSeconds: 0 })).toEqual([]);
    // The server itself started less than the settle time ago.
    expect(await queue.reap("reaper", [], { trustLocks: true, settleSeconds: 86_400 })).toEqual([]);
    expect(await reap()).toEqual([{ id: job.id, type: "code", status: "pending" }]);
  });

  it("never reclaims a job the reaper itself still holds", async () => {
    const { job } = await queue.submit("code", { n: 1 });
    await queue.claim("code", "me", "pod-me", 1, 30);
    await pool.query("UPDATE container_jobs SET heartbeat_at = now() - interval '60 seconds', lease_expires_at = now() - interval '30 seconds'");
    expect(await queue.reap("me", [job.id], { trustLocks: true, settleSeconds: 0 })).toEqual([]);
    // Claimed by us but not held (the claim's answer was lost): ours to reclaim like anyone's.
    expect(await queue.reap("me", [], { trustLocks: true, settleSeconds: 0 })).toEqual([{ id: job.id, type: "code", status: "pending" }]);
  });

  it("judges each job by the lease recorded on it, not by the reaper's", async () => {
    const long = await queue.submit("code", { n: 1 }, { priority: 1 });
    const short = await queue.submit("code", { n: 2 }, { priority: 2 });
    // Two workers of other types, both gone: one with a 30 s lease (heartbeat every 5 s), one with a 3 s lease.
    await queue.claim("code", "ghost-30s", "pod-a", 1, 30);
    await queue.claim("code", "ghost-3s", "pod-b", 1, 3);
    await pool.query("UPDATE container_jobs SET heartbeat_at = now() - interval '2.5 seconds'");
    // A document worker with a 3 s lease: 2.5 s of silence is many of its heartbeats, not two of the 30 s worker's.
    const reaper = await startWorker(db.url, {
      handler: { ...doublingHandler(), type: "document" },
      leaseSeconds: 3,
      heartbeatIntervalMs: 300,
      reapIntervalMs: 100,
      reconnectSettleMs: 0,
    });
    try {
      await waitFor(async () => (await queue.get(short.job.id))?.status === "pending" || undefined, 5000);
      await new Promise((r) => setTimeout(r, 500));
      expect((await queue.get(long.job.id))?.status).toBe("processing");
    } finally {
      await reaper.stop();
    }
  });

  it("leaves alone a silent worker whose session is still alive until its lease expires", async () => {
    const w = await startWorker(db.url, { workerId: "alive-but-slow", concurrency: 1, heartbeatIntervalMs: 600_000, reapIntervalMs: 600_000 });
    try {
      const { job } = await queue.submit("code", { n: 2, sleepMs: 5000 });
      await waitFor(async () => (await queue.get(job.id))?.status === "processing");
      await pool.query("UPDATE container_jobs SET heartbeat_at = now() - interval '61 seconds'");
      expect(await reap()).toEqual([]);
    } finally {
      await w.stop(100);
    }
  });

  it("discards the outcome of a stalled worker end to end", async () => {
    const settled: Array<[string, Outcome]> = [];
    let releaseStalled!: () => void;
    const stalledGate = new Promise<void>((r) => (releaseStalled = r));
    const stalledHandler = doublingHandler();
    const stalled = await startWorker(db.url, {
      workerId: "stalled",
      // Busy with the stalled job, so it cannot pick the job up again itself.
      concurrency: 1,
      leaseSeconds: 1,
      // Never renews: the lease runs out while the handler is still busy.
      heartbeatIntervalMs: 600_000,
      handler: { ...stalledHandler, run: async (p, ctx) => (await stalledGate, { doubled: -1, attempt: ctx.attempt }) },
      onSettled: (j, o) => settled.push(["stalled", o]),
    });
    const { job } = await queue.submit("code", { n: 21 });
    await waitFor(async () => (await queue.get(job.id))?.status === "processing");
    const healthy = await startWorker(db.url, { workerId: "healthy", onSettled: (j, o) => settled.push(["healthy", o]) });
    await waitFor(async () => (await queue.get(job.id))?.status === "completed", 20_000);
    releaseStalled();
    await waitFor(() => settled.length === 2 || undefined);
    await Promise.all([stalled.stop(), healthy.stop()]);
    expect(settled.sort()).toEqual([["healthy", "completed"], ["stalled", "lost"]]);
    expect(await queue.get(job.id)).toMatchObject({ status: "completed", attempts: 2, result: { doubled: 42, attempt: 2 } });
  });

  it("backs off a poison job to dead while other jobs keep flowing", async () => {
    const attemptsAt: number[] = [];
    const handler = doublingHandler({ onRun: (p) => p.poison && attemptsAt.push(Date.now()) });
    const w = await startWorker(db.url, { handler, concurrency: 2, backoff: { baseMs: 200, maxMs: 5000 } });
    const poison = await queue.submit("code", { n: 0, poison: true }, { maxAttempts: 4 });
    const others = await Promise.all(Array.from({ length: 30 }, (_, i) => queue.submit("code", { n: i + 1, sleepMs: 20 })));
    await waitFor(async () => (await queue.get(poison.job.id))?.status === "dead", 20_000);
    await waitFor(async () => (await statusCounts()).completed === 30, 20_000);
    await w.stop();
    const dead = await queue.get(poison.job.id);
    expect(dead).toMatchObject({ status: "dead", attempts: 4, error: "Error: poison 0" });
    expect(dead!.completedAt).not.toBeNull();
    // Equal jitter: each wait is at least half the doubled base delay.
    const gaps = attemptsAt.slice(1).map((t, i) => t - attemptsAt[i]!);
    expect(gaps).toHaveLength(3);
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual((200 * 2 ** i) / 2 - 20));
    for (const o of others) expect((await queue.get(o.job.id))?.status).toBe("completed");
  });

  it("aborts a handler at the timeout and fails the attempt", async () => {
    let sawAbort: unknown;
    const handler = doublingHandler({ onRun: (_p, _id, _a, signal) => signal.addEventListener("abort", () => (sawAbort = signal.reason)) });
    const w = await startWorker(db.url, { handler, jobTimeoutMs: 300 });
    const { job } = await queue.submit("code", { n: 1, sleepMs: 10_000 }, { maxAttempts: 1 });
    const started = Date.now();
    await waitFor(async () => (await queue.get(job.id))?.status === "dead", 10_000);
    await w.stop();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(sawAbort).toBeInstanceOf(Error);
    expect((await queue.get(job.id))?.error).toMatch(/JobTimeoutError: Job timed out after 0.3s/);
  });

  it("fails the attempt at the timeout even when the handler ignores the signal", async () => {
    const w = await startWorker(db.url, { jobTimeoutMs: 300, backoff: { baseMs: 60_000 } });
    const { job } = await queue.submit("code", { n: 1, sleepMs: 3000, ignoreAbort: true }, { maxAttempts: 2 });
    await waitFor(async () => (await queue.get(job.id))?.error?.includes("timed out"), 2500);
    expect(await queue.get(job.id)).toMatchObject({ status: "pending", attempts: 1 });
    await w.stop(100);
  });

  it("records duration and cost from the configured rate", async () => {
    const w = await startWorker(db.url, { costPerSecondUsd: 0.5 });
    const { job } = await queue.submit("code", { n: 1, sleepMs: 400 });
    await waitFor(async () => (await queue.get(job.id))?.status === "completed");
    await w.stop();
    const v = (await queue.get(job.id))!;
    // libuv starts a timer from the event loop's cached millisecond clock, so a 400 ms sleep can measure a fraction
    // of a millisecond short on the high-resolution clock the worker times jobs with.
    expect(v.processingTimeSeconds).toBeGreaterThanOrEqual(0.395);
    expect(v.processingTimeSeconds).toBeLessThan(5);
    expect(v.estimatedCostUsd).toBeCloseTo(v.processingTimeSeconds! * 0.5, 3);
  });

  it("prefetches short jobs into a leased buffer and hands the unstarted ones back at once on stop", async () => {
    const started: number[] = [];
    const handler = doublingHandler({ onRun: (p) => started.push(p.n) });
    const w = await startWorker(db.url, { handler, concurrency: 2, workerId: "prefetcher" });
    // Short jobs: once a few have run, the buffer holds many more than the two slots.
    await Promise.all(Array.from({ length: 400 }, (_, n) => queue.submit("code", { n, sleepMs: 5 })));
    const held = await waitFor(async () => {
      const { rows } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM container_jobs WHERE locked_by = 'prefetcher'");
      return rows[0]!.n > 20 && rows[0]!.n;
    }, 10_000, 5);
    expect(held).toBeGreaterThan(20);
    const t0 = Date.now();
    await w.stop();
    expect(Date.now() - t0).toBeLessThan(2000);
    const counts = await statusCounts();
    expect(counts.processing).toBeUndefined();
    expect(counts.completed).toBe(started.length);
    // Handed back without using an attempt, runnable at once.
    const { rows } = await pool.query<{ attempts: number; locked_by: string | null }>(
      "SELECT attempts, locked_by FROM container_jobs WHERE status = 'pending'",
    );
    expect(rows.length).toBe(400 - started.length);
    expect(rows.every((r) => r.attempts === 0 && r.locked_by === null)).toBe(true);
    expect(await queue.runnableCount("code")).toBe(rows.length);
  });

  it("keeps priorities within what it has prefetched", async () => {
    const order: number[] = [];
    const handler = doublingHandler({ onRun: (p) => order.push(p.n) });
    await Promise.all(Array.from({ length: 60 }, (_, n) => queue.submit("code", { n }, { priority: n % 3 === 0 ? 0 : 5 })));
    const w = await startWorker(db.url, { handler, concurrency: 1 });
    await waitFor(() => order.length === 60 || undefined);
    await w.stop();
    // Everything at priority 0 runs before anything at 5.
    const firstLow = order.findIndex((n) => n % 3 !== 0);
    expect(order.slice(0, firstLow).length).toBe(20);
  });

  it("bounds concurrency per worker", async () => {
    let active = 0;
    let peak = 0;
    const base = doublingHandler();
    const handler = {
      ...base,
      run: async (p: Parameters<typeof base.run>[0], ctx: Parameters<typeof base.run>[1]) => {
        peak = Math.max(peak, ++active);
        try {
          return await base.run(p, ctx);
        } finally {
          active--;
        }
      },
    };
    const w = await startWorker(db.url, { handler, concurrency: 3 });
    await Promise.all(Array.from({ length: 20 }, (_, n) => queue.submit("code", { n, sleepMs: 50 })));
    await waitFor(async () => (await statusCounts()).completed === 20);
    await w.stop();
    expect(peak).toBe(3);
  });

  it("fails a job whose result cannot be stored without holding up the others", async () => {
    const base = doublingHandler();
    const handler = {
      ...base,
      run: async (p: Parameters<typeof base.run>[0], ctx: Parameters<typeof base.run>[1]) =>
        p.n === 0 ? ({ text: "nul \u0000 inside", doubled: 0, attempt: ctx.attempt }) : base.run(p, ctx),
    };
    const w = await startWorker(db.url, { handler, concurrency: 4 });
    const bad = await queue.submit("code", { n: 0 });
    await Promise.all(Array.from({ length: 12 }, (_, i) => queue.submit("code", { n: i + 1 })));
    await waitFor(async () => (await statusCounts()).completed === 12 && (await queue.get(bad.job.id))?.status === "failed");
    await w.stop();
    expect((await queue.get(bad.job.id))?.error).toMatch(/PermanentJobError: Result could not be stored/);
  });
});
