import os from "node:os";
import { z } from "zod";
import { JOB_TYPES, type JobType } from "./types";

const positiveInt = (name: string, def: number) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .int(`${name} must be a whole number`)
    .positive(`${name} must be greater than 0`)
    .default(def);

const EnvSchema = z.object({
  JOB_TYPE: z.enum(JOB_TYPES, { error: `JOB_TYPE must be one of ${JOB_TYPES.join(", ")}` }).optional(),
  DATABASE_URL: z
    .string({ error: "DATABASE_URL is required" })
    .regex(/^postgres(ql)?:\/\//, "DATABASE_URL must be a postgres:// or postgresql:// URL"),
  PORT: z.coerce.number().int().min(1).max(65535).default(8080),
  MAX_CONCURRENT_JOBS: positiveInt("MAX_CONCURRENT_JOBS", 4),
  JOB_TIMEOUT: positiveInt("JOB_TIMEOUT", 300),
  JOB_LEASE_SECONDS: positiveInt("JOB_LEASE_SECONDS", 30),
  JOB_COST_PER_SECOND_USD: z.coerce.number().nonnegative("JOB_COST_PER_SECOND_USD must be >= 0").default(0),
  RESULTS_STORE_URL: z.string().optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  POD_NAME: z.string().min(1).max(200).optional(),
  SHUTDOWN_GRACE_SECONDS: positiveInt("SHUTDOWN_GRACE_SECONDS", 25),
});

export interface WorkerEnv {
  readonly jobType: JobType | undefined;
  readonly databaseUrl: string;
  readonly port: number;
  readonly maxConcurrentJobs: number;
  readonly jobTimeoutSeconds: number;
  readonly leaseSeconds: number;
  readonly costPerSecondUsd: number;
  readonly resultsStoreUrl: string | undefined;
  readonly logLevel: string;
  /** Recorded as `container_id`; the pod name in Kubernetes. */
  readonly containerId: string;
  readonly shutdownGraceSeconds: number;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parses the Deployment's env contract; every problem names its variable. */
export function parseEnv(env: NodeJS.ProcessEnv): WorkerEnv {
  // Empty strings come from `VAR=` in manifests and mean "unset".
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join(".") || "(env)"}: ${i.message}`);
    throw new ConfigError(`Invalid environment:\n${problems.join("\n")}`);
  }
  const e = parsed.data;
  return {
    jobType: e.JOB_TYPE,
    databaseUrl: e.DATABASE_URL,
    port: e.PORT,
    maxConcurrentJobs: e.MAX_CONCURRENT_JOBS,
    jobTimeoutSeconds: e.JOB_TIMEOUT,
    leaseSeconds: e.JOB_LEASE_SECONDS,
    costPerSecondUsd: e.JOB_COST_PER_SECOND_USD,
    resultsStoreUrl: e.RESULTS_STORE_URL,
    logLevel: e.LOG_LEVEL,
    containerId: e.POD_NAME ?? `${os.hostname()}-${process.pid}`,
    shutdownGraceSeconds: e.SHUTDOWN_GRACE_SECONDS,
  };
}
