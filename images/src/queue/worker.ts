import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Client, type Pool } from "pg";
import pino, { type Logger } from "pino";
import { JobTimeoutError, LeaseLostError, PermanentJobError, ShutdownError } from "../runtime/errors";
import type { RuntimeMetrics } from "../runtime/metrics";
import type { JobContext, JobHandler, ResultStore } from "../runtime/types";
import { Lane } from "./lane";
import { CLAIM_SESSION_SETTINGS, type ClaimedJob, JobQueue, LIVENESS_LOCK_NAMESPACE, type Queryable } from "./queue";

export interface BackoffOptions {
  /** Delay before the first retry; doubles per attempt. Default 2000 ms. */
  readonly baseMs?: number;
  /** Upper bound of a retry delay. Default 1 h. */
  readonly maxMs?: number;
}

export interface WorkerOptions {
  readonly pool: Pool;
  /** Used for the dedicated LISTEN connection. */
  readonly databaseUrl: string;
  readonly handler: JobHandler;
  readonly store: ResultStore;
  /** Recorded as `container_id`. Default: host name and pid. */
  readonly containerId?: string;
  /** Owner recorded in `locked_by`; unique per process so a restarted container cannot pass another's fence. */
  readonly workerId?: string;
  /** Jobs run at once. Default 4. */
  readonly concurrency?: number;
  /**
   * Most jobs claimed ahead of free slots, held (leased, heartbeated) in a
   * local buffer so one claim serves many jobs. The buffer is sized to cover
   * `prefetchWindowMs` of work at the observed job duration, so short jobs
   * are claimed hundreds at a time and long ones are not hoarded. 0 disables.
   * Default 1000.
   */
  readonly prefetch?: number;
  /** Work the prefetch buffer aims to hold, in milliseconds of handler time across all slots. Default 250. */
  readonly prefetchWindowMs?: number;
  /** Default 300 s. */
  readonly jobTimeoutMs?: number;
  /** Default 30 s. */
  readonly leaseSeconds?: number;
  /** Default a sixth of the lease. */
  readonly heartbeatIntervalMs?: number;
  /** Fallback when a notification is missed or a retry comes due. Default 1000 ms. */
  readonly pollIntervalMs?: number;
  /** How often this worker looks for jobs of lost workers. Default 2000 ms. */
  readonly reapIntervalMs?: number;
  /**
   * After this worker reconnects from an outage, how long it waits before it
   * treats a missing liveness lock as a dead worker: live workers need that
   * long to reconnect and re-take theirs. Also how long after a server start.
   * Default 5000 ms (listener reconnects are at most 2 s apart).
   */
  readonly reconnectSettleMs?: number;
  readonly backoff?: BackoffOptions;
  /** Cost rate for `estimated_cost_usd`. Default 0. */
  readonly costPerSecondUsd?: number;
  readonly logger?: Logger;
  readonly metrics?: RuntimeMetrics;
  /** Parent of each attempt's scratch directory. Default the OS temp dir. */
  readonly workRoot?: string;
  /** Observes each job as it starts (benchmarks and tests). */
  readonly onClaim?: (job: ClaimedJob) => void;
  /** Observes each recorded outcome. */
  readonly onSettled?: (job: ClaimedJob, outcome: Outcome) => void;
}

export type Outcome = "completed" | "pending" | "dead" | "failed" | "released" | "lost";

/** What every attempt of a worker shares; handed to each {@link Attempt} rather than captured in closures. */
interface AttemptEnv {
  readonly log: Logger;
  readonly store: ResultStore;
  readonly workRoot: string;
  readonly metrics: RuntimeMetrics | undefined;
}

/**
 * One claimed job from its claim until its outcome is written: buffered
 * (leased, not started), running, then finished with the outcome on its way.
 * Heartbeats cover it throughout. It is also the handler's {@link JobContext}:
 * one object per job, its abort signal and logger made only when asked for,
 * because at thousands of jobs a second what each job allocates is what the
 * worker's process spends its time on.
 */
class Attempt implements JobContext {
  /** Local view of when the lease runs out, advanced by each successful heartbeat. */
  leaseDeadline: number;
  fraction: number | null = null;
  message: string | null = null;
  /** Why the attempt was aborted (timeout, lease lost, shutdown); undefined while it may run on. */
  reason: Error | undefined;
  /** Seconds spent waiting for a shared resource, left out of duration and cost. */
  waited = 0;
  running = false;
  private controller: AbortController | undefined;
  private rejectRun: ((err: unknown) => void) | undefined;
  private log: Logger | undefined;
  private dir: string | undefined;

