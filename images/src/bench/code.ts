// Code jobs end to end: worker processes started from the real CLI, jobs submitted through their HTTP API,
// claimed from the queue and run in the sandbox. Prints jobs/s and end-to-end latency (submit → completed)
// for trivial and CPU-bound programs; the last line is JSON.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { freePort } from "../dev/embedded-db";
import { createClient } from "../runtime/auth-admin";
import { benchDatabase, type BenchDatabase, intFromEnv } from "./common";

const WORKERS = intFromEnv("BENCH_WORKERS", 2);
const CONCURRENCY = intFromEnv("BENCH_CONCURRENCY", 8);
const TRIVIAL_JOBS = intFromEnv("BENCH_TRIVIAL_JOBS", 2000);
const CPU_JOBS = intFromEnv("BENCH_CPU_JOBS", 100);
/** Submissions in flight at once across all workers. */
const IN_FLIGHT = intFromEnv("BENCH_IN_FLIGHT", 32);

const TRIVIAL = { source: "1 + 1" };
// About 50-100 ms of interpreter time in QuickJS on a current core.
const CPU_BOUND = { source: "let s = 0; for (let i = 0; i < 1e6; i++) s = (s + i * i) % 1000003; s", timeoutMs: 10_000 };

interface Phase {
  readonly name: string;
  readonly jobs: number;
  readonly jobsPerSecond: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly failed: number;
}

/** The API key every submission carries, as a real client's would. */
let auth: Record<string, string> = {};

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function startWorker(db: BenchDatabase, storeDir: string): Promise<{ child: ChildProcess; base: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", path.join(__dirname, "..", "cli", "worker.ts")], {
    env: {
      ...process.env,
      JOB_TYPE: "code",
      DATABASE_URL: db.url,
      PORT: String(port),
      METRICS_PORT: String(await freePort()),
      MAX_CONCURRENT_JOBS: String(CONCURRENCY),
      // As a code-executor pod with a 1-CPU limit: one sandbox per worker.
      CPU_LIMIT_MILLICORES: process.env.CPU_LIMIT_MILLICORES ?? "1000",
      JOB_TIMEOUT: "60",
      LOG_LEVEL: "warn",
      RESULTS_STORE_URL: pathToFileURL(storeDir).href,
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`worker exited with ${child.exitCode} before it was ready`);
    const ok = await fetch(`${base}/ready`).then((r) => r.ok, () => false);
    if (ok) return { child, base };
    if (Date.now() > deadline) throw new Error("worker not ready within 60 s");
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function runPhase(db: BenchDatabase, bases: string[], name: string, payload: unknown, jobs: number): Promise<Phase> {
  const submitted = new Map<string, number>();
  let next = 0;
  const t0 = Date.now();
  /** Submits job `i` until it is accepted; the idempotency key makes every resend safe. */
  const send = async (i: number): Promise<string> => {
    const body = JSON.stringify({ payload, idempotencyKey: `${name}-${t0}-${i}` });
    for (let tries = 1; ; tries++) {
      // A kept-alive connection closed by the server as it is reused fails the fetch.
      const res = await fetch(`${bases[i % bases.length]}/api/code/jobs`, { method: "POST", headers: { "content-type": "application/json", ...auth }, body }).catch(
        (err: unknown) => {
          if (tries >= 5) throw err;
          return undefined;
        },
      );
      if (!res) continue;
      if (res.status === 503 && tries < 20) {
        // The database answered too slowly (a loaded machine): wait as told and send the same job again.
        await res.arrayBuffer();
        await new Promise((r) => setTimeout(r, 1000 * Number(res.headers.get("retry-after") ?? 1)));
        continue;
      }
      if (res.status !== 202 && res.status !== 200) throw new Error(`submit answered ${res.status}: ${await res.text()}`);
      return ((await res.json()) as { id: string }).id;
    }
  };
  const submitter = async () => {
    for (;;) {
      const i = next++;
      if (i >= jobs) return;
      const started = Date.now();
      submitted.set(await send(i), started);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, submitter));
  const ids = [...submitted.keys()];
  for (;;) {
    const { rows } = await db.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM container_jobs WHERE id = ANY($1::uuid[]) AND status IN ('completed', 'failed', 'dead')",
      [ids],
    );
    if (rows[0]!.n === ids.length) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const { rows } = await db.pool.query<{ id: string; done_ms: number; status: string; result_status: string | null }>(
    `SELECT id, extract(epoch FROM completed_at)::float8 * 1000 AS done_ms, status, result->>'status' AS result_status
       FROM container_jobs WHERE id = ANY($1::uuid[])`,
    [ids],
  );
  // One machine: the database's clock is the bench's clock.
  const latencies = rows.map((r) => r.done_ms - submitted.get(r.id)!).sort((a, b) => a - b);
  const lastDone = Math.max(...rows.map((r) => r.done_ms));
  const failed = rows.filter((r) => r.status !== "completed" || r.result_status !== "ok").length;
  const phase: Phase = {
    name,
    jobs,
    jobsPerSecond: Number((jobs / ((lastDone - t0) / 1000)).toFixed(1)),
    p50Ms: Math.round(percentile(latencies, 50)),
    p95Ms: Math.round(percentile(latencies, 95)),
    failed,
  };
  console.log(`${name}: ${jobs} jobs, ${phase.jobsPerSecond} jobs/s, p50 ${phase.p50Ms} ms, p95 ${phase.p95Ms} ms end to end, ${failed} not ok`);
  return phase;
}

async function main(): Promise<void> {
  const db = await benchDatabase();
  const storeDir = await mkdtemp(path.join(os.tmpdir(), "bench-code-store-"));
  const workers: ChildProcess[] = [];
  const phases: Phase[] = [];
  try {
    const key = await createClient(db.pool, { name: `bench-code-${Date.now()}`, scopes: ["code"] });
    auth = { authorization: `Bearer ${key.key}` };
    const started = await Promise.all(Array.from({ length: WORKERS }, () => startWorker(db, storeDir)));
    workers.push(...started.map((w) => w.child));
    const bases = started.map((w) => w.base);
    console.log(`${WORKERS} worker processes × ${CONCURRENCY} concurrent jobs on ${os.availableParallelism()} CPUs`);
    // A short warm-up so first-use costs (JIT, pools) are not charged to the first phase.
    await runPhase(db, bases, "warm-up", TRIVIAL, 20);
    phases.push(await runPhase(db, bases, "trivial", TRIVIAL, TRIVIAL_JOBS));
    phases.push(await runPhase(db, bases, "cpu-bound", CPU_BOUND, CPU_JOBS));
  } finally {
    await Promise.all(
      workers.map((w) => {
        if (w.exitCode !== null) return undefined;
        const exited = new Promise((r) => w.once("exit", r));
        w.kill("SIGTERM");
        return exited;
      }),
    );
    await db.close();
    await rm(storeDir, { recursive: true, force: true });
  }
  const [trivial, cpu] = phases;
  console.log(
    JSON.stringify({
      workers: WORKERS,
      concurrency: CONCURRENCY,
      cpus: os.availableParallelism(),
      trivial_jobs_per_second: trivial!.jobsPerSecond,
      trivial_p50_ms: trivial!.p50Ms,
      trivial_p95_ms: trivial!.p95Ms,
      trivial_not_ok: trivial!.failed,
      cpu_jobs_per_second: cpu!.jobsPerSecond,
      cpu_p50_ms: cpu!.p50Ms,
      cpu_p95_ms: cpu!.p95Ms,
      cpu_not_ok: cpu!.failed,
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
