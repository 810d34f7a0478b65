import pino from "pino";
import { runBackup } from "../backup/backup";
import { EnvError, parseBackupEnv } from "../backup/env";
import { openBackupStore } from "../backup/store";

/** One backup run for the hourly CronJob: dump, verify, prune. Exit 0 only when all three succeeded. */
async function main(): Promise<number> {
  const logger = pino({ level: process.env.LOG_LEVEL || "info", base: { component: "db-backup" } });
  let env;
  try {
    env = parseBackupEnv(process.env);
  } catch (err) {
    if (!(err instanceof EnvError)) throw err;
    logger.fatal({ event: "backup.failed", err: err.message }, err.message);
    return 2;
  }
  // Kubernetes sends SIGTERM at the Job's deadline or on eviction: stop pg_dump and leave no half-stored backup.
  const stop = new AbortController();
  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    process.once(sig, () => {
      logger.warn({ event: "backup.stopping", signal: sig }, "stopping");
      stop.abort(new Error(`stopped by ${sig}`));
    });
  }
  try {
    const { store, prefix } = openBackupStore(env.storeUrl, env.s3);
    const result = await runBackup({
      databaseUrl: env.databaseUrl,
      store,
      prefix,
      policy: env.policy,
      pgBinDir: env.pgBinDir,
      logger,
      signal: stop.signal,
    });
    logger.info({ event: "backup.completed", ...result }, "backup completed");
    return 0;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    logger.error({ event: "backup.failed", err: message }, `backup failed: ${message}`);
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
