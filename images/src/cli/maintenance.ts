import pino from "pino";
import { openBackupStore } from "../backup/store";
import { MaintenanceEnvError, parseMaintenanceEnv, secretFromEnv } from "../maintenance/env";
import { runMaintenance } from "../maintenance/tasks";

/** One maintenance task, as a CronJob runs it: `maintenance <task>`. Exit 0 when done or skipped (already running). */
async function main(): Promise<number> {
  const logger = pino({ level: process.env.LOG_LEVEL || "info", base: { component: "db-maintenance" } });
  let env;
  try {
    env = parseMaintenanceEnv(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof MaintenanceEnvError)) throw err;
    logger.fatal({ event: "maintenance.failed", err: err.message }, err.message);
    return 2;
  }
  try {
    // The object store's token may come as mounted files; the S3 client reads the plain variables.
    for (const key of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]) {
      const value = secretFromEnv(process.env, key);
      if (value) process.env[key] = value;
    }
    const store = env.storeUrl ? openBackupStore(env.storeUrl, { endpoint: env.s3Endpoint, region: process.env.AWS_REGION }).store : undefined;
    const result = await runMaintenance(env.task, { ...env, store });
    logger.info({ event: `maintenance.${result.status}`, ...result }, `${env.task} ${result.status}`);
    return 0;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    logger.error({ event: "maintenance.failed", task: env.task, err: message }, `${env.task} failed: ${message}`);
    return 1;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  },
);
