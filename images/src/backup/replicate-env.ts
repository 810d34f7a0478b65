import { z } from "zod";
import { EnvError, presentEnv, s3Credentials, type BackupEnv } from "./env";

const seconds = (what: string) =>
  z
    .string({ error: `is required (${what})` })
    .refine((v) => /^\d+$/.test(v.trim()), { message: `must be a whole number of seconds (${what})` })
    .transform(Number);

const schema = z.object({
  COPY_SOURCE_URL: z
    .string({ error: "is required (s3://bucket: the R2 backup bucket)" })
    .refine((v) => /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/?$/.test(v), { message: "must be s3://bucket (the R2 backup bucket)" }),
  COPY_SOURCE_ENDPOINT: z.url({ message: "must be a URL (R2's S3 endpoint)" }),
  COPY_TARGET_URL: z
    .string({ error: "is required (gs://bucket or s3://bucket: the copy in the stack's own cloud)" })
    .refine((v) => /^(gs|s3):\/\/[a-z0-9][a-z0-9._-]{1,221}[a-z0-9]\/?$/.test(v), { message: "must be gs://bucket or s3://bucket" }),
  COPY_TARGET_REGION: z.string().min(1).optional(),
  COPY_TARGET_ENDPOINT: z.url({ message: "must be a URL" }).optional(),
  COPY_PREFIXES: z
    .string()
    .optional()
    .transform((v) => (v ?? "postgres/,r2/").split(",").map((p) => p.trim()).filter(Boolean))
    .refine((ps) => ps.length > 0 && ps.every((p) => /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*\/$/.test(p)), { message: "must be a comma-separated list of key prefixes ending in /" }),
  COPY_MONTHLY_RETENTION_SECONDS: seconds("how long a postgres/monthly/ copy stays locked after its source was written"),
  COPY_DEADLINE_SECONDS: seconds("stop starting copies after this long").optional(),
  GOOGLE_CLOUD_PROJECT: z.string().min(1).optional(),
  LOG_LEVEL: z.string().optional(),
});

export interface ReplicateEnv {
  readonly source: { bucket: string; endpoint: string; region: string; credentials: NonNullable<BackupEnv["s3"]["credentials"]> };
  readonly target: { scheme: "gs" | "s3"; bucket: string; region?: string; endpoint?: string; projectId?: string };
  readonly prefixes: string[];
  readonly monthlyRetentionSeconds: number;
  readonly deadlineSeconds?: number;
  readonly logLevel: string;
}

const bucketOf = (url: string) => url.replace(/^[a-z0-9]+:\/\//, "").replace(/\/$/, "");

/**
 * Settings of `replicate-backups`. The source is R2, read with the copy's own read-only key pair (the variables or
 * their `_FILE`s); the target is reached by the pod's cloud identity, so no key for it is ever read.
 */
export function parseReplicateEnv(env: NodeJS.ProcessEnv, readSecret?: (path: string) => string): ReplicateEnv {
  const present = presentEnv(env, readSecret);
  const r = schema.safeParse(present);
  const problems = r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")} ${i.message}`);
  const { credentials } = s3Credentials(present);
  if (!credentials) problems.push("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or their _FILE variants) are required: R2's read-only key pair");
  if (!r.success || !credentials) throw new EnvError(`invalid environment: ${problems.join("; ")}`);
  const e = r.data;
  const scheme = e.COPY_TARGET_URL.startsWith("gs:") ? "gs" : "s3";
  if (scheme === "s3" && !e.COPY_TARGET_REGION) throw new EnvError("invalid environment: COPY_TARGET_REGION is required for an s3:// target");
  return {
    source: { bucket: bucketOf(e.COPY_SOURCE_URL), endpoint: e.COPY_SOURCE_ENDPOINT, region: "auto", credentials },
    target: { scheme, bucket: bucketOf(e.COPY_TARGET_URL), region: e.COPY_TARGET_REGION, endpoint: e.COPY_TARGET_ENDPOINT, projectId: e.GOOGLE_CLOUD_PROJECT },
    prefixes: e.COPY_PREFIXES,
    monthlyRetentionSeconds: e.COPY_MONTHLY_RETENTION_SECONDS,
    deadlineSeconds: e.COPY_DEADLINE_SECONDS,
    logLevel: e.LOG_LEVEL || "info",
  };
}