  constructor(
    readonly job: ClaimedJob,
    readonly claimedAt: number,
    private readonly env: AttemptEnv,
  ) {
    this.leaseDeadline = claimedAt;
  }

  get jobId(): string {
    return this.job.id;
  }

  get attempt(): number {
    return this.job.attempt;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  get logger(): Logger {
    return (this.log ??= this.env.log.child({ jobId: this.job.id, attempt: this.job.attempt }));
  }

  get store(): ResultStore {
    return this.env.store;
  }

  /** Made on first use: most attempts never touch the disk, and a directory per job costs throughput. */
  get workDir(): string {
    return (this.dir ??= mkdtempSync(path.join(this.env.workRoot, `job-${this.job.id.slice(0, 8)}-`)));
  }

  /** The scratch directory, if the handler made one. */
  get madeWorkDir(): string | undefined {
    return this.dir;
  }

  progress(fraction: number, message?: string): void {
    this.fraction = Math.max(0, Math.min(1, fraction));
    this.message = message ?? null;
  }

  recordWait(seconds: number): void {
    if (!(seconds > 0)) return;
    this.waited += seconds;
    this.env.metrics?.jobWait.observe({ type: this.job.type }, seconds);
  }

  /** Stops the attempt: its signal fires and {@link run} rejects with `reason` at once. The first reason wins. */
  abort(reason: Error): void {
    if (this.reason) return;
    this.reason = reason;
    this.controller?.abort(reason);
    this.rejectRun?.(reason);
  }

  /** Settles with the handler, or rejects with the abort reason as soon as the attempt is aborted. */
  run<T>(work: Promise<T>): Promise<T> {
    if (this.reason) {
      work.catch(() => undefined);
      return Promise.reject(this.reason);
    }
    return new Promise<T>((resolve, reject) => {
      this.rejectRun = reject;
      work.then(resolve, (err: unknown) => reject(this.reason ?? err));
    });
  }
}

interface Completion {
  readonly attempt: Attempt;
  readonly job: ClaimedJob;
  readonly result: unknown;
  readonly durationSeconds: number;
  readonly costUsd: number;
}

/**
 * Completion writes a worker keeps in flight at once, pipelined on its write
 * lane: the second goes out only when a full batch has gathered behind the
 * first, so one is usual.
 */
const COMPLETION_WRITES_IN_FLIGHT = 2;
/** Finished jobs whose outcome is not written yet, beyond which no buffered job starts. */
const MAX_UNWRITTEN_OUTCOMES = 500;
/**
 * Most outcomes one completion write carries. With at most two in flight,
 * jobs stop starting only when both are full and on their way. Against four
 * of 125, fewer commits for the same work: 2 × 250 ran faster and used less
 * CPU per job in every alternating pair measured.
 */
const COMPLETION_BATCH = 250;
/**
 * Most jobs one claim takes. The buffer (up to a thousand no-op jobs) is
 * filled by two claims of this size rather than one: a claim's rows come back
 * only once all of them are locked and updated, so a smaller first batch
 * starts jobs sooner, and the second is taken while it runs.
 */
const CLAIM_BATCH = 500;
/**
 * Claims a worker keeps in flight at once, pipelined on its claim lane: the
 * server starts the second the moment the first commits, with no round trip
 * between them, and, on one session, they never skip each other's rows.
 */
const CLAIMS_IN_FLIGHT = 2;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** A deadline in a race; must not keep the process alive once the race is decided. */
const deadline = (ms: number) => new Promise<false>((resolve) => setTimeout(() => resolve(false), ms).unref());

/** Exponential backoff with "equal jitter": half fixed, half random, so retries of a burst spread out. */
export function retryDelayMs(attempt: number, opts: BackoffOptions = {}): number {
  const base = opts.baseMs ?? 2000;
  const max = opts.maxMs ?? 3_600_000;
  const exp = Math.min(max, base * 2 ** Math.min(attempt - 1, 30));
  return Math.round(exp / 2 + Math.random() * (exp / 2));
}

function describe(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  // PostgreSQL text cannot hold NUL.
  return text.replaceAll("\u0000", "");
}

/**
 * Connection loss, server shutdown, resource exhaustion and serialization
 * conflicts pass; errors in the data or the statement do not.
 */
export function isTransient(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== "string" || !/^[0-9A-Z]{5}$/.test(code)) return true;
  return /^(08|53|57P|58)/.test(code) || code === "40001" || code === "40P01";
}

/**
 * Claims jobs of one type and runs them through its handler: leases renewed
 * by heartbeat, outcomes fenced on (worker, attempt), retries with backoff,
 * and a drain on stop. Survives database restarts by retrying every database
 * step with backoff and re-listening.
 */
