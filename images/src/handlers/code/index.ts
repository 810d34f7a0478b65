import { z } from "zod";
import { findJsonProblem, isStorableText } from "../../runtime/request";
import type { JobContext, JobHandler } from "../../runtime/types";
import { type CodeSandboxBudget, codeSandboxBudget } from "./budget";
import { CODE_LIMITS } from "./limits";
import { type SandboxJob, type SandboxReply, SandboxPool, type SandboxStatus } from "./pool";

export { CODE_LIMITS } from "./limits";
export { codeSandboxBudget } from "./budget";

const utf8Bytes = (s: string) => Buffer.byteLength(s, "utf8");

export const codePayloadSchema = z.strictObject({
  /** A script (not a module); the value of its last expression is the job's value. */
  source: z
    .string()
    .min(1)
    .refine((s) => utf8Bytes(s) <= CODE_LIMITS.sourceBytes, `source must be at most ${CODE_LIMITS.sourceBytes} bytes of UTF-8`),
  /** JSON visible to the program as the global `input`. */
  input: z
    .json()
    .optional()
    .refine((v) => v === undefined || utf8Bytes(JSON.stringify(v)) <= CODE_LIMITS.inputBytes, `input must serialise to at most ${CODE_LIMITS.inputBytes} bytes`),
  timeoutMs: z.number().int().min(10).max(CODE_LIMITS.timeoutMs.max).default(CODE_LIMITS.timeoutMs.default),
  memoryMb: z.number().int().min(4).max(CODE_LIMITS.memoryMb.max).default(CODE_LIMITS.memoryMb.default),
  maxOutputBytes: z.number().int().min(256).max(CODE_LIMITS.maxOutputBytes.max).default(CODE_LIMITS.maxOutputBytes.default),
});
export type CodePayload = z.infer<typeof codePayloadSchema>;

export type CodeStatus = SandboxStatus;

/**
 * Stored inline in the job (`container_jobs.result`); nothing goes to the object store. Bounded by the output
 * budget: at most 64 KiB of text across console and value, 10,000 console lines, so well under 1 MiB as JSON.
 * A string PostgreSQL cannot hold (U+0000, an unpaired surrogate) is stored JSON-escaped, marked `escaped`;
 * a value holding one, or nested deeper than {@link RESULT_MAX_DEPTH}, is stored as its JSON text, `valueJson`.
 */
export interface CodeResult {
  status: CodeStatus;
  value?: unknown;
  valueJson?: string;
  error?: { name: string; message: string; escaped?: true };
  console: Array<{ level: string; text: string; escaped?: true }>;
  usage: { wallMs: number; memoryBytes: number; outputBytes: number };
}

/** Deepest value stored as structured JSON; deeper values are kept as their JSON text. */
export const RESULT_MAX_DEPTH = 256;

/** `s` as the inside of a JSON string literal: `JSON.parse('"' + escaped + '"')` gives `s` back. */
const escape = (s: string) => JSON.stringify(s).slice(1, -1);

/** The sandbox's reply in a form PostgreSQL stores whatever the program printed or returned. */
export function storableResult(reply: SandboxReply): CodeResult {
  const result: CodeResult = {
    status: reply.status,
    console: reply.console.map((l) => (isStorableText(l.text) ? l : { level: l.level, text: escape(l.text), escaped: true as const })),
    usage: reply.usage,
  };
  if (reply.valueJson !== undefined) {
    const value: unknown = JSON.parse(reply.valueJson);
    if (findJsonProblem(value, RESULT_MAX_DEPTH) === undefined) result.value = value;
    else result.valueJson = reply.valueJson;
  }
  if (reply.error) {
    const { name, message } = reply.error;
    result.error = isStorableText(name) && isStorableText(message) ? { name, message } : { name: escape(name), message: escape(message), escaped: true };
  }
  return result;
}

function positiveIntFromEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return n;
}

/**
 * The sandbox budget for this container from its environment: `CPU_LIMIT_MILLICORES` and `MEMORY_LIMIT_BYTES`
 * (the pod's limits, set through the downward API) and `MAX_CONCURRENT_JOBS`. Outside a pod, without a CPU limit,
 * one sandbox.
 */
export function sandboxBudgetFromEnv(env: NodeJS.ProcessEnv = process.env): CodeSandboxBudget {
  return codeSandboxBudget({
    cpuLimitMillicores: positiveIntFromEnv(env, "CPU_LIMIT_MILLICORES") ?? 1000,
    memoryLimitBytes: positiveIntFromEnv(env, "MEMORY_LIMIT_BYTES"),
    maxConcurrentJobs: positiveIntFromEnv(env, "MAX_CONCURRENT_JOBS") ?? 4,
  });
}

export interface CodeHandlerOptions {
  /** Sandbox threads; default from {@link sandboxBudgetFromEnv}. */
  readonly sandboxes?: number;
}

export type CodeHandler = JobHandler<CodePayload, CodeResult> & { readonly budget: () => CodeSandboxBudget | undefined };

export function createCodeHandler(opts: CodeHandlerOptions = {}): CodeHandler {
  let pool: SandboxPool | undefined;
  let budget: CodeSandboxBudget | undefined;
  const getPool = () => {
    if (!pool) {
      if (opts.sandboxes === undefined) budget = sandboxBudgetFromEnv();
      pool = new SandboxPool(opts.sandboxes ?? budget!.sandboxes);
    }
    return pool;
  };
  return {
    type: "code",
    payloadSchema: codePayloadSchema as z.ZodType<CodePayload>,
    maxRequestBytes: CODE_LIMITS.requestBytes,
    // Results are stored inline in the job: the sandboxed pod has no route to an object store.
    usesStore: false,
    budget: () => budget,
    async warmup() {
      await getPool().warm();
    },
    async run(payload, ctx: JobContext) {
      const p = codePayloadSchema.parse(payload);
      const job: SandboxJob = {
        source: p.source,
        inputJson: JSON.stringify(p.input ?? null),
        timeoutMs: p.timeoutMs,
        memoryBytes: p.memoryMb * 1024 * 1024,
        maxOutputBytes: p.maxOutputBytes,
        maxConsoleLines: CODE_LIMITS.consoleLines,
        stackBytes: CODE_LIMITS.stackBytes,
        wasmHeadroomBytes: CODE_LIMITS.wasmHeadroomBytes,
      };
      ctx.progress(0.05, "waiting for a sandbox");
      const reply = await getPool().run(job, ctx.signal, (seconds) => {
        ctx.recordWait?.(seconds);
        ctx.progress(0.1, "running in sandbox");
      });
      const result = storableResult(reply);
      ctx.progress(1, reply.status);
      ctx.logger.info({ status: reply.status, usage: reply.usage }, "code job finished");
      return result;
    },
    async close() {
      await pool?.close();
      pool = undefined;
    },
  };
}

export const codeHandler = createCodeHandler();
