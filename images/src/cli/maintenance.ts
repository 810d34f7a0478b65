import { openBackupStore } from "../backup/store";
import { parseMaintenanceEnv, secretFromEnv } from "../maintenance/env";
import { runMaintenance } from "../maintenance/tasks";
import { runJobCommand } from "./job-command";

/** One maintenance task, as a CronJob runs it: `maintenance <task>`. Exit 0 when done or skipped (already running). */
runJobCommand({
  component: "db-maintenance",
  event: "maintenance",
  parseEnv: (env) => parseMaintenanceEnv(process.argv.slice(2), env),
  run: async (env, logger, signal) => {
    // The object store's token may come as mounted files; the S3 client reads the plain variables.
    for (const key of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]) {
      const value = secretFromEnv(process.env, key);
      if (value) process.env[key] = value;
    }
    const store = env.storeUrl ? openBackupStore(env.storeUrl, { endpoint: env.s3Endpoint, region: process.env.AWS_REGION, signal }).store : undefined;
    const result = await runMaintenance(env.task, { ...env, store, signal }).catch((err: unknown) => {
      // The failed line names the command; the task is what tells its CronJobs apart.
      throw new Error(`${env.task}: ${err instanceof Error ? err.message : String(err)}`);
    });
    logger.info({ event: `maintenance.${result.status}`, ...result }, `${env.task} ${result.status}`);
    return 0;
  },
});
