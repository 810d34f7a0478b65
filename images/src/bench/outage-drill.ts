// Database outages of 5, 20, 45 and 90 s (or OUTAGES="5,20") under load, with
// production timings (30 s lease). Prints one JSON line per outage and exits
// non-zero if any job ran twice or never completed.
import { startEmbeddedPostgres } from "../dev/embedded-db";
import { migrate } from "../db/migrate";
import { runOutageDrill } from "./outage";

async function main(): Promise<void> {
  const outages = (process.env.OUTAGES ?? "5,20,45,90").split(",").map((s) => Number(s.trim()));
  if (outages.some((s) => !Number.isFinite(s) || s <= 0)) throw new Error(`OUTAGES must be positive seconds, got ${process.env.OUTAGES}`);
  let failed = false;
  for (const seconds of outages) {
    // A fresh server per outage, so one outage's leftovers cannot hide the next one's.
    const db = await startEmbeddedPostgres({ fast: true });
    try {
      await migrate(db.url);
      const r = await runOutageDrill({ db, outageMs: seconds * 1000 });
      failed ||= r.duplicate_runs > 0 || r.lost > 0;
      console.log(JSON.stringify(r));
    } finally {
      await db.stop();
    }
  }
  if (failed) {
    console.error("drill failed: a job ran twice or never completed");
    process.exit(1);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
