import { appendFile, cp, mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMigrations, MIGRATIONS_DIR, migrate } from "../src/db/migrate";
import { startTestDatabase, type TestDatabase } from "./pg";

let db: TestDatabase;
beforeAll(async () => {
  db = await startTestDatabase({ migrate: false });
});
afterAll(() => db?.stop());

describe("migrations", () => {
  it("apply once, record what ran, and are idempotent on re-run", async () => {
    const first = await migrate(db.url);
    const files = (await loadMigrations()).map((m) => `${String(m.version).padStart(3, "0")}_${m.name}`);
    expect(first.applied).toEqual(files);
    expect(files).toEqual(
      expect.arrayContaining(["001_container_jobs", "002_container_metrics", "003_container_stats_hourly", "004_runnable_and_job_lease", "005_api_clients", "007_restore_verifications"]),
    );
    const second = await migrate(db.url);
    expect(second.applied).toEqual([]);
    expect(second.skipped).toHaveLength(files.length);
    const rows = await db.query<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version");
    expect(rows.map((r) => r.version)).toEqual(files.map((f) => Number(f.slice(0, 3))));
  });

  it("runs concurrently without applying anything twice", async () => {
    const results = await Promise.all([migrate(db.url), migrate(db.url), migrate(db.url)]);
    expect(results.flatMap((r) => r.applied)).toEqual([]);
  });

  it("creates the playbook's partial indexes", async () => {
    const rows = await db.query<{ indexname: string; indexdef: string }>(
      "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'container_jobs'",
    );
    const defs = new Map(rows.map((r) => [r.indexname, r.indexdef]));
    expect(defs.get("idx_jobs_status_created")).toMatch(/WHERE \(status = ANY/);
    expect(defs.get("idx_jobs_type_priority")).toMatch(/\(type, priority, created_at\) WHERE \(status = 'pending'/);
    expect(defs.get("idx_jobs_pending")).toMatch(/\(created_at\) WHERE \(status = 'pending'/);
    expect(defs.get("idx_jobs_idempotency")).toMatch(/UNIQUE/);
  });

  it("partitions container_metrics by month and creates next months on demand", async () => {
    const parts = await db.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'container_metrics'::regclass ORDER BY 1`,
    );
    expect(parts).toHaveLength(3);
    const now = new Date();
    const month = `${now.getUTCFullYear()}_${String(now.getUTCMonth() + 1).padStart(2, "0")}`;
    expect(parts[0]!.name).toBe(`container_metrics_${month}`);
    const [created] = await db.query<{ n: number }>("SELECT ensure_container_metrics_partitions(4) AS n");
    expect(created!.n).toBe(2);
    await db.query(
      `INSERT INTO container_metrics ("timestamp", container_type, queue_depth) VALUES (now(), 'video', 3),
         (now() + interval '3 months', 'video', 4)`,
    );
  });

  it("refreshes the hourly stats view concurrently", async () => {
    await db.query(
      `INSERT INTO container_jobs (type, status, processing_time_seconds, estimated_cost_usd)
       VALUES ('video', 'completed', 10, 0.5), ('video', 'completed', 20, 0.25)`,
    );
    await db.query("SELECT refresh_container_stats()");
    const rows = await db.query<{ job_count: string; total_cost: string }>(
      "SELECT job_count, total_cost FROM container_stats_hourly WHERE type = 'video' AND status = 'completed'",
    );
    expect(rows).toEqual([{ job_count: "2", total_cost: "0.75000000" }]);
  });

  it("rejects a migration changed after it was applied", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "migrations-"));
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
    await appendFile(path.join(dir, "002_container_metrics.sql"), "\n-- edited\n");
    await expect(migrate(db.url, { dir })).rejects.toThrow(/002_container_metrics was changed/);
  });
});
