import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { Worker } from "node:worker_threads";
import { Semaphore } from "../util";
import { SANDBOX_WORKER_SOURCE } from "./sandbox-worker";

/** What one job asks of a sandbox thread. */
export interface SandboxJob {
  readonly source: string;
  readonly inputJson: string;
  readonly timeoutMs: number;
  readonly memoryBytes: number;
  readonly maxOutputBytes: number;
  readonly maxConsoleLines: number;
  readonly stackBytes: number;
  readonly wasmHeadroomBytes: number;
}

export type SandboxStatus = "ok" | "error" | "timeout" | "memory-limit" | "stack-overflow" | "output-limit";

/** A thread's answer; the value is JSON text so that no depth of nesting can break the copy. */
export interface SandboxReply {
  status: SandboxStatus;
  valueJson?: string;
  error?: { name: string; message: string };
  console: Array<{ level: string; text: string }>;
  usage: { wallMs: number; memoryBytes: number; outputBytes: number };
}

interface ThreadReply extends SandboxReply {
  /** The job's linear memory grew past the module's minimum: retire the thread so its garbage cannot pile up. */
  grewMemory?: boolean;
  /** The thread's own code failed; it is not trusted with another job. */
  broken?: boolean;
}

/** V8 heap limits of a sandbox thread (console lines, the value's JSON, the QuickJS glue); QuickJS's heap is the WebAssembly memory. */
export const SANDBOX_THREAD_LIMITS = { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8, stackSizeMb: 4 } as const;

/**
 * Grace past the in-sandbox deadline before the host kills the thread itself: QuickJS polls its interrupt
 * handler only every few thousand operations, so a loop of slow built-in calls can overrun the deadline.
 */
const HOST_GRACE_MS = 750;
const SANDBOX_STARTUP_MS = 15_000;
/** A thread is replaced after this many jobs, so nothing that builds up slowly in its V8 heap can matter. */
const JOBS_PER_THREAD = 5_000;

/** A compiled WebAssembly.Module (the project's type libraries do not declare WebAssembly). */
type WasmModule = object;
const wasm = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<WasmModule> } }).WebAssembly;

let compiled: Promise<WasmModule> | undefined;
/** The QuickJS WebAssembly module, compiled once per process and shared by every thread. */
function quickjsModule(): Promise<WasmModule> {
  // The variant's own package, found from quickjs-emscripten so the binary always matches the glue code.
  const wasmPath = require.resolve("@jitl/quickjs-wasmfile-release-sync/wasm", { paths: [dirname(require.resolve("quickjs-emscripten"))] });
  compiled ??= readFile(wasmPath).then((bytes) => wasm.compile(bytes));
  compiled.catch(() => (compiled = undefined));
  return compiled;
}

class SandboxThread {
  readonly ready: Promise<void>;
  private readonly worker: Worker;
  private dead = false;
  private jobs = 0;
  private current: ((msg: { kind: string; reply?: ThreadReply }) => void) | undefined;
  private onExit: ((err: Error) => void) | undefined;