export class Worker {
  readonly workerId: string;
  readonly containerId: string;
  private readonly queue: JobQueue;
  private readonly log: Logger;
  private readonly concurrency: number;
  private readonly leaseSeconds: number;
  private readonly jobTimeoutMs: number;
  private readonly heartbeatMs: number;
  private readonly pollMs: number;
  private readonly reapMs: number;
  private readonly settleMs: number;
  /** Jobs whose handler is running; their number is bounded by the concurrency. */
  private readonly running = new Map<string, Attempt>();
  /** Jobs this worker holds a lease on: running, or waiting for their outcome to be written. */
  private readonly held = new Map<string, Attempt>();
  /** Claimed, leased, not started; by priority. Heartbeats and the reaper treat them as held. */
  private buffer: Attempt[] = [];
  private readonly maxPrefetch: number;
  private readonly prefetchWindowMs: number;
  /** Moving average of handler time, which sizes the prefetch buffer; unknown until a job finished. */
  private avgJobMs: number | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  /** Claims, pipelined on one session of their own. */
  private readonly claimLane: Lane;
  /** Completion writes, pipelined on another. */
  private readonly writeLane: Lane;
  private listener: Client | undefined;
  private listenerRetry: NodeJS.Timeout | undefined;
  private lockRetry: NodeJS.Timeout | undefined;
  private listenerFailures = 0;
  /** When the listener's session took the liveness lock; undefined while it does not hold it. */
  private lockSince: number | undefined;
  /** The listener has lost its session at least once: peers may be reconnecting too. */
  private reconnected = false;
  private wanted = false;
  /**
   * The last claim found fewer runnable jobs than it asked for. A slot freeing
   * up then claims nothing new; a notification, the poll or a listener
   * reconnect looks again.
   */
  private drained = false;
  /** Counts {@link look}s: a claim that comes back short only proves the queue drained if none came while it ran. */
  private looks = 0;
  private looping = false;
  private claimsInFlight = 0;
  /** Settles when the first claim is answered (or fails). */
  private readonly firstClaim: Promise<void>;
  private firstClaimAnswered!: () => void;
  /** Jobs asked for by the claims in flight. */
  private requested = 0;
  private claimFailures = 0;
  private claimBackoffUntil = 0;
  private stopped = false;
  /** Set when shutdown gives up on the database; pending writes stop retrying. */
  private abandoned = false;
  private lastTick = Date.now();
  /** Successes waiting to be written; writes in flight gather the next batch. */
  private completions: Completion[] = [];
  private flushScheduled = false;
  private flushesInFlight = 0;
  private releasing = false;
  private readonly env: AttemptEnv;
  /** Aborts an attempt that outran JOB_TIMEOUT; one function for all timers. */
  private readonly timeOut: (a: Attempt) => void;
  private dbUp = false;

  constructor(private readonly opts: WorkerOptions) {
    this.queue = new JobQueue(opts.pool);
    this.firstClaim = new Promise<void>((resolve) => (this.firstClaimAnswered = resolve));
    this.containerId = opts.containerId ?? `${os.hostname()}-${process.pid}`;
    this.workerId = opts.workerId ?? `${this.containerId}/${randomBytes(4).toString("hex")}`;
    this.concurrency = opts.concurrency ?? 4;
    this.maxPrefetch = opts.prefetch ?? 1000;
    this.prefetchWindowMs = opts.prefetchWindowMs ?? 250;
    this.leaseSeconds = opts.leaseSeconds ?? 30;
    this.jobTimeoutMs = opts.jobTimeoutMs ?? 300_000;
    this.heartbeatMs = opts.heartbeatIntervalMs ?? (this.leaseSeconds * 1000) / 6;
    this.pollMs = opts.pollIntervalMs ?? 1000;
    this.reapMs = opts.reapIntervalMs ?? 2000;
    this.settleMs = opts.reconnectSettleMs ?? 5000;
    this.log = (opts.logger ?? pino({ level: "silent" })).child({ jobType: opts.handler.type, workerId: this.workerId });
    this.env = { log: this.log, store: opts.store, workRoot: opts.workRoot ?? os.tmpdir(), metrics: opts.metrics };
    const timeoutMs = this.jobTimeoutMs;
    this.timeOut = (a) => a.abort(new JobTimeoutError(timeoutMs));
    const lane = (role: string, setup: readonly string[] = []) =>
      new Lane(
        {
          connectionString: opts.databaseUrl,
          application_name: `${role} ${this.workerId}`.slice(0, 63),
          keepAlive: true,
          connectionTimeoutMillis: 5000,
          // A server that stops answering fails the statements in flight (and the session) instead of hanging them.
          query_timeout: 30_000,
        },
        setup,
      );
    this.claimLane = lane("claims", CLAIM_SESSION_SETTINGS);
    this.writeLane = lane("writes");
  }

