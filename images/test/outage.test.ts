import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { migrate } from "../src/db/migrate";
import { runOutageDrill } from "../src/bench/outage";
import { type EmbeddedDatabase, startEmbeddedPostgres } from "../src/dev/embedded-db";

// Production timings (30 s lease, 5 s heartbeat): the outages are shorter than
// the lease, so no job may run twice. The 45 s and 90 s outages are in
// `npm run drill:outage`.
let db: EmbeddedDatabase;
beforeEach(async () => {
  db = await startEmbeddedPostgres({ fast: true });
  await migrate(db.url);
});
afterEach(async () => {
  await db?.stop();
});

describe("database outage under load", () => {
  it.each([5, 20])("runs every job exactly once through a %i s outage", async (seconds) => {
    const r = await runOutageDrill({ db, outageMs: seconds * 1000, loadMs: 1500, jobsPerSecond: 80 });
    expect(r.jobs).toBeGreaterThan(50);
    expect(r).toMatchObject({ duplicate_runs: 0, lost: 0, max_attempts: 1 });
  }, 150_000);

  // Outages longer than the lease (45 s and 90 s with production timings) in a few seconds: the leases in the
  // database run out while it is down, so only the renewal before the liveness lock keeps peers off the jobs.
  // Reconnect back-off and settle time are absolute, not scaled: this is the same path, not the same run.
  it("runs every job exactly once through an outage three times the lease", async () => {
    const r = await runOutageDrill({
      db,
      outageMs: 9000,
      loadMs: 1500,
      jobsPerSecond: 80,
      worker: { leaseSeconds: 3, heartbeatIntervalMs: 500, reapIntervalMs: 200 },
    });
    expect(r.jobs).toBeGreaterThan(50);
    expect(r).toMatchObject({ duplicate_runs: 0, lost: 0, max_attempts: 1 });
  }, 150_000);
});