  constructor(module: WasmModule) {
    this.worker = new Worker(SANDBOX_WORKER_SOURCE, {
      eval: true,
      workerData: { quickjsPath: require.resolve("quickjs-emscripten"), wasmModule: module },
      resourceLimits: SANDBOX_THREAD_LIMITS,
      stdout: true,
      stderr: true,
      env: {},
    });
    // An idle pool does not keep the process alive; a job in flight is held by its caller.
    this.worker.unref();
    // A thread that dies is never reused; a job in flight hears about it through `onExit`.
    this.worker.on("error", (err) => this.fail(err));
    this.worker.on("exit", (code) => this.fail(new Error(`the sandbox thread exited with code ${code}`)));
    this.worker.on("message", (msg: { kind: string; reply?: ThreadReply }) => this.current?.(msg));
    this.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`the sandbox did not start within ${SANDBOX_STARTUP_MS} ms`));
        this.kill();
      }, SANDBOX_STARTUP_MS);
      this.current = (msg) => {
        if (msg.kind !== "ready") return;
        clearTimeout(timer);
        this.current = undefined;
        resolve();
      };
      this.onExit = (err) => {
        clearTimeout(timer);
        reject(err);
      };
    });
    this.ready.catch(() => undefined);
  }

  /** Fit for another job. */
  get usable(): boolean {
    return !this.dead && this.jobs < JOBS_PER_THREAD;
  }

  kill(): void {
    if (this.dead) return;
    this.dead = true;
    void this.worker.terminate();
  }

  private fail(err: Error): void {
    this.dead = true;
    const onExit = this.onExit;
    this.onExit = undefined;
    onExit?.(err);
  }

  /** Runs one job; any overrun, abort or failure kills the thread (the pool replaces it). */
  run(job: SandboxJob, signal: AbortSignal): Promise<SandboxReply> {
    this.jobs++;
    return new Promise<SandboxReply>((resolve, reject) => {
      let settled = false;
      let killer: NodeJS.Timeout | undefined;
      let programStarted = Date.now();
      const startup = setTimeout(() => {
        this.kill();
        finish(() => reject(new Error(`the sandbox did not start the program within ${SANDBOX_STARTUP_MS} ms`)));
      }, SANDBOX_STARTUP_MS);
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(killer);
        clearTimeout(startup);
        signal.removeEventListener("abort", onAbort);
        this.current = undefined;
        this.onExit = undefined;
        fn();
      };
      const onAbort = () => {
        this.kill();
        finish(() => reject(signal.reason ?? new Error("aborted")));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      this.onExit = (err) =>
        finish(() =>
          resolve({
            status: /memory/i.test(err.message) ? "memory-limit" : "error",
            error: { name: "SandboxError", message: `the sandbox thread failed: ${err.message}` },
            console: [],
            usage: { wallMs: Date.now() - programStarted, memoryBytes: 0, outputBytes: 0 },
          }),
        );
      this.current = (msg) => {
        if (msg.kind === "started") {
          clearTimeout(startup);
          programStarted = Date.now();
          killer = setTimeout(() => {
            this.kill();
            finish(() =>
              resolve({
                status: "timeout",
                error: { name: "TimeoutError", message: `the program exceeded its ${job.timeoutMs} ms wall-time limit` },
                console: [],
                usage: { wallMs: Date.now() - programStarted, memoryBytes: 0, outputBytes: 0 },
              }),
            );
          }, job.timeoutMs + HOST_GRACE_MS);
          return;
        }
        if (msg.kind !== "result" || !msg.reply) return;
        const { grewMemory, broken, ...reply } = msg.reply;
        // A program that overran its time or memory, or grew the linear memory at all, retires the thread: its
        // garbage is not left to pile up, and nothing of a runaway can linger into the next job.
        if (grewMemory || broken || reply.status === "timeout" || reply.status === "memory-limit") this.kill();
        finish(() => resolve(reply));
      };
      this.worker.postMessage({ kind: "run", job });
    });
  }
}

function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason ?? new Error("aborted"));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason ?? new Error("aborted"));
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

/**
 * A fixed number of warm sandbox threads. A job waits for a free one (the wait is reported separately from
 * the run), gets a fresh QuickJS instance in it, and gives the thread back only if the program ended cleanly
 * within its limits; otherwise the thread is killed and a new one started in its place.
 */
export class SandboxPool {
  private readonly slots: Semaphore;
  /** One entry per slot not in use: a thread, ready or starting. */
  private readonly idle: Array<Promise<SandboxThread>> = [];
  private closed = false;
  /** Threads started over the pool's life (warm-up and replacements). */
  threadsStarted = 0;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`sandbox count must be a positive integer, got ${size}`);
    this.slots = new Semaphore(size);
  }

  private spawn(): Promise<SandboxThread> {
    this.threadsStarted++;
    const t = quickjsModule().then(async (module) => {
      const thread = new SandboxThread(module);
      await thread.ready;
      return thread;
    });
    t.catch(() => undefined);
    return t;
  }

  /** Starts every thread and waits until they are ready. */
  async warm(): Promise<void> {
    while (this.idle.length < this.size) this.idle.push(this.spawn());
    await Promise.all(this.idle);
  }

  /**
   * Runs `job` on a free thread. `onWaited` hears how long the job waited for one (a free slot and a ready
   * thread) before the program was handed over.
   */
  async run(job: SandboxJob, signal: AbortSignal, onWaited?: (seconds: number) => void): Promise<SandboxReply> {
    if (this.closed) throw new Error("the sandbox pool is closed");
    const waitStarted = process.hrtime.bigint();
    const release = await this.slots.acquire(signal);
    let next = this.idle.pop() ?? this.spawn();
    let thread: SandboxThread | undefined;
    try {
      try {
        thread = await untilAborted(next, signal);
      } catch (err) {
        if (signal.aborted) throw err;
        // A thread that failed to start is replaced once; a second failure is the job's error.
        next = this.spawn();
        thread = await untilAborted(next, signal);
      }
      onWaited?.(Number(process.hrtime.bigint() - waitStarted) / 1e9);
      return await thread.run(job, signal);
    } finally {
      // A thread still starting goes back as it is; a spent one is replaced now, while the slot is free, so
      // the next job finds its replacement warm.
      if (this.closed) thread?.kill();
      else if (!thread) this.idle.push(next.catch(() => this.spawn()));
      else if (thread.usable) this.idle.push(Promise.resolve(thread));
      else {
        thread.kill();
        this.idle.push(this.spawn());
      }
      release();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const threads = await Promise.allSettled(this.idle.splice(0));
    for (const t of threads) if (t.status === "fulfilled") t.value.kill();
  }
}