  get type() {
    return this.opts.handler.type;
  }

  /** Jobs in flight. */
  get active(): number {
    return this.running.size;
  }

  /** The claim loop ran recently (liveness; independent of the database). */
  isAlive(maxSilenceMs = Math.max(30_000, 5 * this.pollMs)): boolean {
    return !this.stopped && Date.now() - this.lastTick < maxSilenceMs;
  }

  /** The last database round trip succeeded. */
  get databaseReachable(): boolean {
    return this.dbUp;
  }

  async start(): Promise<void> {
    // The first claim goes out before the listener connects: nothing is held yet, and what it claims carries a
    // fresh heartbeat, far from looking abandoned before the liveness lock is taken. The first jobs wait for
    // the claim lane's session alone; the other two sessions' handshakes (an authentication and a backend
    // each) would compete with it for the CPU, so they start once the first claim is answered, or after a
    // second without an answer. The listener looks once more after LISTEN, so a job submitted in between is
    // not left to the poll.
    this.wake();
    await Promise.race([this.firstClaim, deadline(1000)]);
    this.writeLane.warm();
    // Without the database the worker still starts; the listener and the claim loop retry on their own.
    await this.connectListener().catch(() => undefined);
    this.timers.push(setInterval(() => this.look(), this.pollMs));
    this.timers.push(setInterval(() => void this.heartbeat(), this.heartbeatMs));
    this.timers.push(setInterval(() => void this.reap(), this.reapMs));
    this.log.info({ concurrency: this.concurrency, leaseSeconds: this.leaseSeconds }, "worker started");
    this.wake();
  }

  /**
   * Stops claiming at once, waits up to `graceMs` for running jobs, then
   * aborts the rest and releases them to pending.
   */
  async stop(graceMs = 25_000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.log.info({ inFlight: this.running.size, graceMs }, "draining");
    for (const t of this.timers) clearInterval(t);
    // A claim already sent must land in the buffer before we hand it back.
    while (this.claimsInFlight > 0) await sleep(5);
    const handedBack = this.releaseBuffered();
    const handlersDone = () => until(() => this.running.size === 0);
    // Held jobs are running ones and finished ones whose outcome is not written yet.
    const outcomesWritten = () => until(() => this.held.size === 0);
    const heartbeats = setInterval(() => void this.heartbeat(), this.heartbeatMs);
    try {
      const finished = await Promise.race([handlersDone().then(() => true), deadline(graceMs)]);
      if (!finished) {
        for (const a of this.running.values()) a.abort(new ShutdownError());
      }
      // Writing outcomes needs the database; give it a short while, then leave the rest to lease expiry.
      const written = await Promise.race([Promise.all([outcomesWritten(), handedBack]).then(() => true), deadline(5000)]);
      if (!written) this.abandoned = true;
    } finally {
      clearInterval(heartbeats);
      clearTimeout(this.listenerRetry);
      clearTimeout(this.lockRetry);
      const l = this.listener;
      this.listener = undefined;
      await Promise.all([l?.end().catch(() => undefined), this.claimLane.end(), this.writeLane.end()]);
    }
    this.log.info("worker stopped");
  }

  /** Something may have become runnable: claim even if the last claim came back short. */
  private look(): void {
    this.looks++;
    this.drained = false;
    this.wake();
  }

  private wake(): void {
    this.wanted = true;
    if (this.looping || this.stopped) return;
    // Deferred a turn so slots freed together are claimed in one query.
    this.looping = true;
    setImmediate(() => this.loop());
  }

  /** Jobs to keep buffered beyond the free slots: `prefetchWindowMs` of work at the observed pace. */
  private prefetchTarget(): number {
    if (this.maxPrefetch === 0 || this.avgJobMs === undefined) return 0;
    return Math.min(this.maxPrefetch, Math.floor((this.concurrency * this.prefetchWindowMs) / Math.max(this.avgJobMs, 0.01)));
  }

  /**
   * How many to claim now, or 0: free slots with nothing buffered or on its
   * way, or a buffer (counting claims in flight) a quarter below its target.
   */
  private claimSize(): number {
    const free = this.concurrency - this.running.size;
    const target = this.prefetchTarget();
    const have = this.buffer.length + this.requested;
    const want = free + target - have;
    if (want <= 0) return 0;
    if (have < free) return Math.min(want, CLAIM_BATCH);
    // Refill early, so the next batch arrives before the buffer runs dry.
    return have - free < (target * 3) / 4 ? Math.min(want, CLAIM_BATCH) : 0;
  }

