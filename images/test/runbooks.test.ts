import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestDatabase, type TestDatabase } from "./pg";

const RUNBOOKS = path.resolve(__dirname, "..", "..", "docs", "runbooks");

/** Every fenced sql block of every runbook, with placeholders filled in. */
async function runbookQueries(): Promise<Array<{ file: string; sql: string }>> {
  const out: Array<{ file: string; sql: string }> = [];
  for (const file of (await readdir(RUNBOOKS)).filter((f) => f.endsWith(".md") || f.endsWith(".sql"))) {
    const text = await readFile(path.join(RUNBOOKS, file), "utf8");
    const blocks = file.endsWith(".sql") ? [text] : [...text.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]!);
    for (const sql of blocks) {
      out.push({ file, sql: sql.replace(/\{\{\s*\$labels\.\w+\s*\}\}/g, "video-processor-0").replace(/:'type'/g, "'video'") });
    }
  }
  return out;
}

let db: TestDatabase;
beforeAll(async () => {
  db = await startTestDatabase();
  await db.query(`
    INSERT INTO container_jobs (type, status, container_id, attempts, max_attempts, locked_by, lease_expires_at,
                                heartbeat_at, started_at, completed_at, error_message, processing_time_seconds, estimated_cost_usd)
    VALUES ('video', 'processing', 'video-processor-0', 1, 5, 'video-processor-0/1', now() - interval '1 minute',
            now() - interval '2 hours', now() - interval '2 hours', NULL, NULL, NULL, NULL),
           ('video', 'dead', 'video-processor-0', 5, 5, NULL, NULL, NULL, now(), now(), 'Error: boom', 3, 0.01),
           ('code', 'completed', 'code-executor-0', 1, 5, NULL, NULL, NULL, now(), now(), NULL, 1, 0.001)`);
});
afterAll(() => db?.stop());

describe("runbook SQL", () => {
  it("exists", async () => {
    expect((await runbookQueries()).length).toBeGreaterThanOrEqual(8);
  });

  it("runs against the migrated schema and finds what it is meant to find", async () => {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    const results: Array<{ file: string; sql: string; rows: number }> = [];
    try {
      for (const q of await runbookQueries()) {
        // Each block in its own rolled-back transaction so fixes do not change what later queries see.
        await client.query("BEGIN");
        try {
          const res = await client.query(q.sql);
          const last = Array.isArray(res) ? res[res.length - 1] : res;
          results.push({ ...q, rows: last?.rowCount ?? 0 });
        } catch (err) {
          throw new Error(`${q.file}: ${(err as Error).message}\n${q.sql}`);
        } finally {
          await client.query("ROLLBACK");
        }
      }
    } finally {
      await client.end();
    }
    const find = (needle: string) => results.find((r) => r.sql.includes(needle))!;
    expect(find("silent_for").rows).toBe(1);
    expect(find("SET status = 'failed'").rows).toBe(1);
    expect(find("requeued from dead").rows).toBe(1);
    expect(find("GROUP BY type, left(error_message").rows).toBe(1);
  });
});
