import { runBackup } from "../backup/backup";
import { parseBackupEnv } from "../backup/env";
import { openBackupStore } from "../backup/store";
import { runJobCommand } from "./job-command";

/** One backup run for the hourly CronJob: dump, verify, prune. Exit 0 only when all three succeeded. */
runJobCommand({
  component: "db-backup",
  event: "backup",
  parseEnv: parseBackupEnv,
  run: async (env, logger, signal) => {
    // A stop (the Job's deadline or an eviction) ends pg_dump and leaves no half-stored backup.
    const { store, prefix } = openBackupStore(env.storeUrl, env.s3);
    const result = await runBackup({ databaseUrl: env.databaseUrl, store, prefix, policy: env.policy, pgBinDir: env.pgBinDir, logger, signal });
    logger.info({ event: "backup.completed", ...result }, "backup completed");
    return 0;
  },
});
