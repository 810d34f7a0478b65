import pino from "pino";
import { parseEnv } from "./config";
import { Processor } from "./processor";
import { type HandlerRegistry, JOB_TYPES, type JobType, type ResultStore } from "./types";

export interface RunOptions {
  readonly argv: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly handlers: HandlerRegistry;
  readonly createStore: (env: NodeJS.ProcessEnv) => ResultStore;
}

/** For handlers that never use a store (code results live in the job row): any use is a bug, said plainly. */
const NO_STORE: ResultStore = {
  put: () => Promise.reject(new Error("this worker has no results store (RESULTS_STORE_URL is not set)")),
  fetchToFile: () => Promise.reject(new Error("this worker has no results store (RESULTS_STORE_URL is not set)")),
};

function typeFromArgs(argv: readonly string[]): string | undefined {
  const i = argv.findIndex((a) => a === "--type" || a.startsWith("--type="));
  if (i < 0) return undefined;
  return argv[i]!.includes("=") ? argv[i]!.split("=")[1] : argv[i + 1];
}

/**
 * Runs one processor until SIGTERM/SIGINT: the first signal drains within the
 * grace period and exits 0; a second exits at once (leases recover the jobs).
 */
export async function runWorkerProcess(opts: RunOptions): Promise<void> {
  const env = parseEnv(opts.env);
  const logger = pino({ level: env.logLevel, base: { container: env.containerId } });
  const type = (typeFromArgs(opts.argv) ?? env.jobType) as JobType | undefined;
  if (!type || !(JOB_TYPES as readonly string[]).includes(type)) {
    throw new Error(`Job type must be one of ${JOB_TYPES.join(", ")} (--type or JOB_TYPE), got ${type ?? "nothing"}`);
  }
  const processor = new Processor({
    type,
    handlers: opts.handlers,
    // Secrets read from their files; a handler that keeps its results in the job row needs no store at all.
    store: opts.handlers[type]?.usesStore === false && !env.resultsStoreUrl ? NO_STORE : opts.createStore(env.resolved),
    databaseUrl: env.databaseUrl,
    port: env.port,
    metricsPort: env.metricsPort,
    apiAuth: env.apiAuth,
    logger,
    worker: {
      containerId: env.containerId,
      concurrency: env.maxConcurrentJobs,
      jobTimeoutMs: env.jobTimeoutSeconds * 1000,
      leaseSeconds: env.leaseSeconds,
      costPerSecondUsd: env.costPerSecondUsd,
    },
  });
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal }, "second signal; exiting now");
      process.exit(130);
    }
    logger.info({ signal }, "shutting down");
    processor
      .stop(env.shutdownGraceSeconds * 1000)
      .then(() => {
        logger.info("shutdown complete");
        logger.flush();
        process.exit(0);
      })
      .catch((err: unknown) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      });
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  await processor.start();
}
