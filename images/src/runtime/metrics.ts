import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { JOB_TYPES } from "./types";

/**
 * The metric names and labels are a contract with the alert rules and
 * dashboards; rename only together with them.
 */
export interface RuntimeMetrics {
  readonly registry: Registry;
  readonly jobsTotal: Counter<"type" | "status">;
  readonly jobDuration: Histogram<"type">;
  readonly jobWait: Histogram<"type">;
  readonly queueDepth: Gauge<"queue">;
  readonly queueRunnable: Gauge<"queue">;
  readonly containerHealth: Gauge<"container">;
  readonly jobCost: Counter<"type">;
  readonly jobsActive: Gauge<"type">;
  readonly claimLatency: Histogram<"type">;
  readonly leaseExpiries: Counter<"type">;
  readonly retries: Counter<"type">;
  readonly deadJobs: Counter<"type">;
  readonly staleCompletions: Counter<"type">;
  readonly httpRequests: Counter<"method" | "route" | "status">;
  readonly httpDuration: Histogram<"method" | "route">;
}

/** Reads one figure per queue at scrape time; queues it leaves out are exported as 0. */
type QueueCounts = () => Promise<Map<string, number>>;

/** A gauge per queue filled from the database when scraped, so the figure is the database's, not this pod's view. */
function queueGauge(name: string, help: string, registers: Registry[], read: QueueCounts | undefined): Gauge<"queue"> {
  return new Gauge({
    name,
    help,
    labelNames: ["queue"],
    registers,
    async collect() {
      if (!read) return;
      try {
        const counts = await read();
        // Every queue is exported, empty ones as 0, so alerts and KEDA never see a gap.
        for (const queue of JOB_TYPES) this.set({ queue }, counts.get(queue) ?? 0);
      } catch {
        // A failed scrape-time query must not fail the whole scrape.
      }
    },
  });
}

export function createMetrics(
  opts: {
    defaultMetrics?: boolean;
    /** Pending jobs per queue, due or not. */
    collectQueueDepth?: QueueCounts;
    /** Jobs per queue a worker could claim now (pending and due): what KEDA scales on. */
    collectRunnable?: QueueCounts;
  } = {},
): RuntimeMetrics {
  const registry = new Registry();
  const registers = [registry];
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  return {
    registry,
    jobsTotal: new Counter({
      name: "jobs_total",
      help: "Job attempts by outcome: completed, failed (will retry or permanent), dead (out of attempts)",
      labelNames: ["type", "status"],
      registers,
    }),
    jobDuration: new Histogram({
      name: "job_duration_seconds",
      help: "Job processing duration in seconds",
      labelNames: ["type"],
      buckets: [1, 5, 10, 30, 60, 120, 300, 600],
      registers,
    }),
    jobWait: new Histogram({
      name: "job_wait_seconds",
      help: "Time a running job spent waiting for a shared resource (a free code sandbox), left out of job_duration_seconds and job_cost_usd",
      labelNames: ["type"],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60],
      registers,
    }),
    queueDepth: queueGauge(
      "job_queue_depth",
      "Pending jobs per queue (job type), due now or scheduled for later (retries in back-off included)",
      registers,
      opts.collectQueueDepth,
    ),
    queueRunnable: queueGauge(
      "job_queue_runnable",
      "Jobs per queue a worker could claim now: pending and due (run_at <= now()), the count KEDA's runnable_job_count scales on",
      registers,
      opts.collectRunnable,
    ),
    containerHealth: new Gauge({
      name: "container_health",
      help: "Container health status (1=healthy, 0=unhealthy)",
      labelNames: ["container"],
      registers,
    }),
    jobCost: new Counter({ name: "job_cost_usd", help: "Total cost of jobs in USD", labelNames: ["type"], registers }),
    jobsActive: new Gauge({ name: "jobs_active", help: "Jobs running in this process", labelNames: ["type"], registers }),
    claimLatency: new Histogram({
      name: "job_claim_latency_seconds",
      help: "Time from a job becoming runnable to a worker claiming it",
      labelNames: ["type"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600],
      registers,
    }),
    leaseExpiries: new Counter({
      name: "job_lease_expiries_total",
      help: "Jobs reclaimed from workers that lost their lease",
      labelNames: ["type"],
      registers,
    }),
    retries: new Counter({ name: "job_retries_total", help: "Failed attempts scheduled for retry", labelNames: ["type"], registers }),
    deadJobs: new Counter({ name: "jobs_dead_total", help: "Jobs moved to the dead-letter state", labelNames: ["type"], registers }),
    staleCompletions: new Counter({
      name: "job_stale_completions_total",
      help: "Outcomes rejected because the worker no longer held the lease",
      labelNames: ["type"],
      registers,
    }),
    httpRequests: new Counter({
      name: "http_requests_total",
      help: "HTTP requests",
      labelNames: ["method", "route", "status"],
      registers,
    }),
    httpDuration: new Histogram({
      name: "http_request_duration_seconds",
      help: "HTTP request duration in seconds",
      labelNames: ["method", "route"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
  };
}
