import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { z } from "zod";
import type { JobContext, JobHandler } from "../../runtime/types";
import { Semaphore } from "../util";
import { SANDBOX_WORKER_SOURCE } from "./sandbox-worker";

/** Limits in the range of Judge0 and Piston defaults. */
export const CODE_LIMITS = {
  timeoutMs: { default: 5_000, max: 10_000 },
  memoryMb: { default: 128, max: 128 },
  maxOutputBytes: { default: 64 * 1024, max: 64 * 1024 },
  sourceBytes: 64 * 1024,
  inputBytes: 256 * 1024,
  stackBytes: 512 * 1024,
  /** The WebAssembly memory may exceed the program's limit by this much (QuickJS's own tables and stack). */
  wasmHeadroomBytes: 32 * 1024 * 1024,
} as const;

export const codePayloadSchema = z.object({
  /** A script (not a module); the value of its last expression is the job's value. */
  source: z.string().min(1).max(CODE_LIMITS.sourceBytes),
  /** JSON visible to the program as the global `input`. */
  input: z
    .json()
    .optional()
    .refine((v) => v === undefined || JSON.stringify(v).length <= CODE_LIMITS.inputBytes, `input must serialise to at most ${CODE_LIMITS.inputBytes} bytes`),
  timeoutMs: z.number().int().min(10).max(CODE_LIMITS.timeoutMs.max).default(CODE_LIMITS.timeoutMs.default),
  memoryMb: z.number().int().min(4).max(CODE_LIMITS.memoryMb.max).default(CODE_LIMITS.memoryMb.default),
  maxOutputBytes: z.number().int().min(256).max(CODE_LIMITS.maxOutputBytes.max).default(CODE_LIMITS.maxOutputBytes.default),
});
export type CodePayload = z.infer<typeof codePayloadSchema>;

export type CodeStatus = "ok" | "error" | "timeout" | "memory-limit" | "stack-overflow" | "output-limit";

export interface CodeResult {
  status: CodeStatus;
  value?: unknown;
  error?: { name: string; message: string };
  console: Array<{ level: string; text: string }>;
  usage: { wallMs: number; memoryBytes: number; outputBytes: number };
  /** Where the full result JSON is stored. */
  resultUrl: string;
}

/**
 * Grace past the in-sandbox deadline before the host kills the thread itself: QuickJS polls its interrupt
 * handler only every few thousand operations, so a loop of slow built-in calls can overrun the deadline.
 */
const HOST_GRACE_MS = 750;
const SANDBOX_STARTUP_MS = 15_000;

// One sandbox per core at most: a flood of jobs queues here instead of starving the worker's own threads.
const sandboxes = new Semaphore(Number(process.env.CODE_MAX_SANDBOXES) || Math.max(1, availableParallelism()));

type SandboxReply = Omit<CodeResult, "resultUrl">;

function runSandbox(payload: CodePayload, signal: AbortSignal): Promise<SandboxReply> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const worker = new Worker(SANDBOX_WORKER_SOURCE, {
      eval: true,
      workerData: {
        quickjsPath: require.resolve("quickjs-emscripten"),
        source: payload.source,
        inputJson: JSON.stringify(payload.input ?? null),
        timeoutMs: payload.timeoutMs,
        memoryBytes: payload.memoryMb * 1024 * 1024,
        maxOutputBytes: payload.maxOutputBytes,
        stackBytes: CODE_LIMITS.stackBytes,
        wasmHeadroomBytes: CODE_LIMITS.wasmHeadroomBytes,
      },
      // Bounds the thread's own JS heap (console lines, the dumped value); QuickJS's heap is bounded inside.
      resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 },
      stdout: true,
      stderr: true,
      env: {},
    });
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(killer);
      clearTimeout(startup);
      signal.removeEventListener("abort", onAbort);
      void worker.terminate();
      fn();
    };
    let killer: NodeJS.Timeout | undefined;
    let programStarted = started;
    const armKiller = () => {
      programStarted = Date.now();
      killer = setTimeout(
        () =>
          finish(() =>
            resolve({
              status: "timeout",
              error: { name: "TimeoutError", message: `the program exceeded its ${payload.timeoutMs} ms wall-time limit` },
              console: [],
              usage: { wallMs: Date.now() - programStarted, memoryBytes: 0, outputBytes: 0 },
            }),
          ),
        payload.timeoutMs + HOST_GRACE_MS,
      );
    };
    // Loading QuickJS is the host's cost, not the program's; it only has to finish eventually.
    const startup = setTimeout(
      () => finish(() => reject(new Error(`the sandbox did not start within ${SANDBOX_STARTUP_MS} ms`))),
      SANDBOX_STARTUP_MS,
    );
    const onAbort = () => finish(() => reject(signal.reason ?? new Error("aborted")));
    signal.addEventListener("abort", onAbort, { once: true });
    worker.on("message", (msg: { kind: "started" } | ({ kind: "result" } & SandboxReply)) => {
      if (msg.kind === "started") {
        clearTimeout(startup);
        armKiller();
        return;
      }
      const { kind: _kind, ...reply } = msg;
      finish(() => resolve(reply));
    });
    worker.once("error", (err) =>
      finish(() =>
        resolve({
          status: /memory/i.test(String(err.message)) ? "memory-limit" : "error",
          error: { name: "SandboxError", message: `the sandbox thread failed: ${err.message}` },
          console: [],
          usage: { wallMs: Date.now() - started, memoryBytes: 0, outputBytes: 0 },
        }),
      ),
    );
    worker.once("exit", (code) =>
      finish(() => reject(new Error(`the sandbox thread exited with code ${code} before answering`))),
    );
  });
}

export const codeHandler: JobHandler<CodePayload, CodeResult> = {
  type: "code",
  payloadSchema: codePayloadSchema as z.ZodType<CodePayload>,
  async run(payload, ctx: JobContext) {
    const p = codePayloadSchema.parse(payload);
    const release = await sandboxes.acquire(ctx.signal);
    let reply: SandboxReply;
    try {
      ctx.progress(0.1, "running in sandbox");
      reply = await runSandbox(p, ctx.signal);
    } finally {
      release();
    }
    const stored = await ctx.store.put(`code/${ctx.jobId}/result.json`, Buffer.from(JSON.stringify(reply)), "application/json");
    ctx.progress(1, reply.status);
    ctx.logger.info({ status: reply.status, usage: reply.usage }, "code job finished");
    return { ...reply, resultUrl: stored.url };
  },
};
