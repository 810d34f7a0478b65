import { execFile } from "node:child_process";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMaintenance, type MaintenanceOptions } from "../src/maintenance/tasks";
import { startTestDatabase, type TestDatabase } from "./pg";

const run = promisify(execFile);
let db: TestDatabase;
let dir: string;
let opts: MaintenanceOptions;

beforeAll(async () => {
  db = await startTestDatabase();
  dir = await mkdtemp(path.join(os.tmpdir(), "maintenance-"));
  opts = { databaseUrl: db.url, statementTimeoutSeconds: 60, metricsRetentionMonths: 3, jobRetentionDays: 30, purgeBatchSize: 2 };
});
afterAll(async () => {
  await db?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The CronJob's command, `maintenance <task>`, with the Secret mounted as a file. */
async function cli(task: string, env: Record<string, string> = {}) {
  const { writeFile } = await import("node:fs/promises");
  const secret = path.join(dir, "DATABASE_URL");
  await writeFile(secret, `${db.url}\n`);
  const r = await run(process.execPath, ["--import", "tsx", path.join(__dirname, "..", "src", "cli", "maintenance.ts"), task], {
    env: { PATH: process.env.PATH, DATABASE_URL_FILE: secret, ...env },
  });
  return r.stdout.trim().split("\n").map((l) => JSON.parse(l));
}

describe("maintenance tasks against a real PostgreSQL", () => {
  it("heartbeat creates its table once and moves the beat forward", async () => {
    await runMaintenance("heartbeat", opts);
    const [a] = await db.query<{ beat_at: Date }>("SELECT beat_at FROM replication_heartbeat");
    await new Promise((r) => setTimeout(r, 20));
    const [log] = await cli("heartbeat");
    expect(log.event).toBe("maintenance.done");
    const rows = await db.query<{ beat_at: Date }>("SELECT beat_at FROM replication_heartbeat");
    expect(rows).toHaveLength(1);
    expect(rows[0].beat_at.getTime()).toBeGreaterThan(a.beat_at.getTime());
  });

  it("vacuum analyzes the queue tables (twice in a row is fine)", async () => {
    const [log] = await cli("vacuum");
    expect(log.details.tables).toEqual(["container_jobs", "container_metrics"]);
    await cli("vacuum");
    const [stat] = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_user_tables WHERE relname = 'container_jobs' AND last_analyze IS NOT NULL");
    expect(stat.n).toBe(1);
  });

  it("refreshes the hourly stats", async () => {
    await db.query(
      "INSERT INTO container_jobs (type, status, payload, completed_at, processing_time_seconds, estimated_cost_usd) VALUES ('code', 'completed', '{}', now(), 2, 0.01)",
    );
    await cli("refresh-stats");
    const rows = await db.query<{ job_count: string }>("SELECT job_count FROM container_stats_hourly WHERE type = 'code' AND status = 'completed'");
    expect(Number(rows[0].job_count)).toBeGreaterThanOrEqual(1);
  });

  it("creates the coming months' partitions and drops those past retention, never the current month", async () => {
    const old = new Date();
    old.setUTCMonth(old.getUTCMonth() - 5, 1);
    const name = `container_metrics_${old.getUTCFullYear()}_${String(old.getUTCMonth() + 1).padStart(2, "0")}`;
    const next = new Date(old);
    next.setUTCMonth(next.getUTCMonth() + 1);
    await db.query(`CREATE TABLE ${name} PARTITION OF container_metrics FOR VALUES FROM ('${old.toISOString().slice(0, 10)}') TO ('${next.toISOString().slice(0, 10)}')`);
    const [log] = await cli("partitions", { METRICS_RETENTION_MONTHS: "3" });
    expect(log.details.dropped).toEqual([name]);
    const left = await db.query<{ relname: string }>("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'container_metrics'::regclass");
    const now = new Date();
    expect(left.map((r) => r.relname)).toContain(`container_metrics_${now.getUTCFullYear()}_${String(now.getUTCMonth() + 1).padStart(2, "0")}`);
    expect(left.length).toBeGreaterThanOrEqual(3);
    expect((await cli("partitions"))[0].details.dropped).toEqual([]);
  });

  it("purges only finished jobs past retention, in batches", async () => {
    await db.query("TRUNCATE container_jobs");
    await db.query(`INSERT INTO container_jobs (type, status, payload, created_at, completed_at)
      SELECT 'code', s, '{}', now() - interval '40 days', now() - interval '40 days'
        FROM unnest(ARRAY['completed','completed','completed','dead','failed']) s`);
    await db.query("INSERT INTO container_jobs (type, status, payload, created_at, completed_at) VALUES ('code', 'completed', '{}', now(), now()), ('code', 'pending', '{}', now() - interval '40 days', NULL)");
    const [log] = await cli("purge", { JOB_RETENTION_DAYS: "30", PURGE_BATCH_SIZE: "2" });
    expect(log.details.deleted).toBe(4);
    const left = await db.query<{ status: string }>("SELECT status FROM container_jobs ORDER BY status");
    expect(left.map((r) => r.status)).toEqual(["completed", "failed", "pending"]);
    expect((await cli("purge", { JOB_RETENTION_DAYS: "30" }))[0].details.deleted).toBe(0);
  });

  it("writes the weekly capacity report to the logs and the store", async () => {
    await db.query("TRUNCATE container_jobs");
    await db.query(`INSERT INTO container_jobs (type, status, payload, completed_at, processing_time_seconds, estimated_cost_usd)
      SELECT 'video', 'completed', '{}', now(), g, 0.5 FROM generate_series(1, 20) g`);
    await runMaintenance("refresh-stats", opts);
    const store = path.join(dir, "store");
    const [log] = await cli("capacity-report", { REPORT_STORE_URL: `file://${store}` });
    const video = log.details.report.byType.find((r: any) => r.type === "video");
    expect(video).toMatchObject({ jobs: "20", completed: "20", cost_usd: 10 });
    expect(video.p95_seconds_worst_hour).toBeCloseTo(19.05, 2);
    const files = await readdir(path.join(store, "reports", "capacity"));
    expect(files).toEqual([`${new Date().toISOString().slice(0, 10)}.json`]);
    expect(JSON.parse(await readFile(path.join(store, "reports", "capacity", files[0]), "utf8")).byType).toHaveLength(1);
  });

  it("a second run while the first holds the task's lock is skipped, not run twice", async () => {
    const holder = new Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query("SELECT pg_advisory_lock($1, hashtext('purge'))", [0x6d61696e]);
      const [log] = await cli("purge");
      expect(log.event).toBe("maintenance.skipped");
    } finally {
      await holder.end();
    }
  });

  it("is bounded in time: a statement past the timeout fails the run", async () => {
    const holder = new Client({ connectionString: db.url });
    await holder.connect();
    try {
      // Hold a lock VACUUM needs; the run must give up on its lock timeout instead of waiting for ever.
      await holder.query("BEGIN; LOCK TABLE container_metrics IN ACCESS EXCLUSIVE MODE");
      await expect(runMaintenance("vacuum", { ...opts, statementTimeoutSeconds: 2 })).rejects.toThrow(/timeout/);
    } finally {
      await holder.query("ROLLBACK").catch(() => undefined);
      await holder.end();
    }
  });

  it("refuses an unknown task or a bad setting, naming it, before connecting", async () => {
    await expect(cli("defrag")).rejects.toMatchObject({ code: 2 });
    await expect(cli("purge", { JOB_RETENTION_DAYS: "0" })).rejects.toMatchObject({ stdout: expect.stringContaining("JOB_RETENTION_DAYS must be a positive integer") });
  });
});
