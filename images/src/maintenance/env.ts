import { readFileSync } from "node:fs";
import { EnvError } from "../backup/env";
import { MAINTENANCE_TASKS, type MaintenanceTask } from "./tasks";

/** `X_FILE` (a mounted Secret's file, trailing newline trimmed) wins over `X`. */
export function secretFromEnv(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const file = env[`${name}_FILE`];
  if (file) return readFileSync(file, "utf8").replace(/\r?\n$/, "");
  return env[name] || undefined;
}

export interface MaintenanceEnv {
  readonly task: MaintenanceTask;
  readonly databaseUrl: string;
  readonly statementTimeoutSeconds: number;
  readonly metricsRetentionMonths: number;
  readonly jobRetentionDays: number;
  readonly purgeBatchSize: number;
  readonly storeUrl?: string;
  readonly s3Endpoint?: string;
}

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number, problems: string[]): number {
  const v = env[name];
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) problems.push(`${name} must be a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

/** The maintenance command's settings: the task from argv, the rest from env; every problem named at once. */
export function parseMaintenanceEnv(argv: readonly string[], env: NodeJS.ProcessEnv): MaintenanceEnv {
  const problems: string[] = [];
  const task = argv[0] as MaintenanceTask;
  if (!MAINTENANCE_TASKS.includes(task)) problems.push(`task must be one of ${MAINTENANCE_TASKS.join(", ")}, got ${JSON.stringify(argv[0] ?? "")}`);
  let databaseUrl: string | undefined;
  try {
    databaseUrl = secretFromEnv(env, "DATABASE_URL");
  } catch (e) {
    problems.push(`DATABASE_URL_FILE cannot be read: ${(e as Error).message}`);
  }
  if (!databaseUrl || !/^postgres(ql)?:\/\/.+/.test(databaseUrl)) problems.push("DATABASE_URL (or DATABASE_URL_FILE) must be a postgres:// URL");
  const parsed = {
    statementTimeoutSeconds: positive(env, "MAINTENANCE_STATEMENT_TIMEOUT_SECONDS", 1800, problems),
    metricsRetentionMonths: positive(env, "METRICS_RETENTION_MONTHS", 12, problems),
    jobRetentionDays: positive(env, "JOB_RETENTION_DAYS", 90, problems),
    purgeBatchSize: positive(env, "PURGE_BATCH_SIZE", 5000, problems),
  };
  if (problems.length > 0) throw new EnvError(`invalid maintenance settings: ${problems.join("; ")}`);
  return { task, databaseUrl: databaseUrl!, ...parsed, storeUrl: env.REPORT_STORE_URL || undefined, s3Endpoint: env.REPORT_S3_ENDPOINT || undefined };
}
