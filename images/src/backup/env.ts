import { z } from "zod";
import { resolveSecretFiles, SecretFileError } from "../runtime/secrets";
import { DEFAULT_POLICY, type RetentionPolicy } from "./retention";

export const keepCount = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return fallback;
      const n = Number(v);
      if (!Number.isSafeInteger(n) || n < 1) {
        ctx.addIssue({ code: "custom", message: `must be a positive integer, got ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      return n;
    });

const storeUrl = z
  .string({ error: "is required (file:///dir or s3://bucket[/prefix])" })
  .refine((v) => /^(file:\/\/\/.+|s3:\/\/[^/]+.*)$/.test(v), { message: "must be file:///dir or s3://bucket[/prefix]" });

const databaseUrl = z
  .string({ error: "is required" })
  .refine((v) => /^postgres(ql)?:\/\/.+/.test(v) && URL.canParse(v), { message: "must be a postgres:// URL" });

/** Rows of `backup_runs` kept: a month of hourly runs. */
export const DEFAULT_RUNS_KEPT = 720;

const schema = z.object({
  DATABASE_URL: databaseUrl,
  BACKUP_STORE_URL: storeUrl,
  BACKUP_S3_ENDPOINT: z.url({ message: "must be a URL" }).optional(),
  BACKUP_S3_REGION: z.string().min(1).optional(),
  BACKUP_KEEP_HOURLY: keepCount(DEFAULT_POLICY.hourly),
  BACKUP_KEEP_DAILY: keepCount(DEFAULT_POLICY.daily),
  BACKUP_KEEP_WEEKLY: keepCount(DEFAULT_POLICY.weekly),
  BACKUP_KEEP_MONTHLY: keepCount(DEFAULT_POLICY.monthly),
  PG_BIN_DIR: z
    .string()
    .optional()
    .refine((v) => v === undefined || v === "" || v.startsWith("/"), { message: "must be an absolute directory" }),
  BACKUP_RECORD_RUNS: z
    .enum(["true", "false"], { message: 'must be "true" or "false"' })
    .optional()
    .transform((v) => v !== "false"),
  BACKUP_RUNS_KEEP: keepCount(DEFAULT_RUNS_KEPT),
  LOG_LEVEL: z.string().optional(),
});

export interface BackupEnv {
  readonly databaseUrl: string;
  readonly storeUrl: string;
  /** Credentials are set when given as variables or files; otherwise the SDK's default chain applies (IRSA, instance roles). */
  readonly s3: { endpoint?: string; region?: string; credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } };
  readonly policy: RetentionPolicy;
  readonly pgBinDir?: string;
  /** Whether each run is written to `backup_runs` (false where the jobs database is a read-only replica). */
  readonly recordRuns: boolean;
  /** How many `backup_runs` rows stay (the newest successful one always does). */
  readonly runsKept: number;
  readonly logLevel: string;
}

export class EnvError extends Error {
  override readonly name = "EnvError";
}

/**
 * The environment as a command sees it: empty strings count as unset (a Kubernetes env entry with no value gives
 * one), and secrets may be files (DATABASE_URL_FILE, AWS_SECRET_ACCESS_KEY_FILE…), as the CronJobs mount them.
 */
export function presentEnv(env: NodeJS.ProcessEnv, readSecret?: (path: string) => string): NodeJS.ProcessEnv {
  const given = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ""));
  try {
    return resolveSecretFiles(given, readSecret);
  } catch (err) {
    if (err instanceof SecretFileError) throw new EnvError(`invalid environment: ${err.message.split("\n").join("; ")}`);
    throw err;
  }
}

/** The object store's key pair, when the environment holds one (otherwise the SDK's own chain applies). */
export function s3Credentials(present: NodeJS.ProcessEnv): Pick<BackupEnv["s3"], "credentials"> {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = present;
  if (!accessKeyId || !secretAccessKey) return {};
  return { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } };
}

/** Reads the backup command's settings; every bad variable is named in one error. */
export function parseBackupEnv(env: NodeJS.ProcessEnv, readSecret?: (path: string) => string): BackupEnv {
  const present = presentEnv(env, readSecret);
  const r = schema.safeParse(present);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `${i.path.join(".")} ${i.message}`);
    throw new EnvError(`invalid environment: ${lines.join("; ")}`);
  }
  const e = r.data;
  return {
    databaseUrl: e.DATABASE_URL,
    storeUrl: e.BACKUP_STORE_URL,
    s3: {
      endpoint: e.BACKUP_S3_ENDPOINT,
      region: e.BACKUP_S3_REGION ?? env.AWS_REGION ?? undefined,
      ...s3Credentials(present),
    },
    policy: { hourly: e.BACKUP_KEEP_HOURLY, daily: e.BACKUP_KEEP_DAILY, weekly: e.BACKUP_KEEP_WEEKLY, monthly: e.BACKUP_KEEP_MONTHLY },
    pgBinDir: e.PG_BIN_DIR || undefined,
    recordRuns: e.BACKUP_RECORD_RUNS,
    runsKept: e.BACKUP_RUNS_KEEP,
    logLevel: e.LOG_LEVEL || "info",
  };
}

const mirrorSchema = z.object({
  MIRROR_SOURCE_URL: z
    .string({ error: "is required (s3://bucket[/prefix] or file:///dir): the results store" })
    .refine((v) => /^(file:\/\/\/.+|s3:\/\/[^/]+.*)$/.test(v), { message: "must be file:///dir or s3://bucket[/prefix]" }),
  MIRROR_TARGET_URL: storeUrl,
  MIRROR_S3_ENDPOINT: z.url({ message: "must be a URL" }).optional(),
  MIRROR_KEEP_DAILY: keepCount(30),
  MIRROR_KEEP_WEEKLY: keepCount(12),
  LOG_LEVEL: z.string().optional(),
});

export interface MirrorEnv {
  readonly sourceUrl: string;
  readonly targetUrl: string;
  readonly s3: BackupEnv["s3"];
  readonly retention: { readonly daily: number; readonly weekly: number };
  readonly logLevel: string;
}

/** Reads the results mirror's settings: both stores are in one R2 account, reached with one token (read there, write here). */
export function parseMirrorEnv(env: NodeJS.ProcessEnv, readSecret?: (path: string) => string): MirrorEnv {
  const present = presentEnv(env, readSecret);
  const r = mirrorSchema.safeParse(present);
  if (!r.success) throw new EnvError(`invalid environment: ${r.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`);
  const e = r.data;
  return {
    sourceUrl: e.MIRROR_SOURCE_URL,
    targetUrl: e.MIRROR_TARGET_URL,
    s3: {
      endpoint: e.MIRROR_S3_ENDPOINT,
      region: env.AWS_REGION || undefined,
      ...s3Credentials(present),
    },
    retention: { daily: e.MIRROR_KEEP_DAILY, weekly: e.MIRROR_KEEP_WEEKLY },
    logLevel: e.LOG_LEVEL || "info",
  };
}
