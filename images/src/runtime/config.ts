import os from "node:os";
import { z } from "zod";
import { resolveSecretFiles, SecretFileError } from "./secrets";
import { JOB_TYPES, type JobType } from "./types";

const positiveInt = (name: string, def: number) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .int(`${name} must be a whole number`)
    .positive(`${name} must be greater than 0`)
    .default(def);

const optionalPositiveInt = (name: string) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .int(`${name} must be a whole number`)
    .positive(`${name} must be greater than 0`)
    .optional();

const EnvSchema = z.object({
  JOB_TYPE: z.enum(JOB_TYPES, { error: `JOB_TYPE must be one of ${JOB_TYPES.join(", ")}` }).optional(),
  DATABASE_URL: z
    .string({ error: "DATABASE_URL is required" })
    .regex(/^postgres(ql)?:\/\//, "DATABASE_URL must be a postgres:// or postgresql:// URL"),
  PORT: z.coerce.number().int().min(1).max(65535).default(8080),
  METRICS_PORT: z.coerce.number().int().min(1).max(65535).default(9090),
  MAX_CONCURRENT_JOBS: positiveInt("MAX_CONCURRENT_JOBS", 4),
  JOB_TIMEOUT: positiveInt("JOB_TIMEOUT", 300),
  JOB_LEASE_SECONDS: positiveInt("JOB_LEASE_SECONDS", 30),
  JOB_COST_PER_SECOND_USD: z.coerce.number().nonnegative("JOB_COST_PER_SECOND_USD must be >= 0").default(0),
  RESULTS_STORE_URL: z.string().optional(),
  API_AUTH: z.enum(["required", "disabled"], { error: "API_AUTH must be required or disabled" }).default("required"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  POD_NAME: z.string().min(1).max(200).optional(),
  SHUTDOWN_GRACE_SECONDS: positiveInt("SHUTDOWN_GRACE_SECONDS", 25),
  // The container's limits through the downward API (resourceFieldRef, divisors 1m and 1).
  CPU_LIMIT_MILLICORES: optionalPositiveInt("CPU_LIMIT_MILLICORES"),
  MEMORY_LIMIT_BYTES: optionalPositiveInt("MEMORY_LIMIT_BYTES"),
});

export interface WorkerEnv {
  readonly jobType: JobType | undefined;
  readonly databaseUrl: string;
  readonly port: number;
  /** `/metrics` listens here, apart from the API. */
  readonly metricsPort: number;
  readonly maxConcurrentJobs: number;
  readonly jobTimeoutSeconds: number;
  readonly leaseSeconds: number;
  readonly costPerSecondUsd: number;
  readonly resultsStoreUrl: string | undefined;
  /** Whether job requests need an API key (`API_AUTH`, default required). */
  readonly apiAuth: "required" | "disabled";
  readonly logLevel: string;
  /** Recorded as `container_id`; the pod name in Kubernetes. */
  readonly containerId: string;
  readonly shutdownGraceSeconds: number;
  /** The container's CPU limit; sizes the code sandboxes. */
  readonly cpuLimitMillicores: number | undefined;
  readonly memoryLimitBytes: number | undefined;
  /** The environment with secrets read from their `_FILE`s: what the results store reads its credentials from. */
  readonly resolved: NodeJS.ProcessEnv;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * Parses the Deployment's env contract; every problem names its variable. A secret may come from a file
 * (`DATABASE_URL_FILE` and the like, see `resolveSecretFiles`); `readSecret` reads it.
 */
export function parseEnv(env: NodeJS.ProcessEnv, readSecret?: (path: string) => string): WorkerEnv {
  // Empty strings come from `VAR=` in manifests and mean "unset".
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  let cleaned: NodeJS.ProcessEnv;
  try {
    cleaned = resolveSecretFiles(present, readSecret);
  } catch (err) {
    if (err instanceof SecretFileError) throw new ConfigError(`Invalid environment:\n  ${err.message.split("\n").join("\n  ")}`);
    throw err;
  }
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
    metricsPort: e.METRICS_PORT,
    maxConcurrentJobs: e.MAX_CONCURRENT_JOBS,
    jobTimeoutSeconds: e.JOB_TIMEOUT,
    leaseSeconds: e.JOB_LEASE_SECONDS,
    costPerSecondUsd: e.JOB_COST_PER_SECOND_USD,
    resultsStoreUrl: e.RESULTS_STORE_URL,
    apiAuth: e.API_AUTH,
    logLevel: e.LOG_LEVEL,
    containerId: e.POD_NAME ?? `${os.hostname()}-${process.pid}`,
    shutdownGraceSeconds: e.SHUTDOWN_GRACE_SECONDS,
    cpuLimitMillicores: e.CPU_LIMIT_MILLICORES,
    memoryLimitBytes: e.MEMORY_LIMIT_BYTES,
    resolved: cleaned,
  };
}
