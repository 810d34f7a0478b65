import { parseMirrorEnv } from "../backup/env";
import { runMirror } from "../backup/mirror";
import { openBackupStore } from "../backup/store";
import { runJobCommand } from "./job-command";

/** One day's mirror of the results store into the backup bucket's `r2/`, for the daily CronJob. */
runJobCommand({
  component: "results-mirror",
  event: "mirror",
  parseEnv: parseMirrorEnv,
  run: async (env, logger, signal) => {
    const source = openBackupStore(env.sourceUrl, { ...env.s3, signal });
    const target = openBackupStore(env.targetUrl, { ...env.s3, signal });
    const result = await runMirror({
      source: source.store,
      sourcePrefix: source.prefix,
      target: target.store,
      targetPrefix: target.prefix,
      retention: env.retention,
      logger,
      signal,
    });
    logger.info({ event: "mirror.completed", ...result }, "mirror completed");
    return 0;
  },
});
