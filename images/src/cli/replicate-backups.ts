import { replicate } from "../backup/replicate";
import { parseReplicateEnv } from "../backup/replicate-env";
import { GcsCopyTarget, S3CopySource, S3CopyTarget } from "../backup/replicate-stores";
import { tierFolder } from "../backup/backup";
import { runJobCommand } from "./job-command";

/**
 * The daily copy of the R2 backup bucket's `postgres/` and `r2/` into the stack's own cloud (GCS or S3), for the
 * `backup-copy` CronJob: adds what the copy lacks, locks the monthly tier, deletes nothing.
 */
runJobCommand({
  component: "backup-copy",
  event: "replicate",
  parseEnv: parseReplicateEnv,
  run: async (env, logger, signal) => {
    const source = new S3CopySource(env.source);
    const t = env.target;
    const target =
      t.scheme === "gs"
        ? new GcsCopyTarget(t.bucket, { endpoint: t.endpoint, projectId: t.projectId })
        : // No key pair: the SDK's default chain takes the pod's IRSA web identity.
          new S3CopyTarget({ bucket: t.bucket, region: t.region!, endpoint: t.endpoint });
    const started = Date.now();
    const result = await replicate({
      source,
      target,
      prefixes: env.prefixes,
      lock: { prefix: `postgres/${tierFolder("monthly")}`, seconds: env.monthlyRetentionSeconds },
      deadline: env.deadlineSeconds !== undefined ? new Date(started + env.deadlineSeconds * 1000) : undefined,
      logger,
      signal,
    });
    logger.info({ event: "replicate.completed", target: target.url, seconds: (Date.now() - started) / 1000, ...result }, "backup copy completed");
    return 0;
  },
});
