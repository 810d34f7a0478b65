import { z } from "zod";
import type { HandlerRegistry, JobHandler, ResultStore } from "../src/runtime/types";

/** A store the test handlers never touch; its use would be a test bug. */
export const unusedStore: ResultStore = {
  put: () => Promise.reject(new Error("store not used in tests")),
  fetchToFile: () => Promise.reject(new Error("store not used in tests")),
};

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(t);
      reject(signal.reason);
    });
  });

export const TestPayload = z.object({
  n: z.number().int(),
  sleepMs: z.number().int().min(0).default(0),
  /** Throw on every attempt. */
  poison: z.boolean().default(false),
  /** Ignore the abort signal while sleeping. */
  ignoreAbort: z.boolean().default(false),
});
export type TestPayload = z.infer<typeof TestPayload>;

/**
 * A handler for the `code` type that doubles `n` after sleeping, so a result
 * proves which payload produced it; `attempt` shows which attempt won.
 */
export function doublingHandler(hooks: { onRun?: (p: TestPayload, jobId: string, attempt: number, signal: AbortSignal) => void } = {}): JobHandler<TestPayload, { doubled: number; attempt: number }> {
  return {
    type: "code",
    payloadSchema: TestPayload as z.ZodType<TestPayload>,
    async run(p, ctx) {
      hooks.onRun?.(p, ctx.jobId, ctx.attempt, ctx.signal);
      if (p.poison) throw new Error(`poison ${p.n}`);
      ctx.progress(0.5, "halfway");
      if (p.sleepMs) await sleep(p.sleepMs, p.ignoreAbort ? undefined : ctx.signal);
      return { doubled: p.n * 2, attempt: ctx.attempt };
    },
  };
}

export const testHandlers = (h = doublingHandler()): HandlerRegistry => ({ code: h });

export async function waitFor<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
