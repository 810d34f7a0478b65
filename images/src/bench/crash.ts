// Many jobs across several worker processes while random ones are SIGKILLed
// and replaced. Every job must complete exactly once; a job may have run more
// than once only if a killed process ran it.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Pool } from "pg";
import { freePort } from "../dev/embedded-db";
import { BENCH_MARK } from "./common";

export interface CrashDrillOptions {
  readonly url: string;
  readonly pool: Pool;
  readonly jobs: number;
  readonly workers: number;
  /** SIGKILLs, spread at random over the run; each killed worker is replaced. */
  readonly kills: number;
  readonly concurrency?: number;
  readonly leaseSeconds?: number;
  /** Give up waiting for every job after this long. Default 10 min. */
  readonly timeoutMs?: number;
}

export interface CrashDrillResult {
  readonly jobs: number;
  readonly workers: number;
  readonly kills: number;
  readonly completed: number;
  /** Jobs run again after a killed process had run them: allowed, forced by the crash. */
  readonly reruns_after_crash: number;
  /** Jobs run twice by processes that were never killed: must be 0. */
  readonly duplicate_runs_unforced: number;
  /** Jobs not completed, or completed with no recorded run: must be 0. */
  readonly lost: number;
  readonly seconds: number;
  readonly jobs_per_s: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function runCrashDrill(opts: CrashDrillOptions): Promise<CrashDrillResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "pitchey-crash-"));
  const live = new Set<ChildProcess>();
  const all: ChildProcess[] = [];
  try {
    await opts.pool.query(
      `INSERT INTO container_jobs (type, payload) SELECT 'code', jsonb_build_object('n', n, '${BENCH_MARK}', true) FROM generate_series(1, $1) n`,
      [opts.jobs],
    );
    let seq = 0;
    type Tracked = ChildProcess & { runLog?: string; wasKilled?: boolean };
    const start = () =>
      Promise.all([freePort(), freePort()]).then(([p, metricsPort]) => {
        const log = path.join(dir, `worker-${seq++}.log`);
        const child = spawn(process.execPath, ["--import", "tsx", path.join(__dirname, "crash-worker.ts")], {
          env: {
            ...process.env,
            DATABASE_URL: opts.url,
            PORT: String(p),
            // Each worker its own metrics port: on the shared default, all but the first would fail to start.
            METRICS_PORT: String(metricsPort),
            LOG_LEVEL: "warn",
            MAX_CONCURRENT_JOBS: String(opts.concurrency ?? 10),
            JOB_LEASE_SECONDS: String(opts.leaseSeconds ?? 30),
            RUN_LOG: log,
          },
          stdio: ["ignore", "ignore", "inherit"],
        });
        (child as Tracked).runLog = log;
        live.add(child);
        all.push(child);
        child.on("exit", () => live.delete(child));
        return child;
      });
    const started = Date.now();
    for (let i = 0; i < opts.workers; i++) await start();
    const count = async () =>
      (await opts.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM container_jobs WHERE status = 'completed'")).rows[0]!.n;
    const deadline = started + (opts.timeoutMs ?? 600_000);
    let kills = 0;
    // Kill when the completed count passes evenly spaced marks, at a random moment just after.
    const marks = Array.from({ length: opts.kills }, (_, k) => Math.floor(((k + 1) * opts.jobs) / (opts.kills + 1)));
    for (;;) {
      const done = await count();
      if (done >= opts.jobs) break;
      if (Date.now() > deadline) break;
      if (kills < marks.length && done >= marks[kills]!) {
        await sleep(Math.random() * 300);
        const victims = [...live];
        const victim = victims[Math.floor(Math.random() * victims.length)];
        if (victim?.pid) {
          (victim as Tracked).wasKilled = true;
          victim.kill("SIGKILL");
          kills++;
          await start();
        }
      }
      await sleep(50);
    }
    const seconds = (Date.now() - started) / 1000;
    await Promise.all([...live].map((c) => new Promise((r) => (c.on("exit", r), c.kill("SIGTERM")))));
    const runs = new Map<string, { byKilled: number; byLive: number }>();
    for (const c of all) {
      const file = (c as Tracked).runLog!;
      const wasKilled = (c as Tracked).wasKilled === true;
      const text = await readFile(file, "utf8").catch(() => "");
      for (const line of text.split("\n")) {
        const id = line.split(" ")[0];
        if (!id) continue;
        const r = runs.get(id) ?? { byKilled: 0, byLive: 0 };
        if (wasKilled) r.byKilled++;
        else r.byLive++;
        runs.set(id, r);
      }
    }
    const { rows } = await opts.pool.query<{ id: string }>("SELECT id FROM container_jobs WHERE status = 'completed'");
    const completed = rows.length;
    let lost = opts.jobs - completed;
    for (const r of rows) if (!runs.has(r.id)) lost++;
    const values = [...runs.values()];
    return {
      jobs: opts.jobs,
      workers: opts.workers,
      kills,
      completed,
      reruns_after_crash: values.filter((r) => r.byKilled > 0 && r.byKilled + r.byLive > 1).length,
      duplicate_runs_unforced: values.filter((r) => r.byLive > 1).length,
      lost,
      seconds: Number(seconds.toFixed(1)),
      jobs_per_s: Math.round(opts.jobs / seconds),
    };
  } finally {
    for (const c of all) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  }
}
