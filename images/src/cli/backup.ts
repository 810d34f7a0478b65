import { runBackup, type BackupProgress } from "../backup/backup";
import { parseBackupEnv } from "../backup/env";
import { recordBackupRun, type BackupRun } from "../backup/runs";
import { openBackupStore } from "../backup/store";
import { redactUrl } from "../backup/verify";
import { runJobCommand } from "./job-command";

/**
 * One backup run for the hourly CronJob: dump, verify, prune, then the run recorded in `backup_runs` whatever its
 * outcome. Exit 0 only when all of it succeeded (a replica that cannot take the row is not a failure).
 */
runJobCommand({
  component: "db-backup",
  event: "backup",
  parseEnv: parseBackupEnv,
  run: async (env, logger, signal) => {
    const startedAt = new Date();
    // A stop (the Job's deadline or an eviction) ends pg_dump and leaves no half-stored backup.
    const { store, prefix } = openBackupStore(env.storeUrl, { ...env.s3, signal });
    const progress: BackupProgress = { tierCopies: [] };
    let failure: unknown;
    let result: Awaited<ReturnType<typeof runBackup>> | undefined;
    let recorded: number | undefined;
    try {
      result = await runBackup({ databaseUrl: env.databaseUrl, store, prefix, policy: env.policy, pgBinDir: env.pgBinDir, logger, signal, progress });
    } catch (err) {
      failure = err;
    }
    if (env.recordRuns) {
      const run: BackupRun = {
        startedAt,
        finishedAt: new Date(),
        success: failure === undefined,
        location: store.url(`${prefix}postgres/`),
        key: progress.key,
        bytes: progress.bytes,
        tierCopies: progress.tierCopies,
        error: failure === undefined ? undefined : failure instanceof Error ? failure.message : String(failure),
      };
      try {
        const r = await recordBackupRun(env.databaseUrl, run, { keep: env.runsKept });
        if (r.recorded) recorded = r.id;
        else logger.warn({ event: "backup.record-skipped", reason: r.reason }, `run not recorded: ${r.reason}`);
      } catch (err) {
        const message = `the run could not be recorded in ${redactUrl(env.databaseUrl)}: ${(err as Error).message}`;
        logger.error({ event: "backup.record-failed", err: message }, message);
        // An unrecorded success leaves BackupStale to fire later; say so now with the exit code.
        if (failure === undefined) return 1;
      }
    }
    if (failure !== undefined) throw failure;
    logger.info({ event: "backup.completed", ...result, ...(recorded !== undefined ? { recordedAs: recorded } : {}) }, "backup completed");
    return 0;
  },
});
