import pino from "pino";
import { EnvError, parseMirrorEnv } from "../backup/env";
import { runMirror } from "../backup/mirror";
import { openBackupStore } from "../backup/store";

/** One day's mirror of the results store into the backup bucket's `r2/`, for the daily CronJob. */
async function main(): Promise<number> {
  const logger = pino({ level: process.env.LOG_LEVEL || "info", base: { component: "results-mirror" } });
  let env;
  try {
    env = parseMirrorEnv(process.env);
  } catch (err) {
    if (!(err instanceof EnvError)) throw err;
    logger.fatal({ event: "mirror.failed", err: err.message }, err.message);
    return 2;
  }
  const stop = new AbortController();
  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    process.once(sig, () => {
      logger.warn({ event: "mirror.stopping", signal: sig }, "stopping");
      stop.abort(new Error(`stopped by ${sig}`));
    });
  }
  try {
    const source = openBackupStore(env.sourceUrl, env.s3);
    const target = openBackupStore(env.targetUrl, env.s3);
    const result = await runMirror({
      source: source.store,
      sourcePrefix: source.prefix,
      target: target.store,
      targetPrefix: target.prefix,
      retention: env.retention,
      logger,
      signal: stop.signal,
    });
    logger.info({ event: "mirror.completed", ...result }, "mirror completed");
    return 0;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    logger.error({ event: "mirror.failed", err: message }, `mirror failed: ${message}`);
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