  /**
   * Starts buffered jobs while slots are free and the outcomes not yet written
   * stay below a bound: when the database falls behind, the worker slows down
   * instead of piling up finished jobs a crash would make run again.
   */
  private dispatch(): void {
    while (
      !this.stopped &&
      this.running.size < this.concurrency &&
      this.buffer.length > 0 &&
      this.held.size - this.running.size < MAX_UNWRITTEN_OUTCOMES
    ) {
      this.begin(this.buffer.shift()!);
    }
  }

  private loop(): void {
    try {
      while (this.wanted && !this.stopped) {
        this.wanted = false;
        this.lastTick = Date.now();
        this.dispatch();
        // A claim in flight, or the back-off after a failed one, wakes the loop when it ends.
        if (this.claimsInFlight >= CLAIMS_IN_FLIGHT || Date.now() < this.claimBackoffUntil) break;
        const limit = this.claimSize();
        if (limit <= 0) break;
        void this.claimBatch(limit);
        // Room for a second claim while the first is on its way.
        this.wanted = true;
      }
    } finally {
      this.looping = false;
    }
  }

  /**
   * One claim. Several may be in flight: while one waits for its commit, the
   * others are already taking the next rows (SKIP LOCKED keeps them disjoint).
   */
  private async claimBatch(limit: number): Promise<void> {
    this.claimsInFlight++;
    this.requested += limit;
    let jobs: ClaimedJob[] = [];
    let failed = false;
    const looks = this.looks;
    try {
      jobs = await this.queue.claim(this.type, this.workerId, this.containerId, limit, this.leaseSeconds, this.claimLane);
      this.dbUp = true;
      this.claimFailures = 0;
    } catch (err) {
      failed = true;
      this.dbUp = false;
      this.claimFailures++;
      const delay = Math.min(5000, 100 * 2 ** Math.min(this.claimFailures, 6));
      this.claimBackoffUntil = Date.now() + delay;
      this.log.warn({ err: describe(err), failures: this.claimFailures }, "claim failed; retrying");
      setTimeout(() => this.wake(), delay).unref();
    } finally {
      this.claimsInFlight--;
      this.requested -= limit;
      this.firstClaimAnswered();
    }
    // A short claim means nothing more is runnable now: the slots that free up next do not ask again. Unless
    // a notification came while it ran: the job it announced may have committed after the claim looked.
    const lookedSince = looks !== this.looks;
    if (!failed) this.drained = jobs.length < limit && !lookedSince;
    if (!failed && jobs.length < limit && lookedSince) this.wake();
    if (jobs.length > 0) {
      const now = Date.now();
      const deadline = now + this.leaseSeconds * 1000;
      const merge = this.buffer.length > 0;
      for (const job of jobs) {
        const a = new Attempt(job, now, this.env);
        a.leaseDeadline = deadline;
        this.buffer.push(a);
      }
      // Each claim comes sorted; a stable sort merges it into what is buffered by priority.
      if (merge) this.buffer.sort(byPriority);
    }
    if (this.stopped) {
      // Jobs handed to us while a stop was starting go straight back.
      if (this.buffer.length > 0 && !this.releasing) void this.releaseBuffered();
      return;
    }
    this.dispatch();
    // A full batch suggests more are waiting. Anything less means the queue is drained for now: the next
    // claim waits for a notification or the poll (never a loop of empty claims as the last jobs finish).
    if (jobs.length === limit) this.wake();
  }

  private begin(a: Attempt): void {
    const job = a.job;
    this.opts.onClaim?.(job);
    const m = this.opts.metrics;
    if (m) {
      m.claimLatency.observe({ type: job.type }, job.waitSeconds + (Date.now() - a.claimedAt) / 1000);
      m.jobsActive.inc({ type: job.type });
    }
    a.running = true;
    this.running.set(job.id, a);
    this.held.set(job.id, a);
    // The slot is freed when the handler is done, not when its outcome is
    // written, so the next job overlaps the write instead of queueing behind it;
    // the job stays held (heartbeats renew its lease) until the outcome is written.
    this.execute(a).catch((err: unknown) => {
      this.log.error({ err: describe(err), jobId: job.id }, "attempt failed inside the worker; leaving the job to lease expiry");
      this.free(a);
      this.settle(a, "lost");
    });
  }

  /** Frees the attempt's slot: the next buffered job starts at once, and the claim loop tops the buffer up behind it. */
  private free(a: Attempt): void {
    if (!a.running) return;
    a.running = false;
    this.running.delete(a.job.id);
    this.opts.metrics?.jobsActive.dec({ type: a.job.type });
    this.dispatch();
    if (!this.drained && this.claimSize() > 0) this.wake();
  }

