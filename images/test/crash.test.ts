import { Pool } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCrashDrill } from "../src/bench/crash";
import { startTestDatabase, type TestDatabase } from "./pg";

let db: TestDatabase;
let pool: Pool;
beforeAll(async () => {
  db = await startTestDatabase();
  pool = new Pool({ connectionString: db.url, max: 4 });
  pool.on("error", () => undefined);
});
afterAll(async () => {
  await pool?.end();
  await db?.stop();
});

// The small version of `npm run drill:crash` (100,000 jobs, 4 workers, 8 kills).
describe("random SIGKILLs under load", () => {
  it("completes every job once; only jobs a killed worker ran may have run again", async () => {
    const r = await runCrashDrill({ url: db.url, pool, jobs: 4000, workers: 3, kills: 2, leaseSeconds: 3 });
    expect(r).toMatchObject({ jobs: 4000, completed: 4000, lost: 0, duplicate_runs_unforced: 0 });
    // Kills land at completion marks the drill polls for; a fast machine can finish before the last mark is seen.
    expect(r.kills).toBeGreaterThanOrEqual(1);
    // A crash re-runs what its worker was running or had finished without the outcome written yet, a bounded number.
    expect(r.reruns_after_crash).toBeLessThanOrEqual(2 * (10 + 500));
  }, 180_000);
});
