import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Pool } from "pg";
import pino, { type Logger } from "pino";
import { JobQueue } from "../queue/queue";
import { Worker, type WorkerOptions } from "../queue/worker";
import { ApiKeyAuthenticator } from "./auth";
import { createHttpServer } from "./http";
import { createMetrics, type RuntimeMetrics } from "./metrics";
import { createMetricsServer } from "./metrics-server";
import type { HandlerRegistry, JobType, ResultStore } from "./types";

export interface ProcessorOptions {
  readonly type: JobType;
  readonly handlers: HandlerRegistry;
  readonly store: ResultStore;
  readonly databaseUrl: string;
  /** 0 picks a free port. Default 8080. */
  readonly port?: number;
  /** Port of `/metrics`, apart from the API. 0 picks a free port. Default 9090. */
  readonly metricsPort?: number;
  readonly host?: string;
  readonly logger?: Logger;
  /** Default metrics are process-wide; several processors in one process should enable them once. */
  readonly defaultMetrics?: boolean;
  /** Overrides for the worker (concurrency, timeouts, lease, cost). */
  readonly worker?: Partial<Omit<WorkerOptions, "pool" | "databaseUrl" | "handler" | "store">>;
  /**
   * `required` (default): every job request carries an API key (auth.ts) and a client sees only its own jobs.
   * `disabled` is for local development; the policy pack refuses it behind a public route.
   */
  readonly apiAuth?: "required" | "disabled";
  /** Partition upkeep and stats refresh period. Default 1 h. */
  readonly maintenanceIntervalMs?: number;
}

// Only one processor refreshes the rollup at a time.
const STATS_REFRESH_LOCK = 7_031_002;

/**
 * One processor: its worker, HTTP API, probes and metrics over one pool.
 * Ready only after the handler warmed up, while the database answers and
 * until draining starts.
 */
export class Processor {
  readonly metrics: RuntimeMetrics;
  readonly queue: JobQueue;
  readonly worker: Worker;
  private readonly pool: Pool;
  private readonly log: Logger;
  private server: Server | undefined;
  private metricsServer: Server | undefined;
  private warm = false;
  private draining = false;
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly opts: ProcessorOptions) {
    const handler = opts.handlers[opts.type];
    if (!handler) throw new Error(`No handler registered for job type ${opts.type}`);
    const baseLogger = opts.logger ?? pino();
    this.log = baseLogger.child({ jobType: opts.type });
    const concurrency = opts.worker?.concurrency ?? 4;
    this.pool = new Pool({
      connectionString: opts.databaseUrl,
      // Heartbeats, the reaper, failures and releases, and the API share it; claims and completion
      // writes go through sessions of the worker's own (its lanes).
      max: concurrency + 4,
      connectionTimeoutMillis: 5000,
      // A hung server must surface as errors the loops retry, not as stuck awaits.
      query_timeout: 30_000,
      keepAlive: true,
      application_name: `pitchey-${opts.type}`,
    });
    // Idle clients die with the database; the pool drops them and callers retry.
    this.pool.on("error", (err) => this.log.warn({ err: err.message }, "idle database connection lost"));
    this.queue = new JobQueue(this.pool);
    this.metrics = createMetrics({
      defaultMetrics: opts.defaultMetrics,
      collectQueueDepth: async () => {
        const depth = await this.queue.depth();
        return new Map([...depth].map(([t, n]) => [t as string, n]));
      },
      // The view the claim selects from and KEDA's runnable_job_count counts: one definition of runnable.
      collectRunnable: async () => {
        const { rows } = await this.pool.query<{ type: string; n: number }>("SELECT type, count(*)::int AS n FROM runnable_container_jobs GROUP BY type");
        return new Map(rows.map((r) => [r.type, r.n]));
      },
    });
    this.worker = new Worker({
      ...opts.worker,
      pool: this.pool,
      databaseUrl: opts.databaseUrl,
      handler,
      store: opts.store,
      // The worker adds the job type itself.
      logger: baseLogger,
      metrics: this.metrics,
    });
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  get metricsPort(): number {
    return (this.metricsServer?.address() as AddressInfo | null)?.port ?? 0;
  }

  async start(): Promise<void> {
    const handlers: HandlerRegistry = { [this.opts.type]: this.opts.handlers[this.opts.type] };
    this.server = createHttpServer({
      queue: this.queue,
      auth: this.opts.apiAuth === "disabled" ? "disabled" : new ApiKeyAuthenticator(this.pool),
      handlers,
      metrics: this.metrics,
      logger: this.log,
      isAlive: () => this.draining || this.worker.isAlive(),
      isReady: () => this.isReady(),
    });
    this.metricsServer = createMetricsServer(this.metrics);
    const listen = (server: Server, port: number) =>
      new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, this.opts.host, () => resolve());
      });
    // Probes answer (not ready) while the handler warms up.
    await listen(this.server, this.opts.port ?? 8080);
    await listen(this.metricsServer, this.opts.metricsPort ?? 9090);
    await this.opts.handlers[this.opts.type]!.warmup?.();
    this.warm = true;
    await this.worker.start();
    const health = () =>
      this.metrics.containerHealth.set(
        { container: this.worker.containerId },
        !this.draining && this.worker.isAlive() && this.worker.databaseReachable ? 1 : 0,
      );
    health();
    this.timers.push(setInterval(health, 5000));
    void this.maintain();
    this.timers.push(setInterval(() => void this.maintain(), this.opts.maintenanceIntervalMs ?? 3_600_000));
    this.log.info({ port: this.port, metricsPort: this.metricsPort }, "processor ready");
  }

  async isReady(): Promise<boolean> {
    if (!this.warm || this.draining) return false;
    try {
      await this.pool.query("SELECT 1");
      return true;
    } catch {
      return false;
    }
  }

  /** Stops claiming and reports not-ready at once; drains within `graceMs`; then closes everything. */
  async stop(graceMs = 25_000): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    this.metrics.containerHealth.set({ container: this.worker.containerId }, 0);
    for (const t of this.timers) clearInterval(t);
    await this.worker.stop(graceMs);
    await this.opts.handlers[this.opts.type]!.close?.().catch((err: unknown) => this.log.warn({ err }, "handler close failed"));
    const close = (server: Server | undefined) =>
      new Promise<void>((resolve) => {
        if (!server) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      });
    await Promise.all([close(this.server), close(this.metricsServer)]);
    await this.pool.end().catch(() => undefined);
  }

  /** Keeps next months' metric partitions in place and refreshes the dashboard rollup. */
  private async maintain(): Promise<void> {
    try {
      await this.pool.query("SELECT ensure_container_metrics_partitions(2)");
      const client = await this.pool.connect();
      try {
        const { rows } = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1) AS locked", [STATS_REFRESH_LOCK]);
        if (rows[0]?.locked) {
          try {
            await client.query("SELECT refresh_container_stats()");
          } finally {
            await client.query("SELECT pg_advisory_unlock($1)", [STATS_REFRESH_LOCK]);
          }
        }
      } finally {
        client.release();
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, "maintenance failed");
    }
  }
}