  /** The outcome is written (or given up on): the job is no longer held. */
  private settle(a: Attempt, outcome: Outcome): void {
    if (!this.held.delete(a.job.id)) return;
    const type = a.job.type;
    const m = this.opts.metrics;
    if (outcome === "lost") {
      m?.staleCompletions.inc({ type });
      a.logger.warn("outcome discarded: lease lost to another worker");
    } else if (outcome !== "released") {
      m?.jobsTotal.inc({ type, status: outcome === "pending" ? "failed" : outcome });
    }
    this.opts.onSettled?.(a.job, outcome);
    // An outcome written may be what the next buffered job was waiting for.
    if (this.buffer.length > 0) this.dispatch();
  }

  /** Gives every buffered (never started) job back at once, without using an attempt. */
  private async releaseBuffered(): Promise<void> {
    this.releasing = true;
    try {
      while (this.buffer.length > 0) {
        const batch = this.buffer.splice(0);
        const released = await this.persist(() => this.queue.releaseMany(this.workerId, batch.map((b) => b.job)));
        const n = released === "lost" ? 0 : released;
        this.log.info({ released: n, of: batch.length }, "unstarted jobs handed back");
      }
    } finally {
      this.releasing = false;
    }
  }

  private async execute(a: Attempt): Promise<void> {
    const job = a.job;
    const started = process.hrtime.bigint();
    const timer = setTimeout(this.timeOut, this.jobTimeoutMs, a);
    let result: unknown;
    let error: unknown;
    let ok = false;
    if (this.log.isLevelEnabled("debug")) a.logger.debug({ maxAttempts: job.maxAttempts }, "job started");
    try {
      const parsed = this.opts.handler.payloadSchema.safeParse(job.payload);
      if (!parsed.success) throw new PermanentJobError(`Payload no longer valid: ${parsed.error.message}`);
      result = await a.run(this.opts.handler.run(parsed.data, a));
      ok = true;
    } catch (err) {
      error = err;
    } finally {
      clearTimeout(timer);
      const dir = a.madeWorkDir;
      if (dir) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
    const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
    // The buffer is sized by how long a slot stays busy, waits included.
    this.avgJobMs = this.avgJobMs === undefined ? elapsed * 1000 : this.avgJobMs * 0.9 + elapsed * 100;
    this.free(a);
    // Waiting for a shared resource is not the job's work: it is left out of duration and cost.
    const seconds = Math.max(0, elapsed - a.waited);
    const cost = seconds * (this.opts.costPerSecondUsd ?? 0);
    const m = this.opts.metrics;
    if (m) {
      m.jobDuration.observe({ type: job.type }, seconds);
      m.jobCost.inc({ type: job.type }, cost);
    }
    if (ok) this.recordCompletion({ attempt: a, job, result, durationSeconds: seconds, costUsd: cost });
    else await this.recordFailure(a, error, seconds, cost);
  }

  /** Writes a failed attempt's outcome: released on shutdown, dropped when the lease was lost, else retried or ended. */
  private async recordFailure(a: Attempt, error: unknown, seconds: number, cost: number): Promise<void> {
    const job = a.job;
    const m = this.opts.metrics;
    let outcome: Outcome;
    try {
      if (error instanceof ShutdownError || a.reason instanceof ShutdownError) {
        outcome = (await this.persist(() => this.queue.release(job, this.workerId))) === true ? "released" : "lost";
        a.logger.info("job released on shutdown");
      } else if (error instanceof LeaseLostError) {
        outcome = "lost";
      } else {
        const permanent = error instanceof PermanentJobError;
        const delay = retryDelayMs(job.attempt, this.opts.backoff);
        outcome = await this.persist(() => this.queue.fail(job, this.workerId, describe(error), seconds, cost, delay, permanent));
        if (outcome === "pending") {
          m?.retries.inc({ type: job.type });
          a.logger.warn({ err: describe(error), retryInMs: delay }, "job failed; will retry");
        } else if (outcome === "dead") {
          m?.deadJobs.inc({ type: job.type });
          a.logger.error({ err: describe(error) }, "job failed for the last time; dead-lettered");
        } else if (outcome === "failed") {
          a.logger.error({ err: describe(error) }, "job failed permanently");
        }
      }
    } catch (err) {
      // Not storable even as a failure: the lease runs out and the reaper retries the job.
      a.logger.error({ err: describe(err) }, "could not record the outcome; leaving the job to lease expiry");
      outcome = "lost";
    }
    this.settle(a, outcome);
  }

  private recordCompletion(c: Completion): void {
    this.completions.push(c);
    // Deferred a turn so jobs finishing together share one write.
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushNow);
    }
  }

  private readonly flushNow = () => {
    this.flushScheduled = false;
    this.flushCompletions();
  };

  /**
   * Group commit: completions that arrive while writes are in flight go out
   * together in the next one. A few writes may be in flight at once: they
   * touch disjoint rows, and the server flushes their commits to the WAL
   * together, so the commit wait no longer serialises completions. Batches
   * are kept to a fraction of the bound on unwritten outcomes, so jobs keep
   * running while earlier batches are on their way.
   */
  private flushCompletions(): void {
    while (this.completions.length > 0 && this.flushesInFlight < COMPLETION_WRITES_IN_FLIGHT) {
      // While a write is on its way, a partial batch waits for it and grows: fewer, fuller writes, each a
      // statement and a commit less. With none in flight it goes at once, so a lone job's outcome never waits.
      if (this.flushesInFlight > 0 && this.completions.length < COMPLETION_BATCH) break;
      const batch = this.completions.splice(0, COMPLETION_BATCH);
      this.flushesInFlight++;
      void this.writeCompletions(batch).finally(() => {
        this.flushesInFlight--;
        this.flushCompletions();
      });
    }
  }

  private async writeCompletions(batch: Completion[]): Promise<void> {
    let owned: Set<string> | "lost";
    try {
      owned = await this.persist((retried) => this.queue.completeMany(this.workerId, batch, retried, this.writeLane));
    } catch {
      // One unstorable result (e.g. a NUL character jsonb refuses) must not sink the others.
      for (const c of batch) {
        try {
          const one = await this.persist((retried) => this.queue.completeMany(this.workerId, [c], retried, this.writeLane));
          this.completed(c, one === "lost" ? false : one.has(c.attempt.job.id));
        } catch (err) {
          const reason = err instanceof Error ? err.message : String(err);
          await this.recordFailure(c.attempt, new PermanentJobError(`Result could not be stored: ${reason}`), c.durationSeconds, c.costUsd);
        }
      }
      return;
    }
    for (const c of batch) this.completed(c, owned === "lost" ? false : owned.has(c.attempt.job.id));
  }

  private completed(c: Completion, owned: boolean): void {
    if (owned && this.log.isLevelEnabled("info")) c.attempt.logger.info({ seconds: c.durationSeconds, costUsd: c.costUsd }, "job completed");
    this.settle(c.attempt, owned ? "completed" : "lost");
  }

  /**
   * Retries a fenced write through database outages; fencing makes a late
   * write harmless. `write` is told when it is a retry: a try that failed on
   * the way back may have committed. Errors that retrying cannot fix are thrown.
   */
  private async persist<T>(write: (retried: boolean) => Promise<T>): Promise<T | "lost"> {
    for (let failures = 0; ; failures++) {
      try {
        const out = await write(failures > 0);
        this.dbUp = true;
        return out;
      } catch (err) {
        if (!isTransient(err)) throw err;
        this.dbUp = false;
        if (this.abandoned) return "lost";
        this.log.warn({ err: describe(err), failures }, "recording outcome failed; retrying");
        await sleep(Math.min(5000, 100 * 2 ** Math.min(failures, 6)));
      }
    }
  }

  private async heartbeat(db?: Queryable): Promise<void> {
    if (this.held.size === 0 && this.buffer.length === 0) return;
    const entries = [...this.held.values()];
    const buffered = [...this.buffer];
    const sentAt = Date.now();
    try {
      const owned = await this.queue.heartbeat(
        this.workerId,
        [
          ...entries.map((r) => ({ id: r.job.id, attempt: r.job.attempt, progress: r.fraction, message: r.message })),
          ...buffered.map((b) => ({ id: b.job.id, attempt: b.job.attempt, progress: null, message: null })),
        ],
        this.leaseSeconds,
        db,
      );
      this.dbUp = true;
      const renewedUntil = sentAt + this.leaseSeconds * 1000;
      for (const b of buffered) b.leaseDeadline = renewedUntil;
      // Only what this heartbeat asked about: jobs claimed since are not in its answer.
      const asked = new Set(buffered);
      this.dropBuffered((b) => asked.has(b) && !owned.has(b.job.id));
      for (const r of entries) {
        if (owned.has(r.job.id)) r.leaseDeadline = renewedUntil;
        else if (r.running && !r.reason) {
          this.log.warn({ jobId: r.job.id }, "lease lost; aborting job");
          r.abort(new LeaseLostError());
        }
      }
    } catch (err) {
      if (db) throw err;
      this.dbUp = false;
      this.log.warn({ err: describe(err) }, "heartbeat failed");
      // Past its lease another worker may already run the job; stop spending on it.
      // Not started, and maybe taken by a peer by now: never start them here.
      this.dropBuffered((b) => Date.now() > b.leaseDeadline);
      for (const r of entries) {
        if (r.running && Date.now() > r.leaseDeadline && !r.reason) r.abort(new LeaseLostError());
      }
    }
  }

  private dropBuffered(lost: (b: Attempt) => boolean): void {
    const before = this.buffer.length;
    this.buffer = this.buffer.filter((b) => !lost(b));
    if (this.buffer.length < before) this.log.warn({ dropped: before - this.buffer.length }, "lease lost on buffered jobs; dropped unstarted");
  }

  /**
   * Whether a missing liveness lock may be read as a dead worker: this
   * worker's own session holds its lock, and has held it long enough since an
   * outage for every live peer to have re-taken theirs.
   */
  private trustLocks(): boolean {
    if (this.lockSince === undefined) return false;
    return !this.reconnected || Date.now() - this.lockSince >= this.settleMs;
  }

  private async reap(): Promise<void> {
    try {
      const reaped = await this.queue.reap(this.workerId, [...this.held.keys(), ...this.buffer.map((b) => b.job.id)], {
        trustLocks: this.trustLocks(),
        settleSeconds: this.settleMs / 1000,
      });
      for (const j of reaped) {
        this.opts.metrics?.leaseExpiries.inc({ type: j.type });
        if (j.status === "dead") this.opts.metrics?.deadJobs.inc({ type: j.type });
        this.log.warn({ jobId: j.id, jobType: j.type, status: j.status }, "reclaimed job from lost worker");
      }
    } catch (err) {
      this.log.debug({ err: describe(err) }, "reap failed");
    }
  }

  /**
   * Held for the session's life: the reaper's evidence that this worker is
   * alive. After a network blip our previous session may still hold it until
   * the server notices it is gone; keep asking until this session has it.
   */
  private async takeLivenessLock(client: Client): Promise<void> {
    const { rows } = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok", [
      LIVENESS_LOCK_NAMESPACE,
      this.workerId,
    ]);
    if (this.listener !== client) return;
    if (rows[0]?.ok) {
      this.lockSince = Date.now();
      return;
    }
    this.lockRetry = setTimeout(() => void this.takeLivenessLock(client).catch(() => undefined), 500);
  }

  private async connectListener(): Promise<void> {
    const client = new Client({
      connectionString: this.opts.databaseUrl,
      application_name: this.workerId.slice(0, 63),
      keepAlive: true,
    });
    const retry = (err?: unknown) => {
      if (this.listener !== client) return;
      this.listener = undefined;
      this.lockSince = undefined;
      this.reconnected = true;
      this.dbUp = false;
      clearTimeout(this.lockRetry);
      client.end().catch(() => undefined);
      if (this.stopped) return;
      this.listenerFailures++;
      // At most ~2 s apart, so after an outage every live worker holds its lock again well within the settle time.
      const delay = Math.min(2000, 100 * 2 ** Math.min(this.listenerFailures, 6)) * (0.5 + Math.random() / 2);
      this.log.warn({ err: err ? describe(err) : "connection ended", retryInMs: Math.round(delay) }, "listener lost; reconnecting");
      this.listenerRetry = setTimeout(() => void this.connectListener().catch(() => undefined), delay);
    };
    this.listener = client;
    client.on("error", retry);
    client.on("end", () => retry());
    client.on("notification", () => this.look());
    try {
      await client.connect();
      // If this node vanishes without closing the socket, the server notices within ~11 s
      // (keepalives while idle, the user timeout while sending a notification)
      // and drops the session, and with it the liveness lock below.
      await client.query(
        "SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 3; SET tcp_user_timeout = 10000",
      );
      // Renew what we hold before the liveness lock says we are back: a peer that
      // sees our lock must also see leases that have not run out during the outage.
      // The first connection follows claims made a moment ago, whose leases are fresh.
      if (this.reconnected) await this.heartbeat(client);
      await client.query(`LISTEN container_jobs_${this.type}`);
      await this.takeLivenessLock(client);
      this.listenerFailures = 0;
      this.dbUp = true;
      // Notifications sent while we were away are lost; look once.
      this.look();
    } catch (err) {
      retry(err);
      throw err;
    }
  }
}

const byPriority = (a: Attempt, b: Attempt) => a.job.priority - b.job.priority;

/**
 * Resolves once `done()` holds; for shutdown, where a few milliseconds of
 * polling cost nothing. Its timer keeps no process alive that would otherwise
 * exit, like the promises it stands for.
 */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise<void>((resolve) => setTimeout(resolve, 5).unref());
}
