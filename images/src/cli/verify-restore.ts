import { openBackupStore } from "../backup/store";
import { recordVerification, redactUrl, verifyNewestBackup, waitForServer } from "../backup/verify";
import { parseVerifyEnv } from "../backup/verify-env";
import { runJobCommand } from "./job-command";

/**
 * One restore verification, as its CronJob runs it: the newest backup restored into the scratch server and
 * checked, the outcome recorded in the jobs database. Exit 0 only when the backup verified and the row was written.
 */
runJobCommand({
  component: "restore-verification",
  event: "verify",
  parseEnv: parseVerifyEnv,
  run: async (env, logger, signal) => {
    try {
      await waitForServer(env.scratchUrl, env.scratchWaitSeconds, signal);
    } catch (err) {
      // Not the backup's fault, but still a verification that did not happen: recorded as a failure.
      logger.error({ event: "verify.failed", err: (err as Error).message }, (err as Error).message);
    }
    const { store, prefix } = openBackupStore(env.storeUrl, { ...env.s3, signal });
    const outcome = await verifyNewestBackup({ store, prefix, scratchUrl: env.scratchUrl, pgBinDir: env.pgBinDir, logger, signal });
    const fields = {
      success: outcome.success,
      location: outcome.location,
      key: outcome.backup?.key,
      backupAgeSeconds: outcome.backup ? Math.round((outcome.finishedAt.getTime() - outcome.backup.takenAt.getTime()) / 1000) : undefined,
      restoredRows: outcome.restoredRows,
      seconds: (outcome.finishedAt.getTime() - outcome.startedAt.getTime()) / 1000,
    };
    let id: number;
    try {
      id = await recordVerification(env.databaseUrl, outcome);
    } catch (err) {
      const message = `the outcome could not be recorded in ${redactUrl(env.databaseUrl)}: ${(err as Error).message}`;
      logger.error({ event: "verify.failed", ...fields, err: message, outcome: outcome.message }, message);
      return 1;
    }
    if (outcome.success) {
      logger.info({ event: "verify.completed", id, ...fields, message: outcome.message }, outcome.message);
      return 0;
    }
    logger.error({ event: "verify.failed", id, ...fields, err: outcome.message }, `restore verification failed: ${outcome.message}`);
    return 1;
  },
});
