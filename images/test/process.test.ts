import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { Pool } from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { JobQueue } from "../src/queue/queue";
import { waitFor } from "./handlers";
import { freePort, startTestDatabase, type TestDatabase } from "./pg";
import { startWorker } from "./worker";

let db: TestDatabase;
let pool: Pool;
let queue: JobQueue;
const children: ChildProcess[] = [];

beforeAll(async () => {
  db = await startTestDatabase();
  pool = new Pool({ connectionString: db.url, max: 10 });
  pool.on("error", () => undefined);
  queue = new JobQueue(pool);
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  await pool?.end();
  await db?.stop();
});
beforeEach(async () => {
  await pool.query("TRUNCATE container_jobs");
});

async function spawnWorker(env: Record<string, string>) {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", path.join(__dirname, "fixtures", "worker-process.ts"), "--type", "code"], {
    env: {
      ...process.env,
      DATABASE_URL: db.url,
      PORT: String(port),
      METRICS_PORT: String(await freePort()),
      LOG_LEVEL: "info",
      JOB_LEASE_SECONDS: "3",
      MAX_CONCURRENT_JOBS: "2",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  await waitFor(() => output.includes("processor ready") || child.exitCode !== null || undefined, 20_000);
  if (child.exitCode !== null) throw new Error(`worker exited early:\n${output}`);
  return { child, port, exited, output: () => output };
}

const status = async (id: string) => (await queue.get(id))?.status;

describe("worker process", () => {
  it("re-runs a job after its worker is SIGKILLed mid-job", async () => {
    const w = await spawnWorker({});
    const { job } = await queue.submit("code", { n: 5, sleepMs: 60_000 });
    await waitFor(async () => (await status(job.id)) === "processing", 10_000);
    w.child.kill("SIGKILL");
    await w.exited;
    const killedAt = Date.now();
    const rescuer = await startWorker(db.url);
    try {
      // Short sleep now: the rescuer's handler runs the same payload, so shorten it in place.
      await pool.query(`UPDATE container_jobs SET payload = jsonb_set(payload, '{sleepMs}', '10')`);
      await waitFor(async () => (await status(job.id)) === "completed", 20_000);
    } finally {
      await rescuer.stop();
    }
    const done = (await queue.get(job.id))!;
    expect(done).toMatchObject({ status: "completed", attempts: 2, result: { doubled: 10, attempt: 2 } });
    // Lease is 3 s: recovery must not wait for anything longer.
    expect(Date.now() - killedAt).toBeLessThan(6000);
  });

  it("drains on SIGTERM: no new claims, in-flight jobs finish or are released, exit 0", async () => {
    const w = await spawnWorker({ SHUTDOWN_GRACE_SECONDS: "2" });
    const quick = await queue.submit("code", { n: 1, sleepMs: 800 });
    const slow = await queue.submit("code", { n: 2, sleepMs: 60_000 });
    // On a loaded machine the quick job may already be done when the slow one is claimed: either way it must end completed.
    await waitFor(async () => ["processing", "completed"].includes((await status(quick.job.id)) ?? "") && (await status(slow.job.id)) === "processing", 10_000);
    w.child.kill("SIGTERM");
    await waitFor(async () => (await fetch(`http://127.0.0.1:${w.port}/ready`)).status === 503, 2000, 20);
    const late = await Promise.all([3, 4, 5].map((n) => queue.submit("code", { n })));
    const code = await w.exited;
    expect(code).toBe(0);
    expect(await queue.get(quick.job.id)).toMatchObject({ status: "completed", result: { doubled: 2 } });
    expect(await queue.get(slow.job.id)).toMatchObject({ status: "pending", attempts: 0 });
    for (const l of late) expect(await queue.get(l.job.id)).toMatchObject({ status: "pending", attempts: 0 });
    const { rows } = await pool.query("SELECT id FROM container_jobs WHERE status = 'processing'");
    expect(rows).toEqual([]);
    expect(w.output()).toMatch(/"msg":"job released on shutdown"/);
  });

  it("exits at once on a second signal; the lease brings the job back", async () => {
    const w = await spawnWorker({ SHUTDOWN_GRACE_SECONDS: "30" });
    const { job } = await queue.submit("code", { n: 1, sleepMs: 60_000 });
    await waitFor(async () => (await status(job.id)) === "processing", 10_000);
    w.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 200));
    w.child.kill("SIGTERM");
    const started = Date.now();
    expect(await w.exited).not.toBe(0);
    expect(Date.now() - started).toBeLessThan(2000);
    const rescuer = await startWorker(db.url);
    try {
      await pool.query(`UPDATE container_jobs SET payload = jsonb_set(payload, '{sleepMs}', '10')`);
      await waitFor(async () => (await status(job.id)) === "completed", 20_000);
    } finally {
      await rescuer.stop();
    }
  });

  it("survives a database restart mid-run without losing or sticking jobs", async () => {
    // Polling far apart: after the restart only a renewed LISTEN can wake the workers in time.
    const workers = await Promise.all([1, 2].map(() => startWorker(db.url, { concurrency: 4, pollIntervalMs: 120_000 })));
    try {
      const jobs = await Promise.all(Array.from({ length: 150 }, (_, n) => queue.submit("code", { n, sleepMs: 20 + (n % 5) * 10 })));
      const before = await waitFor(async () => {
        const { rows } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM container_jobs WHERE status = 'completed'");
        return rows[0]!.n >= 30 && rows[0]!.n;
      });
      await db.restart(1000);
      expect(before).toBeLessThan(120);
      await waitFor(
        async () => {
          try {
            const { rows } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM container_jobs WHERE status = 'completed'");
            return rows[0]!.n === 150;
          } catch {
            return false;
          }
        },
        60_000,
        200,
      );
      const { rows } = await pool.query<{ id: string; result: { doubled: number }; payload: { n: number } }>(
        "SELECT id, result, payload FROM container_jobs",
      );
      expect(rows).toHaveLength(jobs.length);
      for (const r of rows) expect(r.result.doubled).toBe(r.payload.n * 2);
      // Workers must be listening again, not merely finishing old work.
      await new Promise((r) => setTimeout(r, 500));
      const after = await queue.submit("code", { n: 1000 });
      await waitFor(async () => (await status(after.job.id)) === "completed", 5_000);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  });
});
