// npm run drill:crash: 100,000 no-op jobs across 4 worker processes (10 slots
// each) with 8 random SIGKILLs, each killed worker replaced. Prints the
// outcome as JSON; exits non-zero if a job was lost or ran twice without a
// crash forcing it.   CRASH_JOBS, CRASH_WORKERS, CRASH_KILLS override.
import { benchDatabase, exitOnError, intFromEnv, truncateJobs } from "./common";
import { runCrashDrill } from "./crash";

async function main(): Promise<void> {
  const db = await benchDatabase();
  try {
    await truncateJobs(db);
    const r = await runCrashDrill({
      url: db.url,
      pool: db.pool,
      jobs: intFromEnv("CRASH_JOBS", 100_000),
      workers: intFromEnv("CRASH_WORKERS", 4),
      kills: intFromEnv("CRASH_KILLS", 8),
    });
    console.log(JSON.stringify(r));
    if (r.lost > 0 || r.duplicate_runs_unforced > 0 || r.completed !== r.jobs) {
      console.error("drill failed: a job was lost or ran twice without a crash forcing it");
      process.exitCode = 1;
    }
  } finally {
    await db.close();
  }
}

main().catch(exitOnError);
